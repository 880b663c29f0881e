// The Event adapter of a release: what is written where, step Events off, and a wait's notice held to once an
// interval however often the reconciler decides it.
import t from 'tap'
import { pino } from 'pino'
import type { V1Deployment } from '@kubernetes/client-node'
import type { Canary } from '../../../src/api/types.ts'
import { createCanaryEvents, waitNoticeGate } from '../../../src/controller/canary-events.ts'
import type { ObjectReference } from '../../../src/controller/ports.ts'

const INTERVAL = 10_000

function harness(stepEvents?: boolean) {
  let clock = Date.parse('2026-12-05T10:00:00Z')
  const written: string[] = []
  const hooked: string[] = []
  const logged: { level: number; reason?: string }[] = []
  const log = pino({ level: 'debug' }, { write: (line: string) => { logged.push(JSON.parse(line) as { level: number; reason?: string }) } })
  const record = createCanaryEvents({
    recorder: { record: async (o: ObjectReference, type, reason) => { written.push(`${o.kind} ${type} ${reason}`) } },
    hooks: { event: (_c, type, reason) => { hooked.push(`${type} ${reason}`) } },
    log, now: () => new Date(clock), ...(stepEvents !== undefined && { stepEvents }),
  })
  return { record, written, hooked, logged, pass: (ms: number) => { clock += ms } }
}

const canary = (name = 'podinfo'): Canary => ({
  apiVersion: 'sluice.dev/v1beta1', kind: 'Canary', metadata: { name, namespace: 'shop', uid: `uid-${name}` },
  spec: { targetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name } },
} as Canary)
const target: V1Deployment = { metadata: { name: 'podinfo', namespace: 'shop', uid: 'uid-d' } }

t.test('a wait is recorded when it begins, then at most once an interval while it lasts', async t => {
  const h = harness()
  const c = canary()
  for (let i = 0; i < 4; i++) {
    await h.record(c, target, 'Normal', 'CanaryNotReady', `waiting: ${i} of 3 available`, INTERVAL)
    h.pass(2_000)
  }
  t.same(h.written, ['Canary Normal CanaryNotReady'], 'four looks within the interval: one Event')
  t.same(h.hooked, ['Normal CanaryNotReady'], 'and one call of the event webhooks')
  t.equal(h.logged.filter(l => l.reason === 'CanaryNotReady').length, 4, 'every look is still in the log')
  t.equal(h.logged.filter(l => l.reason === 'CanaryNotReady' && l.level === 30).length, 1, 'at info once, the held ones at debug')
  h.pass(2_000)
  await h.record(c, target, 'Normal', 'CanaryNotReady', 'waiting: 2 of 3 available', INTERVAL)
  t.equal(h.written.length, 2, 'an interval after the last one, the wait is recorded again')
})

t.test('a Warning wait goes to the Deployment too, held the same way', async t => {
  const h = harness()
  await h.record(canary(), target, 'Warning', 'PrimaryNotReady', 'promotion waits: 0 of 1', INTERVAL)
  await h.record(canary(), target, 'Warning', 'PrimaryNotReady', 'promotion waits: 0 of 1', INTERVAL)
  t.same(h.written.sort(), ['Canary Warning PrimaryNotReady', 'Deployment Warning PrimaryNotReady'])
})

t.test('waits are held per Canary and per reason; other Events are never held', async t => {
  const h = harness()
  await h.record(canary('a'), target, 'Normal', 'CanaryNotReady', 'm', INTERVAL)
  await h.record(canary('b'), target, 'Normal', 'CanaryNotReady', 'm', INTERVAL)
  await h.record(canary('a'), target, 'Normal', 'Suspended', 'm', INTERVAL)
  await h.record(canary('a'), target, 'Normal', 'Started', 'm')
  await h.record(canary('a'), target, 'Normal', 'Started', 'm')
  t.same(h.written, ['Canary Normal CanaryNotReady', 'Canary Normal CanaryNotReady', 'Canary Normal Suspended', 'Canary Normal Started', 'Canary Normal Started'])
})

t.test('with step Events off a step is logged and handed to the webhooks, not written', async t => {
  const h = harness(false)
  await h.record(canary(), target, 'Normal', 'Advanced', 'Advance podinfo canary weight 20')
  await h.record(canary(), target, 'Normal', 'Started', 'Starting canary analysis for podinfo')
  t.same(h.written, ['Canary Normal Started'])
  t.same(h.hooked, ['Normal Advanced', 'Normal Started'])
})

t.test('the gate remembers a bounded number of waits; a forgotten one is due again', async t => {
  let now = 0
  const due = waitNoticeGate(() => now, 2)
  t.ok(due('a', 1000))
  t.ok(due('b', 1000))
  t.notOk(due('a', 1000), 'a is remembered')
  t.ok(due('c', 1000), 'c pushes out the oldest, a')
  t.notOk(due('b', 1000))
  t.ok(due('a', 1000), 'a was forgotten: recorded again, early')
  now = 999
  t.notOk(due('c', 1000))
  now = 1000
  t.ok(due('c', 1000), 'due again once the interval has passed')
})
