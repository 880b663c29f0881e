// Canary releases through nginx, end to end: kubectl apply, the webhook, the controller, the simulator's
// traffic measured by a real Prometheus.
import t, { type Test } from 'tap'
import { STATE_ANNOTATIONS } from '../../src/api/annotations.ts'
import { kubectlOk } from '../helpers/kube.ts'
import { until } from '../helpers/wait.ts'
import { apply, canaryWeightAnnotation, canaryWeights, deploymentYaml, IMAGE_V1, IMAGE_V2, IMAGE_V3, nginxCanary } from './apps.ts'
import { initializedApp } from './releases.ts'
import { canary, deployment, eventsOf, phase, sharedEnvironment, testNamespace } from './env.ts'

const shared = await sharedEnvironment()
t.teardown(() => shared.stop())
const metricsServer = shared.prometheus.url

async function initialized(t: Test, annotations = nginxCanary()): Promise<string> {
  const { ns } = await testNamespace(t, { metricsServer })
  await initializedApp(ns, annotations)
  return ns
}

t.test('1. a new app is Initialized: primary, Services and router objects, no analysis', async t => {
  const ns = await initialized(t)
  const c = await canary(ns, 'podinfo')
  t.equal(c?.status?.canaryWeight, 0, 'weight 0')
  t.same(c?.status?.checks ?? [], [], 'no check ran on a first deployment')
  const primary = await deployment(ns, 'podinfo-primary')
  t.equal(primary?.spec?.replicas, 2, 'the primary runs the replicas the user asked for')
  t.equal(primary?.spec?.template?.spec?.containers[0]?.image, IMAGE_V1)
  t.equal((await deployment(ns, 'podinfo'))?.spec?.replicas, 0, 'the target stays at zero')
  const selectors = await kubectlOk(['-n', ns, 'get', 'service', '-o', 'jsonpath={range .items[*]}{.metadata.name}={.spec.selector.app}{"\\n"}{end}'])
  t.same(selectors.trim().split('\n').sort(), ['podinfo-canary=podinfo', 'podinfo-primary=podinfo-primary', 'podinfo=podinfo-primary'], 'apex, -primary and -canary Services')
  t.equal(await canaryWeightAnnotation(ns), '0', 'the canary Ingress exists at weight 0')
  t.match((await eventsOf(ns, 'Canary', 'podinfo')).join('\n'), /Initialized: Initialization done!/)
})

t.test('2. a good version is promoted through the configured weights', async t => {
  const ns = await initialized(t)
  const weights = await canaryWeights(ns)
  await apply(deploymentYaml({ ns, image: IMAGE_V2, sluice: nginxCanary() }))
  await phase(ns, 'podinfo', 'Succeeded', 180_000, 'Failed')
  t.same(await weights.stop(), ['0', '20', '40', '60', '0'], 'the weights the router objects showed, in order')
  t.equal((await deployment(ns, 'podinfo-primary'))?.spec?.template?.spec?.containers[0]?.image, IMAGE_V2, 'the primary runs the new version')
  t.equal((await deployment(ns, 'podinfo'))?.spec?.replicas, 0, 'the canary is scaled down')
  const c = await canary(ns, 'podinfo')
  t.ok((c?.status?.checks ?? []).some(r => r.name === 'request-success-rate' && r.verdict === 'pass' && r.value !== null && r.value >= 99),
    'the success rate was measured and passed')
  t.match((await eventsOf(ns, 'Canary', 'podinfo')).join('\n'), /Promoted: Promotion completed!/)
})

t.test('3. a bad version (error rate 0.5) is rolled back after threshold failed checks', async t => {
  const ns = await initialized(t)
  await apply(deploymentYaml({ ns, image: IMAGE_V2, pod: { 'simulator.sluice.dev/error-rate': '0.5' }, sluice: nginxCanary() }))
  const c = await phase(ns, 'podinfo', 'Failed', 180_000, 'Succeeded')
  t.equal(c.status?.failedChecks, 2, 'rolled back at the threshold')
  t.equal(c.status?.canaryWeight, 0, 'no traffic on the canary')
  t.equal(await canaryWeightAnnotation(ns), '0', 'the router sends everything to the primary')
  t.equal((await deployment(ns, 'podinfo-primary'))?.spec?.template?.spec?.containers[0]?.image, IMAGE_V1, 'the primary still runs the old version')
  await until(() => deployment(ns, 'podinfo'), d => d?.spec?.replicas === 0, 'the canary scaled to zero')
  const failed = (c.status?.checks ?? []).filter(r => r.name === 'request-success-rate' && r.verdict === 'fail')
  t.ok(failed.length >= 2 && failed.every(r => r.value !== null && r.value < 99), 'failed checks recorded with their values')
  const events = (await eventsOf(ns, 'Canary', 'podinfo')).join('\n')
  t.match(events, /request-success-rate [0-9.]+% is below the minimum 99%/, 'the Events say which metric, its value and the threshold')
  t.match(events, /Warning Rollback|Warning RolledBack|Canary failed|rolling back/i, 'and that it rolled back')
})

t.test('6. a new revision in the middle of an analysis restarts it with that revision', async t => {
  const ns = await initialized(t, nginxCanary({ interval: '3s', step: 10, max: 50 }))
  await apply(deploymentYaml({ ns, image: IMAGE_V2, sluice: nginxCanary({ interval: '3s', step: 10, max: 50 }) }))
  const during = await until(() => canary(ns, 'podinfo'), c => (c?.status?.canaryWeight ?? 0) >= 20, 'the analysis of v2 under way', 120_000)
  const v2 = during?.status?.lastAppliedSpec
  const weights = await canaryWeights(ns)
  await apply(deploymentYaml({ ns, image: IMAGE_V3, sluice: nginxCanary({ interval: '3s', step: 10, max: 50 }) }))
  const v3Revision = (await deployment(ns, 'podinfo'))?.metadata?.annotations?.[STATE_ANNOTATIONS.revision]
  const restarted = await until(() => canary(ns, 'podinfo'), c => c?.status?.lastAppliedSpec !== v2, 'the analysis restarted', 60_000)
  t.equal(restarted?.status?.lastAppliedSpec, v3Revision, 'the analysis now runs the new revision')
  await phase(ns, 'podinfo', 'Succeeded', 180_000, 'Failed')
  const seen = await weights.stop()
  // The record starts when the status says 20, and the router may still show 10 then: look past that.
  const reset = seen.indexOf('0')
  t.ok(reset > 0 && seen[reset + 1] === '10', `traffic went back to 0, then the new analysis stepped from 10 (saw ${seen.join(' ')})`)
  t.equal((await deployment(ns, 'podinfo-primary'))?.spec?.template?.spec?.containers[0]?.image, IMAGE_V3, 'v3 was promoted, not v2')
  t.match((await eventsOf(ns, 'Canary', 'podinfo')).join('\n'), /New revision|restart/i)
})
