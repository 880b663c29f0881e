// Canary releases through the istio router, end to end: kubectl apply, the webhook, the controller, the
// VirtualService in the API server (Istio's own CRDs), and the simulator's istio_requests_total measured by
// a real Prometheus through istio's builtin request-success-rate.
import t from 'tap'
import { until } from '../helpers/wait.ts'
import { apply, deploymentYaml, IMAGE_V1, IMAGE_V2 } from './apps.ts'
import { canary, deployment, eventsOf, phase, sharedEnvironment } from './env.ts'
import { canaryWeightOf, initialized, ISTIO, virtualServiceRecorder } from './istio.ts'

const shared = await sharedEnvironment()
t.teardown(() => shared.stop())
const metricsServer = shared.prometheus.url

t.test('istio: a good version is promoted through the weights of the VirtualService, on istio\'s builtin success rate', async t => {
  const ns = await initialized(t, metricsServer)
  const weights = await virtualServiceRecorder(ns, canaryWeightOf)
  await apply(deploymentYaml({ ns, image: IMAGE_V2, sluice: ISTIO }))
  await phase(ns, 'podinfo', 'Succeeded', 180_000, 'Failed')
  t.same(await weights.stop(), [0, 20, 40, 60, 0], 'the canary weights the VirtualService showed, in order')
  t.equal((await deployment(ns, 'podinfo-primary'))?.spec?.template?.spec?.containers[0]?.image, IMAGE_V2, 'the primary runs the new version')
  const c = await canary(ns, 'podinfo')
  t.ok((c?.status?.checks ?? []).some(r => r.name === 'request-success-rate' && r.verdict === 'pass' && r.value !== null && r.value >= 99),
    'the success rate was measured on istio_requests_total and passed')
  t.match((await eventsOf(ns, 'Canary', 'podinfo')).join('\n'), /Promoted: Promotion completed!/)
})

t.test('istio: a bad version (error rate 0.5) is rolled back on istio\'s builtin success rate', async t => {
  const ns = await initialized(t, metricsServer)
  const weights = await virtualServiceRecorder(ns, canaryWeightOf)
  await apply(deploymentYaml({ ns, image: IMAGE_V2, pod: { 'simulator.sluice.dev/error-rate': '0.5' }, sluice: ISTIO }))
  const c = await phase(ns, 'podinfo', 'Failed', 180_000, 'Succeeded')
  // The status is written before the router acts on it: wait for the watch to show the router's write.
  await until(async () => weights.values.at(-1), w => weights.values.length > 1 && w === 0, 'the VirtualService back on the primary alone')
  const seen = await weights.stop()
  // How many steps the canary reached before the second failed check depends on when its first requests were scraped.
  t.ok(seen[0] === 0 && seen.at(-1) === 0 && seen.some(w => w > 0), `the VirtualService: idle, on the canary's steps, then the primary alone (${seen.join(', ')})`)
  t.equal(c.status?.failedChecks, 2, 'rolled back at the threshold')
  t.equal(c.status?.canaryWeight, 0, 'no traffic on the canary')
  t.equal((await deployment(ns, 'podinfo-primary'))?.spec?.template?.spec?.containers[0]?.image, IMAGE_V1, 'the primary still runs the old version')
  await until(() => deployment(ns, 'podinfo'), d => d?.spec?.replicas === 0, 'the canary scaled to zero')
  const failed = (c.status?.checks ?? []).filter(r => r.name === 'request-success-rate' && r.verdict === 'fail')
  t.ok(failed.length >= 2 && failed.every(r => r.value !== null && r.value < 99), 'failed checks recorded with their values')
})
