// What a rollout does when things go wrong around it: the controller dies mid-analysis, the canary never
// becomes ready, Prometheus goes away.
import t from 'tap'
import { CoordinationV1Api } from '@kubernetes/client-node'
import { startPrometheus } from '../cluster/prometheus.ts'
import { until } from '../helpers/wait.ts'
import { apply, canaryWeightAnnotation, canaryWeights, deploymentYaml, IMAGE_V1, IMAGE_V2, nginxCanary } from './apps.ts'
import { initializedApp } from './releases.ts'
import { admin, canary, deployment, eventsOf, phase, recorder, sharedEnvironment, testNamespace } from './env.ts'
import type { Canary } from '../../src/api/types.ts'

const shared = await sharedEnvironment()
t.teardown(() => shared.stop())
const leases = admin.makeApiClient(CoordinationV1Api)

/** When the controller's Lease (in sluice-system, named by startController) stops protecting its holder. */
async function leaseExpiresAt(name: string): Promise<number> {
  const spec = (await leases.readNamespacedLease({ name, namespace: 'sluice-system' })).spec
  // client-node may hand MicroTime back as a Date or as a string: new Date() keeps the milliseconds of both.
  const renewed = new Date(spec?.renewTime ?? spec?.acquireTime ?? '').getTime()
  return renewed + (spec?.leaseDurationSeconds ?? 0) * 1000
}

/** The last time the analysis acted on the Canary: its newest condition update or check record. */
function lastTickMs(c: Canary | undefined): number | undefined {
  const times = [...(c?.status?.conditions ?? []).map(x => x.lastUpdateTime), c?.status?.checks?.at(-1)?.time].map(x => Date.parse(String(x)))
  const known = times.filter(x => !Number.isNaN(x))
  return known.length > 0 ? Math.max(...known) : undefined
}

const INTERVAL_MS = 3_000

t.test('7. a controller killed mid-Progressing resumes at the same weight', async t => {
  const { ns, controller } = await testNamespace(t, { metricsServer: shared.prometheus.url })
  const annotations = nginxCanary({ interval: `${INTERVAL_MS / 1000}s`, step: 10, max: 50 })
  await initializedApp(ns, annotations)
  await apply(deploymentYaml({ ns, image: IMAGE_V2, sluice: annotations }))
  await until(() => canary(ns, 'podinfo'), c => (c?.status?.canaryWeight ?? 0) >= 20, 'the analysis at weight 20 or more', 120_000)
  await controller.kill()
  // The status is written before the router is set: a crash in between leaves the router one step behind.
  const weightAtKill = (await canary(ns, 'podinfo'))?.status?.canaryWeight ?? -1
  const routedAtKill = Number(await canaryWeightAnnotation(ns))
  t.ok(routedAtKill === weightAtKill || routedAtKill === weightAtKill - 10, `the router shows the status weight ${weightAtKill} or the step before (${routedAtKill})`)
  const weights = await canaryWeights(ns)
  // Nobody acting must mean standing still, not drifting or resetting. Instead of sleeping a few intervals,
  // wait until the API server's own records show that a tick was due and nobody took it: the dead leader's
  // Lease has expired (a successor could lead) and the last analysis tick is more than an interval old.
  await until(async () => ({ lease: await leaseExpiresAt(`sluice-${ns}`), tick: lastTickMs(await canary(ns, 'podinfo')) }),
    ({ lease, tick }) => lease < Date.now() && tick !== undefined && tick + INTERVAL_MS < Date.now(),
    'the lease expired and an analysis tick overdue', 60_000)
  t.same(weights.values, [String(routedAtKill)], 'nothing moved while no controller ran')
  t.equal((await canary(ns, 'podinfo'))?.status?.phase, 'Progressing')
  await controller.restart()
  const done = await phase(ns, 'podinfo', 'Succeeded', 180_000, 'Failed')
  const seen = await weights.stop()
  const expected = routedAtKill === weightAtKill ? [weightAtKill] : [routedAtKill, weightAtKill]
  for (let w = weightAtKill + 10; w <= 50; w += 10) expected.push(w)
  t.same(seen, [...expected.map(String), '0'], 'the new controller carried on from the recorded weight, step by step, to promotion')
  t.equal(done.status?.failedChecks, 0)
  t.equal((await deployment(ns, 'podinfo-primary'))?.spec?.template?.spec?.containers[0]?.image, IMAGE_V2)
})

t.test('12. a canary that never becomes ready is rolled back at the progress deadline, with an alert', async t => {
  const { ns } = await testNamespace(t, { metricsServer: shared.prometheus.url })
  const annotations = nginxCanary({ deadline: 15 })
  await initializedApp(ns, annotations)
  // No node carries this label: the new version's pods stay Pending.
  await apply(deploymentYaml({ ns, image: IMAGE_V2, sluice: annotations, podSpec: { nodeSelector: { 'sluice.dev/test-node': 'none' } } }))
  const failed = await phase(ns, 'podinfo', 'Failed', 120_000, 'Succeeded')
  t.equal(failed.status?.canaryWeight, 0)
  t.equal(await canaryWeightAnnotation(ns), '0', 'all traffic on the primary')
  t.equal((await deployment(ns, 'podinfo-primary'))?.spec?.template?.spec?.containers[0]?.image, IMAGE_V1, 'the primary keeps the old version')
  await until(() => deployment(ns, 'podinfo'), d => d?.spec?.replicas === 0, 'the canary scaled to zero')
  const events = (await eventsOf(ns, 'Canary', 'podinfo')).join('\n')
  t.match(events, /Normal CanaryNotReady: waiting for the canary/, 'the wait was reported while it lasted')
  t.match(events, /Warning Alert: Progress deadline exceeded: .*not ready/, 'the rollback raised an alert that says why')
  t.match(events, /Warning RolledBack: Canary failed!/)
})

t.test('13. with Prometheus unreachable during the analysis the canary holds, says so, and is never promoted', async t => {
  // A Prometheus of its own, which this test stops in the middle of the analysis.
  const own = await startPrometheus([{ job_name: 'simulator', static_configs: [{ targets: [new URL(shared.simulatorUrl).host] }] }])
  t.teardown(() => own.stop())
  const { ns } = await testNamespace(t, { metricsServer: own.url })
  const annotations = nginxCanary({ interval: '2s', step: 10, max: 50 })
  await initializedApp(ns, annotations)
  await apply(deploymentYaml({ ns, image: IMAGE_V2, sluice: annotations }))
  await until(() => canary(ns, 'podinfo'), c => (c?.status?.checks ?? []).some(r => r.verdict === 'pass'), 'a metric check passed', 120_000)
  await own.stop()
  const stoppedAt = Date.now()
  const phases = recorder(async () => (await canary(ns, 'podinfo'))?.status?.phase)
  const server = new URL(own.url)
  const named = `${server.protocol}//${server.host}`
  // Its health answer is kept a few seconds, so the first failures may be failed queries; then it is offline.
  const held = await until(() => canary(ns, 'podinfo'), c => {
    const errors = (c?.status?.checks ?? []).filter(r => r.verdict === 'error' && Date.parse(r.time) > stoppedAt)
    return errors.length >= 4 && errors.some(r => r.message?.includes(`metrics server ${named} is unreachable`))
  }, 'four checks that could not run, one after the health check saw the server offline', 120_000)
  const weight = held?.status?.canaryWeight
  t.ok(weight !== undefined && weight < 50, `the canary holds below the maximum (at ${weight})`)
  const errors = (held?.status?.checks ?? []).filter(r => r.verdict === 'error' && Date.parse(r.time) > stoppedAt)
  t.ok(errors.every(r => r.value === null && /unreachable|connect|refused|ECONNREFUSED/i.test(r.message ?? '')), 'each says the provider could not be reached')
  t.equal(held?.status?.failedChecks, 0, 'not counted as failed checks')
  t.equal(held?.status?.phase, 'Progressing')
  t.equal((await canary(ns, 'podinfo'))?.status?.canaryWeight, weight, 'the weight did not move while the checks could not run')
  t.notOk((await phases.stop()).includes('Succeeded'), 'never promoted')
  // The controller asked Prometheus whether it was online before the analysis, and says which server is not.
  const offline = (await eventsOf(ns, 'Canary', 'podinfo')).filter(e => e.startsWith('Warning MetricsProviderOffline: '))
  t.ok(offline.length > 0, 'a MetricsProviderOffline Event')
  t.match(offline[0], `holding at weight ${weight}: metrics server ${named} does not answer (health query vector(1) failed), so no metric was queried`)
})
