import t from 'tap'
import { X509Certificate } from 'node:crypto'
import { pino } from 'pino'
import { createCertificateManager } from '../../../src/certs/manager.ts'
import type { CertificateManagerOptions } from '../../../src/certs/manager.ts'
import { servingNames } from '../../../src/certs/names.ts'
import { splitPemBundle } from '../../../src/certs/inspect.ts'
import type { KeyPairPem } from '../../../src/certs/pki.ts'
import type { CertificateSet, RotationPolicy } from '../../../src/certs/rotation.ts'
import type { CertificateStore, StoredCertificates } from '../../../src/certs/store.ts'
import type { CaBundleSink, CaBundleWrite } from '../../../src/certs/webhooks.ts'

const silent = pino({ level: 'silent' })
const policy: RotationPolicy = { caLifetimeSeconds: 900, caRenewBeforeSeconds: 300, servingLifetimeSeconds: 300, servingRenewBeforeSeconds: 120, overlapSeconds: 30 }
const names = servingNames({ service: 'sluice-webhook', namespace: 'sluice-system', extraIpAddresses: ['127.0.0.1'] })
const T0 = Date.parse('2026-03-01T00:00:00Z')
const noWait = { sleep: async () => {} }

class ConflictError extends Error {
  code = 409
  body = JSON.stringify({ kind: 'Status', reason: 'Conflict', message: 'the object has been modified', code: 409 })
}

/** A Secret's semantics: create fails if present, update fails if the version moved. */
class MemoryStore implements CertificateStore {
  stored: StoredCertificates | undefined
  saves = 0
  version = 0
  beforeSave?: () => void
  async load() { return this.stored }
  async save(set: CertificateSet, resourceVersion: string | undefined) {
    this.beforeSave?.()
    if (resourceVersion !== this.stored?.resourceVersion) throw new ConflictError()
    this.saves++
    this.stored = { set, resourceVersion: String(++this.version) }
  }
}

class MemorySink implements CaBundleSink {
  bundles: string[] = []
  async write(bundlePem: string): Promise<CaBundleWrite> {
    const changed = this.bundles.at(-1) !== bundlePem
    if (changed) this.bundles.push(bundlePem)
    return { updated: changed ? ['mutatingwebhookconfiguration/sluice'] : [], unchanged: changed ? [] : ['mutatingwebhookconfiguration/sluice'], missing: [] }
  }
}

function clock(startSeconds = 0) {
  let s = startSeconds
  return { now: () => new Date(T0 + s * 1000), set: (to: number) => { s = to } }
}

function manager(store: CertificateStore, extra: Partial<CertificateManagerOptions> = {}) {
  return createCertificateManager({ store, names, policy, logger: silent, retry: noWait, ...extra })
}

const fp = (pem: string) => new X509Certificate(pem).fingerprint256

t.test('the first sync creates and stores the set and writes the bundle; the serving certificate is the baseline', async t => {
  const store = new MemoryStore()
  const sink = new MemorySink()
  const changes: KeyPairPem[] = []
  const c = clock()
  const m = manager(store, { sink, now: c.now, onServingChange: s => changes.push(s) })
  const set = await m.sync()
  t.equal(store.saves, 1)
  t.equal(m.current(), set)
  t.same(sink.bundles.map(b => splitPemBundle(b).map(fp)), [[fp(set.ca.certPem)]])
  t.equal(changes.length, 0, 'no change is reported for the first certificate')
  c.set(60)
  await m.sync()
  t.equal(store.saves, 1, 'a current set is not written again')
  t.equal(sink.bundles.length, 1, 'nor is its bundle')
})

t.test('a replica adopts the set another replica stored', async t => {
  const store = new MemoryStore()
  const c = clock()
  const first = await manager(store, { now: c.now }).sync()
  const second = await manager(store, { now: c.now }).sync()
  t.equal(fp(second.serving.certPem), fp(first.serving.certPem))
  t.equal(store.saves, 1)
})

t.test('a save that loses a race is retried from a fresh read, and the winner\'s set is used', async t => {
  const c = clock()
  const theirs = await manager(new MemoryStore(), { now: c.now }).sync()
  const store = new MemoryStore()
  store.beforeSave = () => {
    // Another replica stores its set between our read and our write.
    store.beforeSave = undefined
    store.stored = { set: theirs, resourceVersion: 'theirs' }
  }
  const ours = await manager(store, { now: c.now }).sync()
  t.equal(fp(ours.serving.certPem), fp(theirs.serving.certPem), 'the stored set wins')
  t.equal(store.saves, 0, 'nothing of ours was written')
})

t.test('two replicas starting at once end with one set', async t => {
  const store = new MemoryStore()
  const c = clock()
  const [a, b] = await Promise.all([manager(store, { now: c.now }).sync(), manager(store, { now: c.now }).sync()])
  t.equal(fp(a.serving.certPem), fp(b.serving.certPem))
  t.equal(fp(a.ca.certPem), fp(b.ca.certPem))
  t.equal(store.saves, 1)
})

t.test('renewal: the callback gets each new serving certificate; a CA rotation writes new + old CA first', async t => {
  const store = new MemoryStore()
  const sink = new MemorySink()
  const c = clock()
  const changes: string[] = []
  const m = manager(store, { sink, now: c.now, onServingChange: s => changes.push(fp(s.certPem)) })
  const first = await m.sync()
  c.set(180)
  const renewed = await m.sync()
  t.same(changes, [fp(renewed.serving.certPem)])
  t.equal(fp(renewed.ca.certPem), fp(first.ca.certPem), 'same CA')
  t.equal(sink.bundles.length, 1, 'the bundle did not change')
  c.set(360)
  await m.sync()
  c.set(540)
  await m.sync()
  t.equal(changes.length, 3)
  c.set(600)
  const rotated = await m.sync()
  t.same(splitPemBundle(sink.bundles.at(-1) ?? '').map(fp), [fp(rotated.ca.certPem), fp(first.ca.certPem)])
  t.equal(changes.length, 3, 'the serving certificate is kept at the rotation')
  c.set(630)
  await m.sync()
  t.equal(changes.length, 4, 'then replaced by one from the new CA')
  c.set(660)
  await m.sync()
  t.same(splitPemBundle(sink.bundles.at(-1) ?? '').map(fp), [fp(rotated.ca.certPem)], 'and the old CA leaves')
})

t.test('a failing reload is logged, the sync still succeeds', async t => {
  const store = new MemoryStore()
  const c = clock()
  const m = manager(store, { now: c.now, onServingChange: () => { throw new Error('key values mismatch') } })
  await m.sync()
  c.set(180)
  await t.resolves(m.sync())
})

t.test('errors other than conflicts reach the caller; a bad policy is refused at once', async t => {
  const broken: CertificateStore = { load: () => Promise.reject(new Error('connection refused')), save: () => Promise.resolve() }
  await t.rejects(manager(broken).sync(), /connection refused/)
  t.throws(() => manager(new MemoryStore(), { policy: { ...policy, overlapSeconds: -1 } }), /certificate rotation policy: overlapSeconds must not be negative/)
})

t.test('syncs are serialised', async t => {
  const store = new MemoryStore()
  let inFlight = 0
  let most = 0
  const tracked: CertificateStore = {
    load: async () => {
      inFlight++
      most = Math.max(most, inFlight)
      await new Promise(r => setTimeout(r, 5))
      inFlight--
      return store.load()
    },
    save: (set, v) => store.save(set, v),
  }
  const m = manager(tracked, { now: clock().now })
  await Promise.all([m.sync(), m.sync(), m.sync()])
  t.equal(most, 1, 'one at a time')
  t.equal(store.saves, 1, 'the later ones find the set current')
})

t.test('start() checks periodically until stop()', async t => {
  const store = new MemoryStore()
  const c = clock()
  const changes: string[] = []
  const m = manager(store, { now: c.now, checkIntervalMs: 5, onServingChange: s => changes.push(fp(s.certPem)) })
  await m.sync()
  c.set(200)
  m.start()
  t.teardown(() => m.stop())
  const deadline = Date.now() + 10_000
  while (changes.length === 0 && Date.now() < deadline) await new Promise(r => setTimeout(r, 5))
  t.equal(changes.length, 1, 'the due renewal happened without an explicit sync')
  m.stop()
})
