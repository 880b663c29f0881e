// Whole releases, tick by tick, through a model of the adapters: the sequence of routes the users would see
// and the phases the status goes through. Every decision is also re-run to check that it never steps twice.
import t from 'tap'
import { advance } from '../../../../src/controller/machine/phases.ts'
import { planOf } from '../../../../src/api/timing.ts'
import type { Checker } from './fixtures.ts'
import {
  NEW, NOW, OLD, abTesting, allPass, blueGreen, failing, hook, hooks, noData, observe, ofKind, passing, perform, routes, run,
  spec, status, world,
} from './fixtures.ts'

const successRate = 'request-success-rate'
const done = (s: { phase?: string }): boolean => s.phase === 'Succeeded' || s.phase === 'Failed'
const canaryShares = (trace: { routes: Array<{ canary: number }> }): number[] => trace.routes.map(r => r.canary)

t.test('canary: 20, 40, 60, 80, 100, then promotion, Finalising, Succeeded', async t => {
  const trace = run(t, { spec: spec(), until: done })
  t.same(canaryShares(trace), [20, 40, 60, 80, 100, 0])
  t.same(trace.phases, ['Progressing', 'Promoting', 'Finalising', 'Succeeded'])
  t.same(ofKind(trace.actions, 'promote'), [{ kind: 'promote', revision: NEW }])
  t.equal(trace.status.lastPromotedSpec, NEW)
  t.equal(trace.world.canaryReplicas, 0)
  t.equal(trace.world.primary.revision, NEW)
  t.equal(trace.world.now.getTime() - NOW.getTime(), 7 * 60_000, 'scale-up, 5 steps, promote, finalise: 7 intervals')
})

t.test('stepWeights follow the ladder', async t => {
  const trace = run(t, { spec: spec({ stepWeight: undefined, stepWeights: [1, 2, 10, 80] }), until: done })
  t.same(canaryShares(trace), [1, 2, 10, 80, 0])
  t.equal(trace.status.phase, 'Succeeded')
})

t.test('stepWeight and maxWeight beside stepWeights (Flagger\'s shape) are ignored: the weights are exactly stepWeights', async t => {
  const trace = run(t, { spec: spec({ stepWeight: 5, maxWeight: 50, stepWeights: [1, 2, 10, 80] }), until: done })
  t.same(canaryShares(trace), [1, 2, 10, 80, 0], 'neither 5, 10, 15… (stepWeight) nor a stop at 50 (maxWeight)')
  t.equal(trace.status.phase, 'Succeeded')
})

t.test('the last step may overshoot maxWeight, as in Flagger (maxWeight 50, stepWeight 20)', async t => {
  const trace = run(t, { spec: spec({ maxWeight: 50 }), until: done })
  t.same(canaryShares(trace), [20, 40, 60, 0])
})

t.test('stepWeightPromotion hands traffic back in steps', async t => {
  const trace = run(t, { spec: spec({ maxWeight: 60, stepWeightPromotion: 30 }), until: done })
  t.same(canaryShares(trace), [20, 40, 60, 30, 0])
})

t.test('blue-green: iterations with no traffic, then all at once to the canary, then the primary', async t => {
  const trace = run(t, { spec: blueGreen(), status: status('Succeeded'), until: done })
  t.same(trace.routes, [routes(100), routes(0)])
  t.same(trace.phases, ['Progressing', 'Promoting', 'Finalising', 'Succeeded'])
  const iterations = trace.actions.filter(a => a.kind === 'event' && /iteration/.test(a.message)).map(a => a.kind === 'event' ? a.message : '')
  t.same(iterations, ['Advance podinfo canary iteration 1/3', 'Advance podinfo canary iteration 2/3', 'Advance podinfo canary iteration 3/3'])
})

t.test('blue-green with mirroring mirrors during the iterations', async t => {
  const trace = run(t, { spec: blueGreen({ mirror: true }), until: done })
  t.same(trace.routes, [routes(0, 100), routes(100), routes(0)])
})

t.test('A/B: matching requests go to the canary for the iterations, then promotion', async t => {
  const trace = run(t, { spec: abTesting(), until: done })
  t.same(trace.routes, [{ primary: 0, canary: 100 }, routes(0)])
  t.equal(trace.status.phase, 'Succeeded')
  t.equal(trace.status.canaryWeight, 0)
})

t.test('a bad version is rolled back after threshold failed checks', async t => {
  const bad: Checker = (stage, c) => stage === 'metrics' && (c.status?.canaryWeight ?? 0) >= 40 ? [failing(successRate, 42)] : allPass(stage, c)
  const trace = run(t, { spec: spec({ threshold: 2 }), checker: bad, until: done })
  t.same(canaryShares(trace), [20, 40, 0])
  t.equal(trace.status.phase, 'Failed')
  t.equal(trace.status.failedChecks, 2)
  t.equal(trace.world.canaryReplicas, 0)
  t.same(ofKind(trace.actions, 'promote'), [])
  t.match(ofKind(trace.actions, 'alert').map(a => a.message), [/New revision/, /^Failed checks threshold reached 2/])
})

t.test('Prometheus unreachable during analysis: the canary holds, says so, is never promoted, and rolls back at the deadline', async t => {
  const trace = run(t, { spec: spec(), until: done, extra: () => ({ metricsOnline: false, offlineMetricsServers: ['http://prometheus:9090'] }) })
  t.same(canaryShares(trace), [20, 0], 'the first step needs no metrics; then it holds at 20')
  t.same(ofKind(trace.actions, 'promote'), [])
  t.equal(trace.status.phase, 'Failed')
  const holds = ofKind(trace.actions, 'event').filter(e => e.reason === 'MetricsProviderOffline')
  t.equal(holds.length, 10, 'one event per held interval until the deadline')
  t.match(holds[0]?.message, /^holding at weight 20: metrics server http:\/\/prometheus:9090 does not answer/)
  t.match(ofKind(trace.actions, 'alert').at(-1), { severity: 'error', message: /^Progress deadline exceeded: holding at weight 20: metrics server http:\/\/prometheus:9090 does not answer/ })
})

t.test('no data for a while holds; once traffic arrives the analysis goes on without a failed check', async t => {
  const quietUntil = NOW.getTime() + 5 * 60_000
  let nowMs = 0
  const checker: Checker = (stage, c) => stage === 'metrics' && nowMs < quietUntil ? [noData(successRate)] : allPass(stage, c)
  const trace = run(t, { spec: spec(), checker, until: done, extra: w => { nowMs = w.now.getTime(); return {} } })
  t.equal(trace.status.phase, 'Succeeded')
  t.same(canaryShares(trace), [20, 40, 60, 80, 100, 0])
  t.notOk(trace.status.checks?.some(c => c.verdict === 'fail'), 'no failed check recorded')
})

t.test('confirm-rollout keeps the release Waiting until it opens', async t => {
  const openAt = NOW.getTime() + 3 * 60_000
  let nowMs = 0
  const checker: Checker = (stage, c) => stage === 'confirm-rollout' ? [hook(stage, 'gate', nowMs >= openAt ? 'pass' : 'fail')] : allPass(stage, c)
  const trace = run(t, { spec: spec({ webhooks: hooks(['confirm-rollout', 'gate']) }), checker, until: done, extra: w => { nowMs = w.now.getTime(); return {} } })
  t.same(trace.phases, ['Waiting', 'Progressing', 'Promoting', 'Finalising', 'Succeeded'])
  t.equal(ofKind(trace.actions, 'alert').filter(a => a.message === 'Canary is waiting for approval.').length, 1)
})

t.test('a controller that dies after writing the status resumes at the same weight, without a double step', async t => {
  // Run to weight 40, then take the 40 → 60 decision but lose its actions.
  const first = run(t, { spec: spec(), ticks: 3 })
  t.same(canaryShares(first), [20, 40])
  const w = { ...first.world, now: new Date(first.world.now.getTime()) }
  const lost = advance({ spec: spec(), status: first.status }, observe(w, { checks: [passing(successRate, 99.9)] }))
  t.equal(lost.status.canaryWeight, 60)
  // The restarted controller sees the router at 40 and the status at 60.
  const resumed = advance({ spec: spec(), status: lost.status }, observe(w))
  t.same(ofKind(resumed.actions, 'route'), [{ kind: 'route', weights: routes(60) }], 'puts the router where the status stands')
  t.equal(resumed.status.canaryWeight, 60, 'and does not step again')
  const rest = run(t, { spec: spec(), status: resumed.status, world: perform(w, resumed.actions), until: done })
  t.same(canaryShares(rest), [80, 100, 0])
})

t.test('a new revision in the middle restarts the analysis with the new revision', async t => {
  const before = run(t, { spec: spec(), ticks: 4 })
  t.same(canaryShares(before), [20, 40, 60])
  const after = run(t, { spec: spec(), status: before.status, world: { ...before.world, revision: 'rev-newer' }, until: done })
  t.same(canaryShares(after), [0, 20, 40, 60, 80, 100, 0])
  t.equal(after.status.lastPromotedSpec, 'rev-newer')
})

t.test('a retry after a failure runs the same revision again', async t => {
  const failed = status('Failed', { lastAppliedSpec: NEW, lastPromotedSpec: OLD, transitionAgo: 60 })
  const trace = run(t, { spec: spec(), status: failed, world: world(), until: done, extra: () => ({ requests: { retry: NOW } }) })
  t.same(trace.phases, ['Progressing', 'Promoting', 'Finalising', 'Succeeded'])
  t.equal(trace.status.lastPromotedSpec, NEW)
})

t.test('a new Deployment: Initializing, then Initialized with no analysis', async t => {
  const trace = run(t, {
    spec: spec(),
    status: {},
    world: world({ revision: OLD, canaryReplicas: 0, primary: { exists: false, replicas: 0 }, weights: undefined }),
    until: s => s.phase === 'Initialized',
  })
  t.same(trace.phases, ['Initializing', 'Initialized'])
  t.same(trace.routes, [routes(0)])
  t.equal(trace.world.primary.revision, OLD)
  t.same(ofKind(trace.actions, 'check'), [])
})

t.test('a live app opting in keeps its replicas until the router points at the primary', async t => {
  const trace = run(t, {
    spec: spec(),
    status: {},
    world: world({ revision: OLD, canaryReplicas: 3, primary: { exists: false, replicas: 0 }, weights: undefined }),
    until: s => s.phase === 'Initialized',
  })
  const order = trace.actions.filter(a => a.kind === 'route' || a.kind === 'scale').map(a => a.kind)
  t.same(order, ['route', 'scale'], 'routes first, scale-down after')
  t.equal(trace.world.canaryReplicas, 0)
})

t.test('the plan the webhook announces is the time the machine takes: promotion, Succeeded and rollback', async t => {
  const cases: Array<[string, ReturnType<typeof spec>]> = [
    ['canary', spec()],
    ['canary, overshooting maxWeight', spec({ maxWeight: 50 })],
    ['canary, stepWeights', spec({ stepWeight: undefined, stepWeights: [1, 2, 10, 80] })],
    ['canary, stepWeightPromotion', spec({ maxWeight: 60, stepWeightPromotion: 25 })],
    ['canary, mirrored first', spec({ mirror: true }, { provider: 'gatewayapi' })],
    ['blue-green', blueGreen()],
    ['blue-green, mirrored', blueGreen({ mirror: true })],
    ['ab', abTesting()],
  ]
  for (const [name, s] of cases) {
    const plan = planOf(s)
    const passed = run(t, { spec: s, until: done })
    t.equal(passed.status.phase, 'Succeeded', name)
    t.same([passed.phaseAt.Promoting, passed.phaseAt.Succeeded], [plan.promotionMs, plan.doneMs], `${name}: promotion and Succeeded`)
    const threshold = 2
    const bad: Checker = (stage, c) => stage === 'metrics' ? [failing(successRate, 42)] : allPass(stage, c)
    const failed = run(t, { spec: { ...s, analysis: { ...s.analysis, threshold } }, checker: bad, until: done })
    t.equal(failed.phaseAt.Failed, planOf({ ...s, analysis: { ...s.analysis, threshold } }).rollbackMs, `${name}: Failed`)
  }
})
