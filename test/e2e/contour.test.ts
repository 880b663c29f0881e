// Releases through the contour router, end to end: kubectl apply, the webhook, the controller, the HTTPProxy in
// the API server (Contour's own CRD), and the simulator's envoy_cluster_upstream_rq for the canary Service's
// cluster, measured by a real Prometheus through contour's builtin request-success-rate.
import t, { type Test } from 'tap'
import { stringify } from 'yaml'
import { installContourCrds } from '../cluster/contour.ts'
import { kubeconfigPath } from '../helpers/kube.ts'
import { until } from '../helpers/wait.ts'
import { apply, deploymentYaml, IMAGE_V1, IMAGE_V2 } from './apps.ts'
import { canary, custom, deployment, eventsOf, phase, sharedEnvironment, testNamespace, watchRecorder } from './env.ts'

const shared = await sharedEnvironment()
t.teardown(() => shared.stop())

const SUCCESS_RATE = 'metrics:\n- {name: request-success-rate, interval: 10s, thresholdRange: {min: 99}}\n'
const annotations = (strategy: 'canary' | 'ab', analysis: string): Record<string, string> =>
  ({ 'sluice.dev/strategy': strategy, 'sluice.dev/provider': 'contour', 'sluice.dev/port': '9898', 'sluice.dev/analysis': `interval: 2s\nthreshold: 2\n${analysis}${SUCCESS_RATE}` })
const STEPS = annotations('canary', 'stepWeight: 20\nmaxWeight: 60\n')
const AB = annotations('ab', 'iterations: 3\nmatch: [{headers: {x-canary: {exact: insider}}}]\n')

interface StoredProxy { spec?: { routes?: { conditions?: { header?: { name: string; exact?: string } }[]; services?: { name: string; weight?: number }[] }[] } }

/** Each route of HTTPProxy podinfo as "header=value … -> service:weight …". */
const routesOf = (p: StoredProxy): string[] => (p.spec?.routes ?? []).map(r =>
  [...(r.conditions ?? []).flatMap(c => c.header ? [`${c.header.name}=${c.header.exact}`] : []), '->', ...(r.services ?? []).map(s => `${s.name}:${s.weight ?? 0}`)].join(' '))
const canaryWeightOf = (p: StoredProxy): number => p.spec?.routes?.[0]?.services?.find(s => s.name === 'podinfo-canary')?.weight ?? 0
const proxyRef = (ns: string): { group: string; version: string; namespace: string; plural: string; name: string } =>
  ({ group: 'projectcontour.io', version: 'v1', namespace: ns, plural: 'httpproxies', name: 'podinfo' })

/** podinfo opted in with `sluice` and Initialized, then its HTTPProxy recorded through the release of v2 (with `pod` annotations). */
async function release<T>(t: Test, sluice: Record<string, string>, read: (p: StoredProxy) => T, pod?: Record<string, string>): Promise<{ ns: string; seen: { stop(): Promise<T[]> } }> {
  await installContourCrds(kubeconfigPath())
  const { ns } = await testNamespace(t, { metricsServer: shared.prometheus.url })
  await apply(deploymentYaml({ ns, sluice }))
  await phase(ns, 'podinfo', 'Initialized')
  const seen = await watchRecorder(`/apis/projectcontour.io/v1/namespaces/${ns}/httpproxies`, 'podinfo', o => read(o as StoredProxy))
  await apply(deploymentYaml({ ns, image: IMAGE_V2, sluice, ...(pod && { pod }) }))
  return { ns, seen }
}

const measuredAndPassed = (c: Awaited<ReturnType<typeof canary>>): boolean =>
  (c?.status?.checks ?? []).some(r => r.name === 'request-success-rate' && r.verdict === 'pass' && r.value !== null && r.value >= 99)

t.test('contour: a good version is promoted through the weights of the HTTPProxy, on contour\'s builtin success rate', async t => {
  const { ns, seen } = await release(t, STEPS, canaryWeightOf)
  // The user's root HTTPProxy includes sluice's, as with Flagger: the fqdn is the user's, the split sluice's.
  await apply(stringify({ apiVersion: 'projectcontour.io/v1', kind: 'HTTPProxy', metadata: { name: 'www', namespace: ns },
    spec: { virtualhost: { fqdn: 'podinfo.example.com' }, includes: [{ name: 'podinfo', conditions: [{ prefix: '/' }] }] } }))
  await phase(ns, 'podinfo', 'Succeeded', 180_000, 'Failed')
  t.same(await seen.stop(), [0, 20, 40, 60, 0], 'the canary weights the HTTPProxy showed, in order')
  t.equal((await deployment(ns, 'podinfo-primary'))?.spec?.template?.spec?.containers[0]?.image, IMAGE_V2, 'the primary runs the new version')
  t.ok(measuredAndPassed(await canary(ns, 'podinfo')), 'the success rate was measured on envoy_cluster_upstream_rq and passed')
  t.match((await eventsOf(ns, 'Canary', 'podinfo')).join('\n'), /Promoted: Promotion completed!/)
  t.ok(await custom.getNamespacedCustomObject({ ...proxyRef(ns), name: 'www' }), 'the user\'s root HTTPProxy is still there')
})

t.test('contour: a bad version (error rate 0.5) is rolled back on contour\'s builtin success rate', async t => {
  const { ns, seen } = await release(t, STEPS, canaryWeightOf, { 'simulator.sluice.dev/error-rate': '0.5' })
  const c = await phase(ns, 'podinfo', 'Failed', 180_000, 'Succeeded')
  // The status is written before the router acts on it: wait for the router.
  await until(() => custom.getNamespacedCustomObject(proxyRef(ns)), p => canaryWeightOf(p as StoredProxy) === 0, 'the HTTPProxy back on the primary alone')
  const weights = await seen.stop()
  // How many steps the canary reached before the second failed check depends on when its first requests were scraped.
  t.ok(weights[0] === 0 && weights.at(-1) === 0 && weights.some(w => w > 0), `the HTTPProxy: idle, on the canary's steps, then the primary alone (${weights.join(', ')})`)
  t.equal(c.status?.failedChecks, 2, 'rolled back at the threshold')
  t.equal((await deployment(ns, 'podinfo-primary'))?.spec?.template?.spec?.containers[0]?.image, IMAGE_V1, 'the primary still runs the old version')
  const failed = (c.status?.checks ?? []).filter(r => r.name === 'request-success-rate' && r.verdict === 'fail')
  t.ok(failed.length >= 2 && failed.every(r => r.value !== null && r.value < 99), 'failed checks recorded with their values')
})

t.test('contour: A/B by header: requests with x-canary: insider go to the canary through the iterations, on contour\'s builtin success rate', async t => {
  const { ns, seen } = await release(t, AB, routesOf)
  const idle = ['x-canary=insider -> podinfo-primary:100 podinfo-canary:0', '-> podinfo-primary:100']
  const routed = ['x-canary=insider -> podinfo-primary:0 podinfo-canary:100', '-> podinfo-primary:100']
  const done = await phase(ns, 'podinfo', 'Succeeded', 180_000, 'Failed')
  t.same(await seen.stop(), [idle, routed, idle], 'HTTPProxy: idle, the header route on the canary through the iterations and the promotion, idle again')
  t.equal(done.status?.failedChecks, 0)
  t.ok(measuredAndPassed(done), 'the success rate of the header traffic was measured on the canary\'s cluster and passed')
  t.equal((await deployment(ns, 'podinfo-primary'))?.spec?.template?.spec?.containers[0]?.image, IMAGE_V2, 'the primary runs the new version')
  t.match((await eventsOf(ns, 'Canary', 'podinfo')).join('\n'), new RegExp(`Advance podinfo\\.${ns} canary iteration 3/3`))
})
