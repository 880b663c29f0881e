import t from 'tap'
import {
  deadlineTickMs, invalidSpecMessage, mustWriteStatus, needsRouterRebuild, nextLookAt, RESYNC_MS, runTransition, SETTLE_MS,
  specLints, statusAfterDecision, withIntervalFloor, withInvalidSpec, withoutInvalidSpec,
} from '../../../../src/controller/machine/reconcile-rules.ts'
import type { Action } from '../../../../src/controller/machine/types.ts'
import type { Canary, CanarySpec, CanaryStatus } from '../../../../src/api/types.ts'
import { later, NOW, progressing, spec, status } from './fixtures.ts'

const canary = (s: CanarySpec = spec(), st?: CanaryStatus): Canary => ({
  apiVersion: 'sluice.dev/v1beta1', kind: 'Canary',
  metadata: { name: 'podinfo', namespace: 'apps', generation: 3, resourceVersion: '41' },
  spec: s, ...(st && { status: st }),
})

t.test('the interval floor raises a shorter interval and leaves a longer one as it is', async t => {
  const short = canary(spec({ interval: '1s' }))
  t.equal(withIntervalFloor(short, 5_000).spec.analysis?.interval, '5s')
  t.equal(short.spec.analysis?.interval, '1s', 'the Canary as read is not changed')
  const long = canary(spec({ interval: '1m' }))
  t.equal(withIntervalFloor(long, 5_000), long, 'the same object when nothing is raised')
})

t.test('a runnable spec has no InvalidSpec message; one this version cannot run says why and what to do', async t => {
  t.equal(invalidSpecMessage(canary(), false), undefined)
  const kuma = canary(spec({}, { provider: 'kuma' }))
  const message = invalidSpecMessage(kuma, false) ?? ''
  t.match(message, /kuma/)
  t.match(message, /nothing is done until the Canary is fixed$/)
  t.match(invalidSpecMessage(kuma, true) ?? '', /podinfo runs no pods until then \(or until sluice.dev\/strategy is removed\)$/)
})

t.test('the spec is linted once per Canary and generation', async t => {
  const lints = specLints()
  const kuma = canary(spec({}, { provider: 'kuma' }))
  const first = lints.problems(kuma)
  t.match(first.join(), /kuma/)
  // The same uid and generation mean the same spec: the answer kept is given (even for a spec made up here).
  t.equal(lints.problems({ ...kuma, spec: spec() }), first, 'kept for the same generation')
  const fixed = { ...canary(), metadata: { ...kuma.metadata, generation: 4 } }
  t.same(lints.problems(fixed), [], 'a new generation is linted again')
  t.match(lints.problems({ ...kuma, metadata: { ...kuma.metadata, generation: 4, uid: 'another' } }).join(), /kuma/, 'a Canary recreated under the same name is linted again')
  lints.forget('apps/podinfo')
  t.not(lints.problems(kuma), first, 'forgotten: linted again')
  const noGeneration = { ...kuma, metadata: { name: 'x', namespace: 'apps' } }
  t.not(lints.problems(noGeneration), lints.problems(noGeneration), 'nothing kept without a generation')
})

t.test('the InvalidSpec condition is added once, keeps its first transition time, and leaves with the fix', async t => {
  const first = withInvalidSpec(progressing(), 'bad provider', NOW)
  const cond = first.conditions?.find(c => c.type === 'InvalidSpec')
  t.match(cond, { status: 'True', reason: 'InvalidSpec', message: 'bad provider', lastTransitionTime: NOW.toISOString() })
  t.equal(withInvalidSpec(first, 'bad provider', later(60)), first, 'unchanged message: the same status, no write')
  const changed = withInvalidSpec(first, 'another problem', later(60))
  t.equal(changed.conditions?.find(c => c.type === 'InvalidSpec')?.lastTransitionTime, NOW.toISOString())
  t.equal(changed.conditions?.filter(c => c.type === 'InvalidSpec').length, 1)
  const fixed = withoutInvalidSpec(changed)
  t.notOk(fixed.conditions?.some(c => c.type === 'InvalidSpec'))
  t.ok(fixed.conditions?.some(c => c.type === 'Promoted'), 'the other conditions stay')
  t.same(withoutInvalidSpec(withInvalidSpec({ phase: 'Initializing' }, 'x', NOW)), { phase: 'Initializing' }, 'no empty conditions list is left')
})

t.test('the status after a decision: the generation decided from, trackedConfigs afresh, no InvalidSpec', async t => {
  const decided = withInvalidSpec({ ...progressing(), trackedConfigs: { 'configmap/old': 'a' } }, 'was bad', NOW)
  const after = statusAfterDecision(decided, 3, { 'configmap/new': 'b' })
  t.same(after.trackedConfigs, { 'configmap/new': 'b' })
  t.equal(after.observedGeneration, 3)
  t.notOk(after.conditions?.some(c => c.type === 'InvalidSpec'))
  const none = statusAfterDecision(decided, undefined, {})
  t.notOk('trackedConfigs' in none, 'a config no longer used leaves the status')
  t.notOk('observedGeneration' in none)
})

t.test('the status is written when it changed, or when there are actions to confirm', async t => {
  const before = status('Progressing', { canaryWeight: 20 })
  const event: Action = { kind: 'event', type: 'Normal', reason: 'CanaryNotReady', message: 'm', onceEvery: 10_000 }
  const scale: Action = { kind: 'scale', workload: 'canary', replicas: 1 }
  const alertAction: Action = { kind: 'alert', severity: 'warn', message: 'm' }
  t.notOk(mustWriteStatus(before, structuredClone(before), []))
  t.ok(mustWriteStatus(before, { ...before, canaryWeight: 40 }, []))
  t.ok(mustWriteStatus(before, structuredClone(before), [scale]), 'an action that changes the cluster is confirmed')
  t.ok(mustWriteStatus(before, structuredClone(before), [event, alertAction]), 'an alert is confirmed: a stale one would reach people twice')
  t.notOk(mustWriteStatus(before, structuredClone(before), [event]), 'an Event alone is not: it changes nothing')
  t.notOk(mustWriteStatus(before, structuredClone(before), [event, event]))
  t.ok(mustWriteStatus(before, { ...before, canaryWeight: 40 }, [event]), 'a changed status is written with its Event')
  // What the API server stores and what the machine builds may differ in form only: no write for that.
  const bare: CanaryStatus = { phase: 'Progressing', canaryWeight: 20 }
  t.notOk(mustWriteStatus({ ...bare, conditions: [] }, bare, []), 'an empty list and an absent one')
  t.notOk(mustWriteStatus({ canaryWeight: 20, phase: 'Progressing' }, bare, []), 'keys in another order')
  t.ok(mustWriteStatus({ ...bare, conditions: [] }, { ...bare, canaryWeight: 0 }, []), 'a zero is a value')
})

t.test('a route action rebuilds the router objects when they are missing or the spec changed since the last build', async t => {
  t.ok(needsRouterRebuild(false, 3, 3), 'not found')
  t.ok(needsRouterRebuild(true, undefined, 3), 'never built by this process')
  t.ok(needsRouterRebuild(true, 2, 3), 'spec changed')
  t.notOk(needsRouterRebuild(true, 3, 3), 'weights only')
})

t.test('the next look: soon after acting, at the next interval otherwise, and never later than the resync', async t => {
  const running = canary(spec({ interval: '1m' }), progressing({ progressAgo: 0 }))
  const route: Action = { kind: 'route', weights: { primary: 80, canary: 20 } }
  const event: Action = { kind: 'event', type: 'Normal', reason: 'Synced', message: 'm' }
  t.equal(nextLookAt(NOW, running, [route]).getTime(), NOW.getTime() + SETTLE_MS)
  t.equal(nextLookAt(NOW, running, [event]).getTime(), NOW.getTime() + 60_000, 'an Event needs no settling: the next interval')
  const due = canary(spec({ interval: '1m' }), progressing({ progressAgo: 90 }))
  t.equal(nextLookAt(NOW, due, [route]).getTime(), NOW.getTime() + SETTLE_MS, 'a tick not taken, after acting: soon')
  const wait: Action = { kind: 'event', type: 'Normal', reason: 'CanaryNotReady', message: 'm', onceEvery: 60_000 }
  t.equal(nextLookAt(NOW, due, [wait]).getTime(), NOW.getTime() + 60_000, 'a tick not taken, only waiting: an interval on, never at once (no spin)')
  t.equal(nextLookAt(NOW, due, []).getTime(), NOW.getTime() + 60_000, 'nor with nothing to do')
  const idle = canary(spec(), status('Succeeded'))
  t.equal(nextLookAt(NOW, idle, []).getTime(), NOW.getTime() + RESYNC_MS)
})

t.test('a weight step taken at its tick is looked at again at the next tick, not soon after', async t => {
  const stepped = canary(spec({ interval: '1m' }), progressing({ progressAgo: 0 }))
  const route: Action = { kind: 'route', weights: { primary: 60, canary: 40 } }
  const event: Action = { kind: 'event', type: 'Normal', reason: 'Progressing', message: 'Advance podinfo.apps canary weight 40' }
  const check: Action = { kind: 'check', stage: 'metrics' }
  t.equal(nextLookAt(NOW, stepped, [route, event], 'Progressing').getTime(), NOW.getTime() + 60_000, 'routes and an Event, same phase: the next tick')
  t.equal(nextLookAt(NOW, stepped, [check, route], 'Progressing').getTime(), NOW.getTime() + 60_000, 'after the checks too')
  t.equal(nextLookAt(NOW, stepped, [route], 'Initialized').getTime(), NOW.getTime() + SETTLE_MS, 'a run that starts moves phase: soon')
  t.equal(nextLookAt(NOW, stepped, [route]).getTime(), NOW.getTime() + SETTLE_MS, 'a phase before unknown: soon')
  const scale: Action = { kind: 'scale', workload: 'canary', replicas: 2 }
  t.equal(nextLookAt(NOW, stepped, [route, scale], 'Progressing').getTime(), NOW.getTime() + SETTLE_MS, 'besides a scale: soon')
  const due = canary(spec({ interval: '1m' }), progressing({ progressAgo: 90 }))
  t.equal(nextLookAt(NOW, due, [route], 'Progressing').getTime(), NOW.getTime() + SETTLE_MS, 'a route put right while the tick waits (drift): soon')
})

t.test('a run starts on entering a running phase and ends on Succeeded or Failed', async t => {
  t.equal(runTransition('Initialized', 'Progressing'), 'start')
  t.equal(runTransition(undefined, 'Progressing'), 'start')
  t.equal(runTransition('Progressing', 'Promoting'), undefined, 'still running')
  t.equal(runTransition('Finalising', 'Succeeded'), 'succeeded')
  t.equal(runTransition('Progressing', 'Failed'), 'failed')
  t.equal(runTransition('Failed', 'Failed'), undefined, 'no phase change, no end')
  t.equal(runTransition('Succeeded', 'Initialized'), undefined)
})

t.test('the deadline the telemetry shows is the first tick at or after it, when the controller can act on it', async t => {
  t.equal(deadlineTickMs(1_000, 600_000, 60_000), 601_000, 'a deadline of whole intervals: the deadline itself')
  t.equal(deadlineTickMs(1_000, 600_000, 7_000), 1_000 + 86 * 7_000, 'otherwise the tick after it')
  t.equal(deadlineTickMs(1_000, 600_000, 3_600_000), 3_601_000, 'an interval longer than the deadline: the next tick, not 10 min after progress')
})
