// Session affinity on istio, end to end: kubectl apply with analysis.sessionAffinity, the controller decides the
// release's cookie in the Canary's status, the VirtualService hands it out on the canary's responses and routes
// it back to the canary, and the simulator's returning clients (its A/B fraction) send it. The analysis itself
// measures the effect through Prometheus: at weight 10 the canary must serve at least 15% of the requests, which
// only the clients held there by their cookie make up (the weights alone give it 10%, and the release fails).
import t from 'tap'
import { installIstioCrds } from '../cluster/istio.ts'
import { cookieRegex } from '../../src/router/cookies.ts'
import { STICKY_ROUTES } from '../../src/router/istio.ts'
import { kubeconfigPath } from '../helpers/kube.ts'
import { apply, deploymentYaml, IMAGE_V2 } from './apps.ts'
import { canary, custom, phase, sharedEnvironment, testNamespace, watchRecorder } from './env.ts'

const shared = await sharedEnvironment()
t.teardown(() => shared.stop())
const metricsServer = shared.prometheus.url

const ISTIO_WORKLOAD = 'reporter="destination",destination_workload_namespace="{{ namespace }}"'
const SHARE = `100 * sum(rate(istio_requests_total{${ISTIO_WORKLOAD},destination_workload="{{ target }}"}[{{ interval }}]))` +
  ` / sum(rate(istio_requests_total{${ISTIO_WORKLOAD},destination_workload=~"{{ target }}(-primary)?"}[{{ interval }}]))`

const ISTIO = {
  'sluice.dev/strategy': 'canary',
  'sluice.dev/provider': 'istio',
  'sluice.dev/port': '9898',
  'sluice.dev/analysis': [
    'interval: 2s', 'threshold: 15', 'stepWeight: 10', 'maxWeight: 10',
    'sessionAffinity: {cookieName: shop, maxAge: 600, primaryCookieName: stay}',
    'metrics:',
    '- {name: request-success-rate, interval: 10s, thresholdRange: {min: 99}}',
    `- {name: canary-share, interval: 6s, query: '${SHARE}', thresholdRange: {min: 15}}`,
  ].join('\n'),
}

interface Destination { destination?: { host?: string }; weight?: number; headers?: { response?: { add?: Record<string, string> } } }
interface HttpRoute { name?: string; match?: { headers?: { Cookie?: { regex?: string } } }[]; route?: Destination[]; headers?: { response?: { add?: Record<string, string> } } }
interface StoredVirtualService { spec?: { http?: HttpRoute[] } }

/** What a client sees of the VirtualService: the canary's weight, the cookie it hands out, the cookie routes. */
interface Seen { weight: number; setCookie?: string; routes: string[] }

function seen(vs: StoredVirtualService): Seen {
  const http = vs.spec?.http ?? []
  const weighted = http.find(h => h.name === undefined)
  const canaryDest = weighted?.route?.find(r => r.destination?.host === 'podinfo-canary')
  const setCookie = canaryDest?.headers?.response?.add?.['Set-Cookie']
  return { weight: canaryDest?.weight ?? 0, ...(setCookie && { setCookie }), routes: http.filter(h => h.name !== undefined).map(h => h.name!) }
}

/** The sticky-expired route: the Cookie regex it matches, the Set-Cookie it answers. */
function expiry(vs: StoredVirtualService): [string | undefined, string | undefined] {
  const expired = vs.spec?.http?.find(h => h.name === STICKY_ROUTES.expired)
  return [expired?.match?.[0]?.headers?.Cookie?.regex, expired?.headers?.response?.add?.['Set-Cookie']]
}

t.test('istio: a release with session affinity hands out one cookie, holds its clients on the canary, and expires it once promoted', async t => {
  await installIstioCrds(kubeconfigPath())
  const { ns } = await testNamespace(t, { metricsServer })
  await apply(deploymentYaml({ ns, sluice: ISTIO }))
  await phase(ns, 'podinfo', 'Initialized')
  const vs = { group: 'networking.istio.io', version: 'v1', namespace: ns, plural: 'virtualservices', name: 'podinfo' }
  const record = await watchRecorder(`/apis/networking.istio.io/v1/namespaces/${ns}/virtualservices`, 'podinfo', o => seen(o as StoredVirtualService))
  await apply(deploymentYaml({ ns, image: IMAGE_V2, sluice: ISTIO }))
  const done = await phase(ns, 'podinfo', 'Succeeded', 240_000, 'Failed')
  const states = await record.stop()

  const cookie = done.status?.previousSessionAffinityCookie
  t.match(cookie, /^shop=[A-Za-z0-9_-]+$/, 'the release\'s cookie, kept in the status as the previous one')
  t.equal(done.status?.sessionAffinityCookie, undefined, 'no current cookie once the canary has no traffic')
  const onCanary = states.filter(s => s.weight > 0)
  t.ok(onCanary.length > 0, `the canary had traffic (${JSON.stringify(states.map(s => s.weight))})`)
  t.same(onCanary.map(s => [s.setCookie, s.routes]), onCanary.map(() => [`${cookie}; Max-Age=600; Path=/`, [STICKY_ROUTES.canary, STICKY_ROUTES.primary]]),
    'while the canary had traffic: one cookie handed out by it, and the routes that bring its holders (and the primary\'s) back')
  t.same(states.at(-1), { weight: 0, routes: [STICKY_ROUTES.expired] }, 'promoted: nothing handed out, the old cookie only expired')
  t.same(expiry(await custom.getNamespacedCustomObject(vs) as StoredVirtualService), [cookieRegex('shop', cookie!.slice('shop='.length)), `${cookie}; Max-Age=-1; Path=/`],
    'it matches the requests that still carry the cookie, and tells them to delete it')
  const checks = (await canary(ns, 'podinfo'))?.status?.checks ?? []
  const share = checks.filter(r => r.name === 'canary-share' && r.verdict === 'pass')
  t.ok(share.length > 0 && share.every(r => r.value !== null && r.value >= 15),
    `the canary served over its 10% weight, as measured by Prometheus (${share.map(r => r.value?.toFixed(1)).join(', ')})`)
})
