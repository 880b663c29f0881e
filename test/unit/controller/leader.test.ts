// The election decision, without a cluster: who acquires, renews, waits or has lost, and with which spec.
import t from 'tap'
import { checkTimings, decide, leaseExpiry, leaseSeconds, type LeaseInput, type LeaseRecord } from '../../../src/controller/leader.ts'

const now = new Date('2026-05-01T12:00:00.000Z')
const ago = (s: number): Date => new Date(now.getTime() - s * 1000)
const base = { now, identity: 'me', leaseDurationMs: 15_000, leading: false }
const input = (lease: LeaseRecord | undefined, extra: Partial<LeaseInput> = {}): LeaseInput => ({ ...base, lease, ...extra })

t.test('no Lease: acquire with a fresh record', async t => {
  const d = decide(input(undefined))
  t.same(d, {
    action: 'acquire', takeover: false,
    spec: { holderIdentity: 'me', leaseDurationSeconds: 15, acquireTime: now, renewTime: now, leaseTransitions: 0 },
  })
})

t.test('a Lease already ours (a restarted process): acquire, keeping acquireTime and transitions', async t => {
  const lease = { holderIdentity: 'me', leaseDurationSeconds: 15, acquireTime: ago(100), renewTime: ago(3), leaseTransitions: 4 }
  const d = decide(input(lease))
  t.equal(d.action, 'acquire')
  if (d.action !== 'acquire') return
  t.equal(d.takeover, false)
  t.same(d.spec.acquireTime, ago(100))
  t.same(d.spec.renewTime, now)
  t.equal(d.spec.leaseTransitions, 4)
})

t.test('a live Lease of another holder: wait until it expires', async t => {
  const lease = { holderIdentity: 'other', leaseDurationSeconds: 15, renewTime: ago(5), leaseTransitions: 2 }
  t.same(decide(input(lease)), { action: 'wait', holder: 'other', expiresAt: new Date(now.getTime() + 10_000) })
})

t.test('an expired Lease: take over, counting a transition', async t => {
  const lease = { holderIdentity: 'other', leaseDurationSeconds: 15, acquireTime: ago(300), renewTime: ago(16), leaseTransitions: 2 }
  const d = decide(input(lease))
  t.equal(d.action, 'acquire')
  if (d.action !== 'acquire') return
  t.equal(d.takeover, true)
  t.same(d.spec, { holderIdentity: 'me', leaseDurationSeconds: 15, acquireTime: now, renewTime: now, leaseTransitions: 3 })
})

t.test('expiry is exact: at renewTime + duration the lease is free', async t => {
  t.equal(decide(input({ holderIdentity: 'other', leaseDurationSeconds: 15, renewTime: ago(15) })).action, 'acquire')
  t.equal(decide(input({ holderIdentity: 'other', leaseDurationSeconds: 15, renewTime: new Date(now.getTime() - 14_999) })).action, 'wait')
})

t.test("the holder's duration counts, not ours", async t => {
  const lease = { holderIdentity: 'other', leaseDurationSeconds: 60, renewTime: ago(30) }
  t.equal(decide(input(lease)).action, 'wait', '60 s lease renewed 30 s ago is live even though ours is 15 s')
  t.equal(decide(input({ holderIdentity: 'other', renewTime: ago(16) })).action, 'acquire', 'no stored duration: ours applies')
})

t.test('a released Lease (no holder) is taken at once', async t => {
  const lease = { holderIdentity: '', leaseDurationSeconds: 1, renewTime: now, acquireTime: now, leaseTransitions: 7 }
  const d = decide(input(lease))
  t.equal(d.action, 'acquire')
  if (d.action === 'acquire') t.equal(d.spec.leaseTransitions, 8)
  t.equal(decide(input({ holderIdentity: null, renewTime: now })).action, 'acquire', 'a null holder is no holder')
})

t.test('times stored as strings (client-node leaves MicroTime undecoded) are read', async t => {
  const lease = { holderIdentity: 'other', leaseDurationSeconds: 15, renewTime: '2026-05-01T11:59:55.000000Z' }
  t.same(decide(input(lease)), { action: 'wait', holder: 'other', expiresAt: new Date(now.getTime() + 10_000) })
  t.equal(decide(input({ holderIdentity: 'other', renewTime: 'garbage' })).action, 'acquire', 'an unreadable time is no renewal')
})

t.test('observedAt: a candidate whose clock runs ahead cannot steal a live lease', async t => {
  // By renewTime the lease expired 5 s ago, but this elector saw the record change only 2 s ago.
  const lease = { holderIdentity: 'other', leaseDurationSeconds: 15, renewTime: ago(20) }
  t.same(decide(input(lease, { observedAt: ago(2) })), { action: 'wait', holder: 'other', expiresAt: new Date(now.getTime() + 13_000) })
  t.equal(decide(input(lease, { observedAt: ago(15) })).action, 'acquire', 'unchanged for a whole lease duration: expired')
  t.equal(decide(input({ holderIdentity: 'other', renewTime: ago(5) }, { observedAt: ago(60) })).action, 'wait', 'a later renewTime wins over an old observation')
})

t.test('a leader renews its own lease, keeping acquireTime and transitions', async t => {
  const lease = { holderIdentity: 'me', leaseDurationSeconds: 15, acquireTime: ago(600), renewTime: ago(2), leaseTransitions: 1 }
  t.same(decide(input(lease, { leading: true })), {
    action: 'renew',
    spec: { holderIdentity: 'me', leaseDurationSeconds: 15, acquireTime: ago(600), renewTime: now, leaseTransitions: 1 },
  })
})

t.test('a leader that sees another holder has lost, even if that lease looks expired', async t => {
  const d = decide(input({ holderIdentity: 'intruder', leaseDurationSeconds: 15, renewTime: ago(100) }, { leading: true }))
  t.equal(d.action, 'lost')
  if (d.action === 'lost') t.match(d.reason, /held by intruder/)
})

t.test('a leader whose Lease was released or deleted by someone else has lost', async t => {
  const released = decide(input({ holderIdentity: '', renewTime: now }, { leading: true }))
  t.equal(released.action, 'lost')
  if (released.action === 'lost') t.match(released.reason, /released/)
  const deleted = decide(input(undefined, { leading: true }))
  t.equal(deleted.action, 'lost')
  if (deleted.action === 'lost') t.match(deleted.reason, /deleted/)
})

t.test('lease durations are whole seconds, rounded up', async t => {
  t.equal(leaseSeconds(15_000), 15)
  t.equal(leaseSeconds(1_500), 2)
  t.equal(leaseSeconds(10), 1)
  const d = decide(input(undefined, { leaseDurationMs: 2_500 }))
  if (d.action === 'acquire') t.equal(d.spec.leaseDurationSeconds, 3, 'the written duration is rounded up too')
  else t.fail(`expected acquire, got ${d.action}`)
})

t.test('leaseExpiry falls back to acquireTime when there is no renewTime', async t => {
  t.same(leaseExpiry({ leaseDurationSeconds: 10, acquireTime: ago(4) }, 15_000), new Date(now.getTime() + 6_000))
  t.same(leaseExpiry({}, 15_000), new Date(15_000), 'no time at all: long expired')
})

t.test('timings must let a leader stop before its lease can expire', async t => {
  t.doesNotThrow(() => checkTimings({ leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 }))
  t.throws(() => checkTimings({ leaseDurationMs: 10_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 }), /leaseDuration .* must be longer than renewDeadline/)
  t.throws(() => checkTimings({ leaseDurationMs: 15_000, renewDeadlineMs: 2_000, retryPeriodMs: 2_000 }), /renewDeadline .* must be longer than retryPeriod/)
  t.throws(() => checkTimings({ leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 0 }), /retryPeriodMs must be a positive/)
  t.throws(() => checkTimings({ leaseDurationMs: Number.NaN, renewDeadlineMs: 10_000, retryPeriodMs: 1 }), /leaseDurationMs must be a positive/)
})
