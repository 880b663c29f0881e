// One test per transition: a status and an observation in, the decision out.
import t from 'tap'
import { advance, needsMetricsHealth, nextTickAt } from '../../../../src/controller/machine/phases.ts'
import { MAX_STATUS_CHECKS } from '../../../../src/api/types.ts'
import type { CanaryPhase } from '../../../../src/api/types.ts'
import {
  NEW, NOW, OLD, ago, alerts, checkRequest, decide, effects, events, failing, hook, hooks, later, noData, observed, ofKind,
  passing, progressing, providerError, routes, spec, status, workload,
} from './fixtures.ts'

const successRate = 'request-success-rate'

t.test('initialization', async t => {
  t.test('a new Canary starts Initializing and asks for the primary, without touching the apex yet', async t => {
    const r = advance({ spec: spec() }, observed({
      revision: OLD, primary: workload({ exists: false, replicas: 0 }), weights: undefined, canary: workload({ replicas: 0 }),
    }))
    t.equal(r.status.phase, 'Initializing')
    t.same(effects(r), [{ kind: 'initialize', replicas: 3 }], 'only the primary and its Services; no route, no scale')
    t.equal(r.status.conditions?.[0]?.status, 'Unknown')
    t.equal(r.status.conditions?.[0]?.message, 'New Deployment detected, starting initialization.')
    t.equal(r.status.lastTransitionTime, NOW.toISOString())
  })

  t.test('the apex is taken over only once the primary is ready and runs the target revision', async t => {
    const s = status('Initializing', { lastAppliedSpec: undefined, lastPromotedSpec: undefined })
    const notYet = advance({ spec: spec(), status: s }, observed({ revision: OLD, primary: workload({ revision: 'other' }), weights: undefined }))
    t.same(effects(notYet), [{ kind: 'initialize', replicas: 3 }])
    t.equal(notYet.status.phase, 'Initializing')
    const ready = advance({ spec: spec(), status: s }, observed({ revision: OLD, primary: workload({ revision: OLD }), weights: undefined }))
    t.same(effects(ready), [{ kind: 'initialize', replicas: 3 }, { kind: 'route', weights: routes(0) }])
    t.equal(ready.status.phase, 'Initializing', 'the target keeps serving until the router shows the primary')
  })

  t.test('with the router on the primary the target goes to zero: Initialized, and no analysis of the first version', async t => {
    const s = status('Initializing', { lastAppliedSpec: undefined, lastPromotedSpec: undefined })
    const r = advance({ spec: spec(), status: s }, observed({ revision: OLD, primary: workload({ revision: OLD }) }))
    t.equal(r.status.phase, 'Initialized')
    t.same(effects(r), [{ kind: 'initialize', replicas: 3 }, { kind: 'scale', workload: 'canary', replicas: 0 }])
    t.equal(r.status.lastAppliedSpec, OLD)
    t.equal(r.status.lastPromotedSpec, OLD)
    t.equal(r.status.conditions?.[0]?.status, 'True')
    t.same(alerts(r), ['info: New Deployment detected, initialization completed.'])
    t.ok(ofKind(r.actions, 'event').some(e => e.reason === 'Initialized'), 'an info alert comes with its milestone Event, which the actor writes instead')
    t.equal(checkRequest(r), undefined)
  })

  t.test('an unreachable metrics provider at initialization is only an event', async t => {
    const r = advance({ spec: spec() }, observed({ revision: OLD, metricsOnline: false, weights: undefined }))
    t.equal(r.status.phase, 'Initializing')
    t.match(events(r).join('\n'), /metrics provider does not answer/)
    const named = advance({ spec: spec() }, observed({ revision: OLD, metricsOnline: false, offlineMetricsServers: ['http://prom:9090'], weights: undefined }))
    t.match(ofKind(named.actions, 'event').find(e => e.reason === 'MetricsProviderOffline'), { type: 'Warning', message: /^metrics server http:\/\/prom:9090 does not answer/ })
  })

  t.test('a primary still not ready after the deadline is reported; the target is not scaled down', async t => {
    const s = status('Initializing', { progressAgo: 601, lastAppliedSpec: undefined })
    const r = advance({ spec: spec(), status: s }, observed({ revision: OLD, primary: workload({ revision: OLD, availableReplicas: 1 }) }))
    t.equal(r.status.phase, 'Initializing')
    t.match(events(r), [/podinfo-primary is not ready after 10m: podinfo-primary: 1 of 3 updated replicas available/])
    t.equal(ofKind(r.actions, 'event')[0]?.onceEvery, 60_000, 'a wait: recorded at most once an interval')
    t.same(ofKind(r.actions, 'scale'), [])
  })
})

t.test('idle phases', async t => {
  t.test('nothing new: no actions at all', async t => {
    const r = advance({ spec: spec(), status: status('Succeeded') }, observed({ revision: OLD, canary: workload({ replicas: 0 }) }))
    t.same(r.actions, [])
    t.equal(r.status.phase, 'Succeeded')
  })

  t.test('idle keeps the cluster as the status says: routes to the primary, target at zero', async t => {
    const r = advance({ spec: spec(), status: status('Failed', { lastAppliedSpec: NEW }) }, observed({ weights: routes(40) }))
    t.same(effects(r), [{ kind: 'route', weights: routes(0) }, { kind: 'scale', workload: 'canary', replicas: 0 }])
    t.equal(r.status.phase, 'Failed')
  })

  t.test('a replica-only change reaches the primary at once, without analysis', async t => {
    const r = advance({ spec: spec(), status: status('Succeeded') },
      observed({ revision: OLD, replicas: 5, canary: workload({ replicas: 0 }), primary: workload({ replicas: 3, revision: OLD }) }))
    t.same(effects(r), [{ kind: 'scale', workload: 'primary', replicas: 5 }])
    t.equal(r.status.phase, 'Succeeded')
  })

  t.test('... but not against an autoscaler', async t => {
    const r = advance({ spec: spec(), status: status('Succeeded') },
      observed({ revision: OLD, replicas: 5, autoscaled: true, canary: workload({ replicas: 0 }) }))
    t.same(effects(r), [])
  })

  t.test('a new revision scales the canary up and starts Progressing; the analysis waits for the next tick', async t => {
    const r = advance({ spec: spec(), status: status('Succeeded') }, observed({ canary: workload({ replicas: 0 }) }))
    t.equal(r.status.phase, 'Progressing')
    t.same(effects(r), [{ kind: 'scale', workload: 'canary', replicas: 3 }])
    t.equal(r.status.lastAppliedSpec, NEW)
    t.equal(r.status.lastPromotedSpec, OLD)
    t.same([r.status.canaryWeight, r.status.failedChecks, r.status.iterations], [0, 0, 0])
    t.same(alerts(r), ['info: New revision detected, progressing canary analysis.'])
    t.match(events(r), [/New revision detected! Scaling up podinfo/])
    t.ok(ofKind(r.actions, 'event').some(e => e.reason === 'NewRevision'), 'an info alert comes with its milestone Event')
    t.ok((nextTickAt({ spec: spec(), status: r.status })?.getTime() ?? 0) === later(60).getTime(), 'first analysis one interval later')
  })

  t.test('a new revision from Failed starts a run as well', async t => {
    const r = advance({ spec: spec(), status: status('Failed', { lastAppliedSpec: 'rev-bad', failedChecks: 5 }) }, observed())
    t.equal(r.status.phase, 'Progressing')
    t.equal(r.status.failedChecks, 0)
  })

  t.test('confirm-rollout is asked first, and nothing is decided before its outcome', async t => {
    const input = { spec: spec({ webhooks: hooks(['confirm-rollout', 'gate']) }), status: status('Succeeded') }
    const r = advance(input, observed())
    t.equal(checkRequest(r), 'confirm-rollout')
    t.equal(r.status, input.status)
  })

  t.test('a closed confirm-rollout gate: Waiting, one warn alert, canary stays at zero', async t => {
    const input = { spec: spec({ webhooks: hooks(['confirm-rollout', 'gate']) }), status: status('Succeeded') }
    const r = advance(input, observed({ canary: workload({ replicas: 0 }), checks: [hook('confirm-rollout', 'gate', 'fail', 'HTTP 403')] }))
    t.equal(r.status.phase, 'Waiting')
    t.same(alerts(r), ['warn: Canary is waiting for approval.'])
    t.same(ofKind(r.actions, 'scale'), [])
    t.equal(r.status.lastAppliedSpec, OLD, 'the revision is applied only when its run starts')
    t.match(r.status.checks?.at(-1), { name: 'confirm-rollout:gate', verdict: 'fail', message: /HTTP 403/ })
  })

  t.test('Waiting asks again each interval; the alert is not repeated', async t => {
    const input = { spec: spec({ webhooks: hooks(['confirm-rollout', 'gate']) }), status: status('Waiting', { lastAppliedSpec: OLD }) }
    const r = advance(input, observed({ canary: workload({ replicas: 0 }), checks: [hook('confirm-rollout', 'gate', 'fail')] }))
    t.equal(r.status.phase, 'Waiting')
    t.same(alerts(r), [])
    const soon = { ...input, status: r.status }
    t.equal(checkRequest(advance(soon, observed({ now: later(30), canary: workload({ replicas: 0 }) }))), undefined, 'not before an interval')
    t.equal(checkRequest(advance(soon, observed({ now: later(60), canary: workload({ replicas: 0 }) }))), 'confirm-rollout')
  })

  t.test('Waiting → Progressing once the gate opens', async t => {
    const input = { spec: spec({ webhooks: hooks(['confirm-rollout', 'gate']) }), status: status('Waiting', { lastAppliedSpec: OLD }) }
    const r = advance(input, observed({ canary: workload({ replicas: 0 }), checks: [hook('confirm-rollout', 'gate', 'pass')] }))
    t.equal(r.status.phase, 'Progressing')
    t.same(effects(r), [{ kind: 'scale', workload: 'canary', replicas: 3 }])
  })

  t.test('Waiting asks the rollback hooks before confirm-rollout (unlike Flagger #1432, where a closed gate hides them)', async t => {
    const input = {
      spec: spec({ webhooks: hooks(['confirm-rollout', 'gate'], ['rollback', 'undo']) }), status: status('Waiting', { lastAppliedSpec: OLD }),
    }
    const r = decide(t, input, observed({ canary: workload({ replicas: 0 }) }), stage => stage === 'rollback'
      ? [hook('rollback', 'undo', 'fail', 'HTTP 403')]
      : [hook('confirm-rollout', 'gate', 'fail', 'HTTP 403')])
    t.same(r.stages, ['rollback', 'confirm-rollout'])
    t.equal(r.status.phase, 'Waiting', 'a closed rollback gate changes nothing')
    t.notOk(r.status.checks?.some(c => c.name.startsWith('rollback:')), 'a rollback hook that did not fire is not recorded')
  })

  t.test('a rollback hook that answers 2xx while Waiting: Failed, all traffic on the primary, canary at zero, warn alert', async t => {
    const input = {
      spec: spec({ webhooks: hooks(['confirm-rollout', 'gate'], ['rollback', 'undo'], ['post-rollout', 'notify']) }),
      status: status('Waiting', { lastAppliedSpec: OLD }),
    }
    const r = decide(t, input, observed({ canary: workload({ replicas: 0 }) }), stage => stage === 'rollback' ? [hook('rollback', 'undo', 'pass')] : [hook('confirm-rollout', 'gate', 'pass')])
    t.same(r.stages, ['rollback'], 'confirm-rollout is not asked once a rollback was asked for')
    t.equal(r.status.phase, 'Failed')
    t.same(effects(r), [
      { kind: 'route', weights: routes(0) }, { kind: 'scale', workload: 'canary', replicas: 0 }, { kind: 'run-hooks', type: 'post-rollout' },
    ])
    t.same(alerts(r), ['warn: Rolling back manual webhook invoked: undo'])
    t.match(events(r), [/^Canary failed! Scaling down podinfo: rollback hook "undo" asked for a rollback$/])
    t.match(r.status.checks?.at(-1), { name: 'rollback:undo', verdict: 'fail' })
    t.equal(r.status.conditions?.[0]?.status, 'False')
    t.equal(r.status.lastAppliedSpec, NEW, 'the revision that never started is the failed one')
    t.equal(r.status.lastPromotedSpec, OLD)
  })

  t.test('a release rolled back while Waiting stays Failed: confirm-rollout is not asked again for the same revision', async t => {
    const input = { spec: spec({ webhooks: hooks(['confirm-rollout', 'gate'], ['rollback', 'undo']) }), status: status('Waiting', { lastAppliedSpec: OLD }) }
    const failed = advance(input, observed({ canary: workload({ replicas: 0 }), checks: [hook('rollback', 'undo', 'pass')] }))
    const next = advance({ ...input, status: failed.status }, observed({ now: later(120), canary: workload({ replicas: 0 }) }))
    t.equal(next.status.phase, 'Failed')
    t.equal(checkRequest(next), undefined)
    t.same(next.actions, [])
    const retried = advance({ ...input, status: failed.status }, observed({ now: later(120), canary: workload({ replicas: 0 }), requests: { retry: later(60) } }))
    t.equal(checkRequest(retried), 'confirm-rollout', 'a retry asks the gate again')
  })

  t.test('Waiting asks its rollback hooks only once an interval has passed', async t => {
    const input = { spec: spec({ webhooks: hooks(['confirm-rollout', 'gate'], ['rollback', 'undo']) }), status: status('Waiting', { lastAppliedSpec: OLD, progressAgo: 30 }) }
    t.equal(checkRequest(advance(input, observed({ canary: workload({ replicas: 0 }) }))), undefined)
  })

  t.test('rollback hooks are asked in Progressing, Waiting and WaitingPromotion, and in no other phase', async t => {
    const webhooks = hooks(['rollback', 'undo'])
    const asked = (phase: CanaryPhase, seen = observed()): boolean =>
      decide(t, { spec: spec({ webhooks }), status: status(phase, { lastAppliedSpec: NEW }) }, seen, () => [hook('rollback', 'undo', 'fail')]).stages.includes('rollback')
    const waiting = status('Waiting', { lastAppliedSpec: OLD })
    t.ok(decide(t, { spec: spec({ webhooks }), status: waiting }, observed({ canary: workload({ replicas: 0 }) }), () => [hook('rollback', 'undo', 'fail')]).stages.includes('rollback'), 'Waiting')
    t.ok(asked('Progressing', observed({ weights: routes(0) })), 'Progressing')
    t.ok(asked('WaitingPromotion', observed({ weights: routes(0) })), 'WaitingPromotion')
    for (const phase of ['Initialized', 'Succeeded', 'Failed', 'Promoting', 'Finalising'] as const) {
      t.notOk(asked(phase, observed({ canary: workload({ replicas: 0 }), primary: workload({ revision: NEW }) })), phase)
    }
  })

  t.test('Failed is retried with the same template when a retry was requested after the failure (Flagger #862)', async t => {
    const failed = status('Failed', { lastAppliedSpec: NEW, failedChecks: 5, transitionAgo: 300 })
    const r = advance({ spec: spec(), status: failed }, observed({ canary: workload({ replicas: 0 }), requests: { retry: later(-10) } }))
    t.equal(r.status.phase, 'Progressing')
    t.equal(r.status.failedChecks, 0)
    t.equal(r.status.lastAppliedSpec, NEW)
    t.match(events(r), [/Retrying revision rev-new/])
  })

  t.test('a retry requested before the failure is stale', async t => {
    const failed = status('Failed', { lastAppliedSpec: NEW, transitionAgo: 300 })
    const r = advance({ spec: spec(), status: failed }, observed({ canary: workload({ replicas: 0 }), requests: { retry: later(-400) } }))
    t.equal(r.status.phase, 'Failed')
    t.same(r.actions, [])
  })

  t.test('a Failed release reverted to the promoted revision settles as Succeeded', async t => {
    const r = advance({ spec: spec(), status: status('Failed', { lastAppliedSpec: NEW }) }, observed({ revision: OLD, canary: workload({ replicas: 0 }) }))
    t.equal(r.status.phase, 'Succeeded')
    t.equal(r.status.lastAppliedSpec, OLD)
    t.match(r.status.conditions?.[0]?.message, /reverted to the promoted revision/)
  })
})

t.test('analysis ticks', async t => {
  t.test('a Progressing canary is not analysed before an interval has passed since the run began', async t => {
    const r = advance({ spec: spec(), status: progressing({ progressAgo: 30 }) }, observed())
    t.same(r.actions, [])
  })

  t.test('the first tick runs pre-rollout hooks only, then takes the first step', async t => {
    const input = { spec: spec({ webhooks: hooks(['pre-rollout', 'smoke'], ['rollout', 'load']) }), status: progressing() }
    const r = decide(t, input, observed())
    t.same(r.stages, ['pre-rollout'], 'no metrics and no rollout hooks without traffic')
    t.equal(r.status.canaryWeight, 20)
    t.same(effects(r), [{ kind: 'route', weights: routes(20) }])
    t.match(events(r), [/Starting canary analysis for podinfo/, /Advance podinfo canary weight 20/])
    t.ok(ofKind(r.actions, 'event').every(e => e.onceEvery === undefined), 'a start and a step are recorded each time, never held as waits')
  })

  t.test('a failed pre-rollout hook is a failed check', async t => {
    const input = { spec: spec({ webhooks: hooks(['pre-rollout', 'smoke']) }), status: progressing() }
    const r = advance(input, observed({ checks: [hook('pre-rollout', 'smoke', 'fail', 'HTTP 500')] }))
    t.equal(r.status.failedChecks, 1)
    t.equal(r.status.canaryWeight, 0)
    t.match(events(r), [/halted at weight 0: pre-rollout hook "smoke" failed: HTTP 500 \(1 of 5 failed checks\); rolling back after 4 more/])
  })

  t.test('later ticks ask in Flagger\'s order: rollback, rollout, metrics, confirm-traffic-increase', async t => {
    const input = {
      spec: spec({ webhooks: hooks(['rollback', 'undo'], ['rollout', 'load'], ['confirm-traffic-increase', 'gate'], ['pre-rollout', 'smoke']) }),
      status: progressing({ canaryWeight: 20 }),
    }
    const r = decide(t, input, observed({ weights: routes(20) }), (stage, c) => stage === 'rollback'
      ? [hook('rollback', 'undo', 'fail')]
      : stage === 'metrics' ? [passing(successRate, 99.9)] : (c.spec.analysis?.webhooks ?? []).filter(w => w.type === stage).map(w => hook(stage, w.name, 'pass')))
    t.same(r.stages, ['rollback', 'rollout', 'metrics', 'confirm-traffic-increase'])
    t.equal(r.status.canaryWeight, 40)
  })

  t.test('a failed rollout hook ends the tick: no metrics are run', async t => {
    const input = { spec: spec({ webhooks: hooks(['rollout', 'load']) }), status: progressing({ canaryWeight: 20 }) }
    const r = decide(t, input, observed({ weights: routes(20) }), stage => stage === 'rollout' ? [hook('rollout', 'load', 'fail', 'HTTP 502')] : [])
    t.same(r.stages, ['rollout'])
    t.equal(r.status.failedChecks, 1)
    t.equal(r.status.canaryWeight, 20)
  })

  t.test('a failed metric halts the canary and says why in words', async t => {
    const r = advance({ spec: spec(), status: progressing({ canaryWeight: 40, failedChecks: 1 }) },
      observed({ weights: routes(40), checks: [failing(successRate, 91.2)] }))
    t.equal(r.status.phase, 'Progressing')
    t.equal(r.status.failedChecks, 2)
    t.equal(r.status.canaryWeight, 40)
    t.same(effects(r), [], 'no step, no route change')
    t.same(events(r), ['halted at weight 40: request-success-rate 91.2% is below the minimum 99% (window 1m, 2 of 5 failed checks); rolling back after 3 more'])
    t.match(r.status.checks?.at(-1), { name: successRate, value: 91.2, range: { min: 99 }, window: '1m', verdict: 'fail', time: NOW.toISOString() })
  })

  t.test('a failed check at the threshold rolls back at once', async t => {
    const r = advance({ spec: spec({ threshold: 2 }), status: progressing({ canaryWeight: 40, failedChecks: 1 }) },
      observed({ weights: routes(40), checks: [failing(successRate, 91.2)] }))
    t.equal(r.status.phase, 'Failed')
    t.same(effects(r), [{ kind: 'route', weights: routes(0) }, { kind: 'scale', workload: 'canary', replicas: 0 }])
    t.same(alerts(r), ['error: Failed checks threshold reached 2; last: request-success-rate 91.2% is below the minimum 99% (window 1m)'])
    t.equal(r.status.conditions?.[0]?.status, 'False')
    t.equal(r.status.conditions?.[0]?.message, 'Canary analysis failed, Deployment scaled to zero.')
    t.equal(r.status.canaryWeight, 0)
  })

  t.test('a rollback runs the post-rollout hooks', async t => {
    const r = advance({ spec: spec({ threshold: 1, webhooks: hooks(['post-rollout', 'notify']) }), status: progressing({ canaryWeight: 40 }) },
      observed({ weights: routes(40), checks: [failing(successRate, 12)] }))
    t.same(ofKind(r.actions, 'run-hooks'), [{ kind: 'run-hooks', type: 'post-rollout' }])
  })

  t.test('failedChecks already at the threshold roll back before any check', async t => {
    const r = advance({ spec: spec({ threshold: 2 }), status: progressing({ canaryWeight: 40, failedChecks: 2 }) }, observed({ weights: routes(40) }))
    t.equal(r.status.phase, 'Failed')
    t.equal(checkRequest(r), undefined)
  })

  t.test('a rollback hook that answers 2xx rolls back with a warn alert', async t => {
    const input = { spec: spec({ webhooks: hooks(['rollback', 'undo']) }), status: progressing({ canaryWeight: 40 }) }
    const r = advance(input, observed({ weights: routes(40), checks: [hook('rollback', 'undo', 'pass')] }))
    t.equal(r.status.phase, 'Failed')
    t.same(alerts(r), ['warn: Rolling back manual webhook invoked: undo'])
    t.match(r.status.checks?.at(-1), { name: 'rollback:undo' })
  })

  t.test('no data is not a failed check: the canary holds and says so', async t => {
    const r = advance({ spec: spec(), status: progressing({ canaryWeight: 40, failedChecks: 1 }) },
      observed({ weights: routes(40), checks: [noData(successRate)] }))
    t.equal(r.status.phase, 'Progressing')
    t.equal(r.status.failedChecks, 1, 'not counted')
    t.equal(r.status.canaryWeight, 40, 'no step')
    t.same(effects(r), [])
    t.match(events(r), [/^holding at weight 40: request-success-rate returned no data: no values found \(window 1m\); not counted as a failed check \(1 of 5 so far\)/])
    t.match(events(r)[0], /rolling back at 2025-03-01T12:09:00.000Z if it cannot progress \(progress deadline 10m\)/)
    t.match(r.status.checks?.at(-1), { verdict: 'no-data', value: null })
  })

  t.test('a failing metric beside one without data is still a failed check', async t => {
    const r = advance({ spec: spec({ metrics: [{ name: successRate }, { name: 'request-duration' }] }), status: progressing({ canaryWeight: 40 }) },
      observed({ weights: routes(40), checks: [noData(successRate), failing('request-duration', 812, { max: 500 })] }))
    t.equal(r.status.failedChecks, 1)
    t.match(events(r), [/request-duration 812ms is above the maximum 500ms/])
  })

  t.test('an unreachable provider holds and never promotes, even at the last step', async t => {
    const input = { spec: spec({ webhooks: hooks(['confirm-promotion', 'gate']) }), status: progressing({ canaryWeight: 100 }) }
    const r = decide(t, input, observed({ weights: routes(100) }), stage => stage === 'metrics' ? [providerError(successRate)] : [])
    t.same(r.stages, ['metrics'], 'the promotion gate is not even asked')
    t.equal(r.status.phase, 'Progressing')
    t.same(ofKind(r.actions, 'promote'), [])
    t.equal(r.status.failedChecks, 0)
    t.match(events(r), [/holding at weight 100: request-success-rate could not be evaluated: dial tcp .* connection refused \(window 1m\); the canary is neither advanced nor promoted/])
  })

  t.test('a provider known to be offline is not queried: every metric is an error', async t => {
    const r = decide(t, { spec: spec(), status: progressing({ canaryWeight: 40 }) }, observed({ weights: routes(40), metricsOnline: false }))
    t.same(r.stages, [])
    t.equal(r.status.canaryWeight, 40)
    t.match(r.status.checks?.at(-1), { name: successRate, verdict: 'error', message: /unreachable/ })
  })

  t.test('an offline metrics server holds the release with MetricsProviderOffline, naming the server', async t => {
    const input = { spec: spec({ webhooks: hooks(['rollout', 'load']) }), status: progressing({ canaryWeight: 40, failedChecks: 1 }) }
    const r = decide(t, input, observed({ weights: routes(40), metricsOnline: false, offlineMetricsServers: ['http://prom:9090', 'https://tenant.example/prom'] }))
    t.same(r.stages, ['rollout'], 'the rollout hooks still run; the metrics are not queried')
    t.equal(r.status.phase, 'Progressing')
    t.equal(r.status.canaryWeight, 40, 'no step')
    t.equal(r.status.failedChecks, 1, 'not counted as a failed check')
    t.same(effects(r), [])
    const offline = ofKind(r.actions, 'event')
    t.same(offline.map(e => [e.type, e.reason]), [['Warning', 'MetricsProviderOffline']])
    t.match(offline[0]?.message, /^holding at weight 40: metrics servers http:\/\/prom:9090, https:\/\/tenant\.example\/prom do not answer \(health query vector\(1\) failed\), so no metric was queried; the canary is neither advanced nor promoted/)
    t.match(r.status.checks?.at(-1), { name: successRate, verdict: 'error', value: null, message: 'not queried: metrics servers http://prom:9090, https://tenant.example/prom are unreachable (health query vector(1) failed)' })
  })

  t.test('a canary without metrics is not held by an offline server', async t => {
    const r = decide(t, { spec: spec({ metrics: [] }), status: progressing({ canaryWeight: 40 }) },
      observed({ weights: routes(40), metricsOnline: false, offlineMetricsServers: ['http://prom:9090'] }))
    t.equal(r.status.canaryWeight, 60)
    t.notOk(events(r).some(e => /does not answer/.test(e)))
  })

  t.test('a query error while the server is thought online is a plain hold, not MetricsProviderOffline', async t => {
    const r = advance({ spec: spec(), status: progressing({ canaryWeight: 40 }) }, observed({ weights: routes(40), checks: [providerError(successRate)] }))
    t.same(ofKind(r.actions, 'event').map(e => e.reason), ['Holding'])
  })

  t.test('holding past the progress deadline rolls back with an alert', async t => {
    const r = advance({ spec: spec(), status: progressing({ canaryWeight: 40, progressAgo: 601 }) },
      observed({ weights: routes(40), checks: [providerError(successRate)] }))
    t.equal(r.status.phase, 'Failed')
    t.same(effects(r), [{ kind: 'route', weights: routes(0) }, { kind: 'scale', workload: 'canary', replicas: 0 }])
    t.match(alerts(r), [/^error: Progress deadline exceeded: holding at weight 40: request-success-rate could not be evaluated/])
  })

  t.test('a passing tick is progress: the deadline counts again from it', async t => {
    const r = advance({ spec: spec(), status: progressing({ canaryWeight: 40, progressAgo: 590 }) },
      observed({ weights: routes(40), checks: [passing(successRate, 99.5)] }))
    t.equal(r.status.canaryWeight, 60)
    t.equal(r.status.conditions?.[0]?.lastUpdateTime, NOW.toISOString())
    t.equal(r.status.lastTransitionTime, ago(600), 'a step is not a phase change')
  })

  t.test('a canary that is not ready is waited for, and no checks run', async t => {
    const r = advance({ spec: spec(), status: progressing() }, observed({ canary: workload({ availableReplicas: 1 }) }))
    t.equal(r.status.phase, 'Progressing')
    t.equal(checkRequest(r), undefined)
    t.match(events(r), [/waiting for the canary before analysing at weight 0: podinfo: 1 of 3 updated replicas available/])
    t.match(ofKind(r.actions, 'event'), [{ reason: 'CanaryNotReady', onceEvery: 60_000 }], 'a wait: recorded at most once an interval')
  })

  t.test('a canary still starting before its tick is due holds nothing back: waited for without an Event', async t => {
    const r = advance({ spec: spec(), status: progressing({ progressAgo: 30 }) }, observed({ canary: workload({ availableReplicas: 1 }) }))
    t.equal(r.status.phase, 'Progressing')
    t.equal(checkRequest(r), undefined)
    t.same(r.actions, [], 'no Event, nothing else: every release\'s canary takes a moment to start')
  })

  t.test('a canary not ready past the deadline rolls back WITH an alert (unlike Flagger #1816)', async t => {
    const r = advance({ spec: spec(), status: progressing({ progressAgo: 700 }) }, observed({ canary: workload({ availableReplicas: 0 }) }))
    t.equal(r.status.phase, 'Failed')
    t.match(alerts(r), [/^error: Progress deadline exceeded: the canary is not ready: podinfo: 0 of 3/])
  })

  t.test('the Deployment\'s own ProgressDeadlineExceeded rolls back at once', async t => {
    const r = advance({ spec: spec(), status: progressing({ progressAgo: 10 }) },
      observed({ canary: workload({ availableReplicas: 0, progressDeadlineExceeded: true }) }))
    t.equal(r.status.phase, 'Failed')
    t.equal(alerts(r).length, 1)
  })

  t.test('a router that lost a step is put back first; no analysis from a weight the users never saw', async t => {
    const r = advance({ spec: spec(), status: progressing({ canaryWeight: 40 }) }, observed({ weights: routes(20) }))
    t.same(effects(r), [{ kind: 'route', weights: routes(40) }])
    t.equal(checkRequest(r), undefined)
    t.equal(r.status.canaryWeight, 40)
    t.match(events(r), [/router reports primary 80% \/ canary 20% but the canary stands at weight 40/])
  })

  t.test('a new revision mid-analysis restarts from weight 0 with all traffic on the primary (Flagger #30)', async t => {
    const s = progressing({ canaryWeight: 60, failedChecks: 2, lastAppliedSpec: 'rev-mid' })
    const r = advance({ spec: spec(), status: s }, observed({ weights: routes(60) }))
    t.equal(r.status.phase, 'Progressing')
    t.same(ofKind(r.actions, 'route'), [{ kind: 'route', weights: routes(0) }])
    t.same([r.status.canaryWeight, r.status.failedChecks, r.status.iterations], [0, 0, 0])
    t.equal(r.status.lastAppliedSpec, NEW)
    t.equal(r.status.lastTransitionTime, NOW.toISOString(), 'a new run: older operator requests are stale')
    t.match(events(r), [/Restarting analysis for podinfo: revision rev-new replaces rev-mid/])
  })

  t.test('the same restart from WaitingPromotion', async t => {
    const r = advance({ spec: spec(), status: status('WaitingPromotion', { canaryWeight: 100, lastAppliedSpec: 'rev-mid' }) },
      observed({ weights: routes(100) }))
    t.equal(r.status.phase, 'Progressing')
    t.equal(r.status.canaryWeight, 0)
  })

  t.test('the target reverted to the promoted revision mid-analysis: stop, canary down, Succeeded', async t => {
    const r = advance({ spec: spec(), status: progressing({ canaryWeight: 40 }) }, observed({ revision: OLD, weights: routes(40) }))
    t.equal(r.status.phase, 'Succeeded')
    t.same(effects(r), [{ kind: 'route', weights: routes(0) }, { kind: 'scale', workload: 'canary', replicas: 0 }])
  })

  t.test('an abort request rolls back with a warn alert; a stale one does nothing', async t => {
    const s = progressing({ canaryWeight: 40 })
    const r = advance({ spec: spec(), status: s }, observed({ weights: routes(40), requests: { abort: later(-5) } }))
    t.equal(r.status.phase, 'Failed')
    t.same(alerts(r), ['warn: Canary aborted by an operator, rolled back to the primary.'])
    const stale = advance({ spec: spec(), status: s }, observed({ weights: routes(40), requests: { abort: later(-3600) } }))
    t.equal(checkRequest(stale), 'metrics')
  })

  t.test('a promote request skips the rest of the analysis', async t => {
    const r = advance({ spec: spec(), status: progressing({ canaryWeight: 40 }) }, observed({ weights: routes(40), requests: { promote: later(-5) } }))
    t.equal(r.status.phase, 'Promoting')
    t.same(effects(r), [{ kind: 'promote', revision: NEW }])
    t.equal(r.status.canaryWeight, 40, 'traffic stays until the primary is ready')
  })

  t.test('skipAnalysis promotes as soon as the canary is ready, without checks', async t => {
    const input = { spec: spec({}, { skipAnalysis: true }), status: progressing({ progressAgo: 1 }) }
    const notReady = advance(input, observed({ canary: workload({ availableReplicas: 0 }) }))
    t.equal(notReady.status.phase, 'Progressing')
    const r = advance(input, observed())
    t.equal(r.status.phase, 'Promoting')
    t.same(effects(r), [{ kind: 'promote', revision: NEW }])
    t.match(events(r), [/analysis skipped/])
  })

  t.test('a closed confirm-traffic-increase gate holds the weight; one alert per wait', async t => {
    const input = { spec: spec({ webhooks: hooks(['confirm-traffic-increase', 'gate']) }), status: progressing({ canaryWeight: 20 }) }
    const r = advance(input, observed({ weights: routes(20), checks: [passing(successRate, 99.9), hook('confirm-traffic-increase', 'gate', 'fail')] }))
    t.equal(r.status.canaryWeight, 20)
    t.equal(r.status.phase, 'Progressing')
    t.same(alerts(r), ['warn: Canary traffic increase is waiting for approval.'])
    t.match(events(r), [/waiting for approval to increase the canary's traffic from 20% to 40%/])
    t.equal(r.status.conditions?.[0]?.lastUpdateTime, NOW.toISOString(), 'a healthy wait is progress: the deadline does not run')
    const next = advance({ ...input, status: r.status },
      observed({ now: later(60), weights: routes(20), checks: [passing(successRate, 99.9), hook('confirm-traffic-increase', 'gate', 'fail')] }))
    t.same(alerts(next), [], 'not repeated while the gate stays closed')
  })

  t.test('at the last weight a closed confirm-promotion gate means WaitingPromotion, analysis continues', async t => {
    const input = { spec: spec({ webhooks: hooks(['confirm-promotion', 'gate']) }), status: progressing({ canaryWeight: 100 }) }
    const r = advance(input, observed({ weights: routes(100), checks: [passing(successRate, 99.9), hook('confirm-promotion', 'gate', 'fail')] }))
    t.equal(r.status.phase, 'WaitingPromotion')
    t.equal(r.status.canaryWeight, 100, 'the weight is kept (Flagger shows 0 here)')
    t.same(alerts(r), ['warn: Canary promotion is waiting for approval.'])
    const failed = advance({ ...input, status: r.status }, observed({ now: later(60), weights: routes(100), checks: [failing(successRate, 50)] }))
    t.equal(failed.status.failedChecks, 1, 'WaitingPromotion still counts failed checks')
    const open = advance({ ...input, status: r.status },
      observed({ now: later(60), weights: routes(100), checks: [passing(successRate, 99.9), hook('confirm-promotion', 'gate', 'pass')] }))
    t.equal(open.status.phase, 'Promoting')
    t.same(effects(open), [{ kind: 'promote', revision: NEW }])
  })

  t.test('the mirrored step comes first when mirroring, with no step of weight', async t => {
    const mirrored = spec({ mirror: true, mirrorWeight: 50 }, { provider: 'istio' })
    const r = advance({ spec: mirrored, status: progressing() }, observed())
    t.equal(r.status.canaryWeight, 0)
    t.equal(r.status.iterations, 1)
    t.same(effects(r), [{ kind: 'route', weights: routes(0, 50) }])
    const next = advance({ spec: mirrored, status: r.status }, observed({ now: later(60), weights: routes(0, 50), checks: [passing(successRate, 99.9)] }))
    t.equal(next.status.canaryWeight, 20)
    t.same(effects(next), [{ kind: 'route', weights: routes(20) }])
  })
})

t.test('gates', async t => {
  t.test('muteAlert keeps a gate quiet, the event still says why', async t => {
    const quiet = spec({ webhooks: [{ name: 'gate', type: 'confirm-promotion', url: 'http://gate', muteAlert: true }] })
    const r = advance({ spec: quiet, status: progressing({ canaryWeight: 100 }) },
      observed({ weights: routes(100), checks: [passing(successRate, 99.9), hook('confirm-promotion', 'gate', 'fail')] }))
    t.equal(r.status.phase, 'WaitingPromotion')
    t.same(alerts(r), [])
    t.match(events(r), [/waiting for approval to promote podinfo at weight 100: confirm-promotion hook "gate" failed/])
  })

  t.test('blue-green: once approved, all traffic goes to the canary for one more checked tick, in Progressing', async t => {
    const bg = spec({ stepWeight: undefined, iterations: 3, webhooks: hooks(['confirm-promotion', 'gate']) }, { provider: 'kubernetes' })
    const r = advance({ spec: bg, status: status('WaitingPromotion', { iterations: 3 }) },
      observed({ checks: [passing(successRate, 99.9), hook('confirm-promotion', 'gate', 'pass')] }))
    t.equal(r.status.phase, 'Progressing')
    t.same([r.status.canaryWeight, r.status.iterations], [100, 4])
    t.same(effects(r), [{ kind: 'route', weights: routes(100) }])
    const failed = advance({ spec: bg, status: r.status }, observed({ now: later(60), weights: routes(100), checks: [failing(successRate, 80)] }))
    t.match(events(failed), [/halted with all traffic on the canary after 3 iterations: /])
    const promoted = advance({ spec: bg, status: r.status }, observed({ now: later(60), weights: routes(100), checks: [passing(successRate, 99.9)] }))
    t.equal(promoted.status.phase, 'Promoting')
  })
})

t.test('the checks log keeps only the most recent entries', async t => {
  const full = Array.from({ length: MAX_STATUS_CHECKS }, (_, i) => ({ name: successRate, value: 99, verdict: 'pass' as const, time: ago(3600 - i) }))
  const r = advance({ spec: spec(), status: progressing({ canaryWeight: 20, checks: full }) }, observed({ weights: routes(20), checks: [failing(successRate, 91.2)] }))
  t.equal(r.status.checks?.length, MAX_STATUS_CHECKS)
  t.match(r.status.checks?.at(-1), { value: 91.2, verdict: 'fail' })
  t.equal(r.status.checks?.[0]?.time, ago(3599), 'the oldest went')
})

t.test('suspend: nothing but an event', async t => {
  const input = { spec: spec({}, { suspend: true }), status: progressing({ canaryWeight: 40 }) }
  const r = advance(input, observed({ weights: routes(20), checks: [failing(successRate, 1)] }))
  t.equal(r.status, input.status)
  t.same(r.actions, [{ kind: 'event', type: 'Normal', reason: 'Suspended', message: 'skipping canary run as object is suspended', onceEvery: 60_000 }])
  t.equal(nextTickAt(input), undefined)
})

t.test('opt-out and deletion', async t => {
  t.test('the target is scaled back up first, and must be ready before the generated objects go', async t => {
    const r = advance({ spec: spec(), status: status('Succeeded') }, observed({ revision: OLD, deleting: true, canary: workload({ replicas: 0 }) }))
    t.equal(r.status.phase, 'Terminating')
    t.same(effects(r), [{ kind: 'scale', workload: 'canary', replicas: 3 }])
    const ready = advance({ spec: spec(), status: r.status }, observed({ revision: OLD, deleting: true }))
    t.equal(ready.status.phase, 'Terminated')
    t.same(effects(ready), [{ kind: 'finalize' }])
  })

  t.test('an opt-out reverts the same way, even while suspended', async t => {
    const r = advance({ spec: spec({}, { suspend: true }), status: status('Succeeded') }, observed({ revision: OLD, optedOut: true }))
    t.equal(r.status.phase, 'Terminated')
  })

  t.test('revertOnDeletion: false finalizes at once', async t => {
    const r = advance({ spec: spec({}, { revertOnDeletion: false }), status: status('Succeeded') },
      observed({ revision: OLD, deleting: true, canary: workload({ replicas: 0 }) }))
    t.equal(r.status.phase, 'Terminated')
    t.same(effects(r), [{ kind: 'finalize' }])
  })

  t.test('opting in again after Terminated starts over with Initializing', async t => {
    const r = advance({ spec: spec(), status: status('Terminated') }, observed({ revision: OLD, weights: undefined }))
    t.equal(r.status.phase, 'Initializing')
  })
})

t.test('nextTickAt: one interval after the last tick, only in timed phases', async t => {
  t.equal(nextTickAt({ spec: spec(), status: progressing({ progressAgo: 30 }) })?.toISOString(), later(30).toISOString())
  t.equal(nextTickAt({ spec: spec({ interval: '30s' }), status: progressing({ progressAgo: 30 }) })?.toISOString(), NOW.toISOString())
  t.equal(nextTickAt({ spec: spec(), status: status('Succeeded') }), undefined)
  const withRecord = progressing({ progressAgo: 300, checks: [{ name: successRate, value: null, verdict: 'no-data', time: ago(10) }] })
  t.equal(nextTickAt({ spec: spec(), status: withRecord })?.toISOString(), later(50).toISOString(), 'a hold is a tick too')
})

t.test('a scheduler firing a little early still gets its tick', async t => {
  const r = advance({ spec: spec(), status: progressing({ canaryWeight: 20, progressAgo: 59.5 }) }, observed({ weights: routes(20) }))
  t.equal(checkRequest(r), 'metrics')
})

t.test('needsMetricsHealth: the servers are asked for a new Canary and when an analysis tick is due, nowhere else', async t => {
  t.equal(needsMetricsHealth({ spec: spec() }, NOW), true, 'a new Canary (the Initializing event)')
  t.equal(needsMetricsHealth({ spec: spec(), status: progressing({ progressAgo: 60 }) }, NOW), true, 'Progressing, tick due')
  t.equal(needsMetricsHealth({ spec: spec(), status: status('WaitingPromotion', { progressAgo: 60 }) }, NOW), true, 'WaitingPromotion, tick due')
  t.equal(needsMetricsHealth({ spec: spec(), status: progressing({ progressAgo: 59.5 }) }, NOW), true, 'up to a second early, as isDue')
  t.equal(needsMetricsHealth({ spec: spec(), status: progressing({ progressAgo: 30 }) }, NOW), false, 'between ticks (a watch event)')
  for (const phase of ['Initializing', 'Initialized', 'Waiting', 'Promoting', 'Finalising', 'Succeeded', 'Failed', 'Terminating'] as const) {
    t.equal(needsMetricsHealth({ spec: spec(), status: status(phase, { progressAgo: 600 }) }, NOW), false, phase)
  }
  t.equal(needsMetricsHealth({ spec: spec({ metrics: [] }), status: progressing() }, NOW), false, 'no metrics')
  t.equal(needsMetricsHealth({ spec: spec({}, { skipAnalysis: true }), status: progressing() }, NOW), false, 'skipAnalysis')
  t.equal(needsMetricsHealth({ spec: spec({}, { suspend: true }), status: progressing() }, NOW), false, 'suspended')
})
