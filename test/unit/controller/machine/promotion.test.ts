// Promoting and Finalising: the primary gets the new template, must finish its rollout, then takes the
// traffic back; only then is the canary scaled down.
import t from 'tap'
import { advance } from '../../../../src/controller/machine/phases.ts'
import { NEW, NOW, OLD, alerts, effects, events, hooks, later, observed, ofKind, routes, spec, status, workload } from './fixtures.ts'

const promoting = (fields: Parameters<typeof status>[1] = {}) => status('Promoting', { progressAgo: 30, ...fields })

t.test('the copy to the primary is ensured until the primary shows the revision', async t => {
  const r = advance({ spec: spec(), status: promoting({ canaryWeight: 100 }) }, observed({ weights: routes(100) }))
  t.same(effects(r), [{ kind: 'promote', revision: NEW }])
  t.equal(r.status.phase, 'Promoting')
})

t.test('a primary that has not finished its rollout an interval on is reported, and traffic stays where it is', async t => {
  const r = advance({ spec: spec(), status: promoting({ canaryWeight: 60, progressAgo: 60 }) },
    observed({ weights: routes(60), primary: workload({ revision: NEW, updatedReplicas: 1 }) }))
  t.equal(r.status.phase, 'Promoting')
  t.same(effects(r), [])
  t.match(events(r), [/promotion waits for the primary's rollout: podinfo-primary: 1 of 3 replicas updated; traffic stays at primary 40% \/ canary 60%/])
  t.match(ofKind(r.actions, 'event'), [{ reason: 'PrimaryNotReady', type: 'Normal', onceEvery: 60_000 }],
    'a wait every promotion has: a Normal Event (kept off the Deployment), recorded at most once an interval')
})

t.test('within the interval the primary\'s rollout is waited for without an Event', async t => {
  const r = advance({ spec: spec(), status: promoting({ canaryWeight: 60 }) },
    observed({ weights: routes(60), primary: workload({ revision: NEW, updatedReplicas: 1 }) }))
  t.equal(r.status.phase, 'Promoting')
  t.same(r.actions, [], 'every promotion waits a moment for the primary: nothing to report yet')
})

t.test('a ready primary takes all traffic: Finalising', async t => {
  const r = advance({ spec: spec(), status: promoting({ canaryWeight: 60 }) }, observed({ weights: routes(60), primary: workload({ revision: NEW }) }))
  t.equal(r.status.phase, 'Finalising')
  t.same(effects(r), [{ kind: 'route', weights: routes(0) }])
  t.equal(r.status.canaryWeight, 0)
  t.equal(r.status.conditions?.[0]?.message, 'Canary analysis completed, routing all traffic to primary.')
  t.match(r.actions.filter(a => a.kind === 'event'), [{ reason: 'Finalising', onceEvery: undefined }], 'a phase change is recorded each time, never held as a wait')
})

t.test('stepWeightPromotion: the primary takes traffic back one step per interval', async t => {
  const gradual = spec({ stepWeightPromotion: 25 })
  const s = promoting({ canaryWeight: 60, progressAgo: 60 })
  const r = advance({ spec: gradual, status: s }, observed({ weights: routes(60), primary: workload({ revision: NEW }) }))
  t.equal(r.status.phase, 'Promoting')
  t.equal(r.status.canaryWeight, 35)
  t.same(effects(r), [{ kind: 'route', weights: routes(35) }])
  const early = advance({ spec: gradual, status: r.status }, observed({ now: later(30), weights: routes(35), primary: workload({ revision: NEW }) }))
  t.same(effects(early), [], 'not before an interval')
  const next = advance({ spec: gradual, status: r.status }, observed({ now: later(60), weights: routes(35), primary: workload({ revision: NEW }) }))
  t.equal(next.status.canaryWeight, 10)
  const last = advance({ spec: gradual, status: next.status }, observed({ now: later(120), weights: routes(10), primary: workload({ revision: NEW }) }))
  t.equal(last.status.phase, 'Finalising')
  t.same(effects(last), [{ kind: 'route', weights: routes(0) }])
})

t.test('a primary stuck past the deadline: error alert once, users on the canary, not Failed', async t => {
  const s = promoting({ canaryWeight: 60, progressAgo: 700 })
  const stuck = observed({ weights: routes(60), primary: workload({ revision: NEW, availableReplicas: 1, progressDeadlineExceeded: true }) })
  const r = advance({ spec: spec(), status: s }, stuck)
  t.equal(r.status.phase, 'Promoting')
  t.same(effects(r), [{ kind: 'route', weights: routes(100) }])
  t.match(alerts(r), [/^error: Promotion of podinfo is stuck: podinfo-primary did not become ready within the progress deadline \(10m\)/])
  t.match(r.status.conditions?.[0]?.message, /^Promotion is stuck/)
  t.match(r.status.checks?.at(-1), { name: 'primary-ready', verdict: 'fail', value: 1, range: { min: 3 } })
  const again = advance({ spec: spec(), status: r.status }, { ...stuck, now: later(60), weights: routes(100) })
  t.same(alerts(again), [], 'reported once')
  t.same(effects(again), [])
  const recovered = advance({ spec: spec(), status: r.status }, observed({ now: later(120), weights: routes(100), primary: workload({ revision: NEW }) }))
  t.equal(recovered.status.phase, 'Finalising')
})

t.test('a new revision during the promotion takes traffic off the canary at once', async t => {
  const r = advance({ spec: spec(), status: promoting({ canaryWeight: 80 }) },
    observed({ revision: 'rev-newer', weights: routes(80), primary: workload({ revision: NEW, updatedReplicas: 2 }) }))
  t.equal(r.status.phase, 'Promoting', 'the analysed revision is still promoted')
  t.same(effects(r), [{ kind: 'route', weights: routes(0) }])
  t.equal(r.status.lastAppliedSpec, NEW)
  t.match(events(r)[0], /revision rev-newer arrived while rev-new is being promoted/)
})

t.test('Finalising waits for the router to show all traffic on the primary', async t => {
  const r = advance({ spec: spec(), status: status('Finalising', { progressAgo: 60 }) }, observed({ weights: routes(60), primary: workload({ revision: NEW }) }))
  t.equal(r.status.phase, 'Finalising')
  t.same(effects(r), [{ kind: 'route', weights: routes(0) }])
})

t.test('Finalising waits an interval for in-flight requests before scaling the canary down', async t => {
  const r = advance({ spec: spec(), status: status('Finalising', { progressAgo: 20 }) }, observed({ primary: workload({ revision: NEW }) }))
  t.same(effects(r), [])
})

t.test('Finalising → Succeeded: canary to zero, post-rollout hooks, lastPromotedSpec, info alert', async t => {
  const input = { spec: spec({ webhooks: hooks(['post-rollout', 'notify']) }), status: status('Finalising', { progressAgo: 60 }) }
  const r = advance(input, observed({ primary: workload({ revision: NEW }) }))
  t.equal(r.status.phase, 'Succeeded')
  t.same(effects(r), [{ kind: 'scale', workload: 'canary', replicas: 0 }, { kind: 'run-hooks', type: 'post-rollout' }])
  t.equal(r.status.lastPromotedSpec, NEW)
  t.equal(r.status.lastAppliedSpec, NEW)
  t.equal(r.status.lastTransitionTime, NOW.toISOString())
  t.same(r.status.conditions?.map(c => [c.status, c.reason]), [['True', 'Succeeded']])
  t.same(alerts(r), ['info: Canary analysis completed successfully, promotion finished.'])
  t.match(events(r), [/Promotion completed! Scaling down podinfo/])
  t.ok(ofKind(r.actions, 'event').some(e => e.reason === 'Promoted'), 'an info alert comes with its milestone Event')
})

t.test('with skipAnalysis the success alert says so', async t => {
  const r = advance({ spec: spec({}, { skipAnalysis: true }), status: status('Finalising', { progressAgo: 60 }) }, observed({ primary: workload({ revision: NEW }) }))
  t.same(alerts(r), ['info: Canary analysis was skipped, promotion finished.'])
  t.ok(ofKind(r.actions, 'event').some(e => e.reason === 'Promoted'), 'an info alert comes with its milestone Event')
})

t.test('the Promoted condition keeps its transition time while its status does not change', async t => {
  const r = advance({ spec: spec(), status: promoting({ canaryWeight: 60, transitionAgo: 900 }) }, observed({ weights: routes(60), primary: workload({ revision: NEW }) }))
  t.equal(r.status.conditions?.[0]?.lastTransitionTime, new Date(NOW.getTime() - 900_000).toISOString(), 'Unknown → Unknown')
  t.equal(r.status.lastTransitionTime, NOW.toISOString(), 'the phase changed')
  t.equal(r.status.lastPromotedSpec, OLD, 'not promoted until Succeeded')
})
