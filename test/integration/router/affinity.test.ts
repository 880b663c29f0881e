// Session affinity on the real API server, with Istio's and Gateway API's own CRDs (their schemas and CEL
// rules): the istio and gatewayapi routers, as sluice's ServiceAccount, through a promotion and then a release
// that is rolled back, with the cookies in the Canary's status as the phase machine decides them (a cookie per
// release while the canary has traffic, the previous one once it has none). What the API server stored is
// read back and compared with what the router meant to write.
import t, { type Test } from 'tap'
import { AppsV1Api, CustomObjectsApi } from '@kubernetes/client-node'
import { applyClient } from '../../../src/kube/apply.ts'
import type { Canary, CanarySpec, CanaryStatus } from '../../../src/api/types.ts'
import { routerFor } from '../../../src/router/registry.ts'
import { cookieRegex } from '../../../src/router/cookies.ts'
import { STICKY_ROUTES, virtualService } from '../../../src/router/istio.ts'
import { httpRoute } from '../../../src/router/gatewayapi.ts'
import { installGatewayApiCrds } from '../../cluster/gateway-api.ts'
import { installIstioCrds } from '../../cluster/istio.ts'
import { absent, kubeConfig, kubeconfigPath, namespace, sluiceKubeConfig } from '../../helpers/kube.ts'
import { canary, container, deployment, manifest } from '../../helpers/objects.ts'

const admin = kubeConfig()
const apps = admin.makeApiClient(AppsV1Api)
const custom = admin.makeApiClient(CustomObjectsApi)

t.before(async () => {
  await installGatewayApiCrds(kubeconfigPath())
  await installIstioCrds(kubeconfigPath())
})

const ANALYSIS = { interval: '30s', threshold: 5, maxWeight: 50, stepWeight: 10, sessionAffinity: { cookieName: 'shop', maxAge: 3600, primaryCookieName: 'stay' } }

async function setup(ns: string, spec: Partial<CanarySpec>): Promise<Canary> {
  await apps.createNamespacedDeployment({ namespace: ns, body: manifest(deployment({
    metadata: { namespace: ns }, spec: { replicas: 0, template: { spec: { containers: [container({ image: 'example.invalid/podinfo:1' })] } } },
  })) })
  const body = manifest(canary({ metadata: { namespace: ns }, spec: { ...spec, analysis: ANALYSIS } }))
  return await custom.createNamespacedCustomObject({ group: 'sluice.dev', version: 'v1beta1', namespace: ns, plural: 'canaries', body }) as Canary
}

/** The statuses of two releases as the machine writes them: the first promoted, the second rolled back. */
const RELEASES: { readonly what: string; readonly status: CanaryStatus; readonly weights: readonly number[] }[] = [
  { what: 'before any release', status: {}, weights: [0] },
  { what: 'release 1, canary steps', status: { sessionAffinityCookie: 'shop=one', primarySessionAffinityCookie: 'stay=one' }, weights: [10, 50] },
  { what: 'release 1 promoted', status: { previousSessionAffinityCookie: 'shop=one' }, weights: [0] },
  { what: 'release 2, canary steps', status: { sessionAffinityCookie: 'shop=two', primarySessionAffinityCookie: 'stay=two', previousSessionAffinityCookie: 'shop=one' }, weights: [10] },
  { what: 'release 2 rolled back', status: { previousSessionAffinityCookie: 'shop=two' }, weights: [0] },
]

/** Every Set-Cookie value and every Cookie match in a stored object, wherever they are (Istio keys them by name, Gateway API lists them). */
function cookiesIn(o: unknown, found: { set: string[]; match: string[] } = { set: [], match: [] }): { set: string[]; match: string[] } {
  if (Array.isArray(o)) { for (const v of o) cookiesIn(v, found); return found }
  if (o === null || typeof o !== 'object') return found
  const r = o as Record<string, unknown>
  if (r.name === 'Set-Cookie' && typeof r.value === 'string') found.set.push(r.value)
  if (r.name === 'Cookie' && typeof r.value === 'string') found.match.push(r.value)
  for (const [k, v] of Object.entries(r)) {
    if (k === 'Set-Cookie' && typeof v === 'string') found.set.push(v)
    else if (k === 'Cookie' && typeof (v as { regex?: unknown }).regex === 'string') found.match.push((v as { regex: string }).regex)
    else cookiesIn(v, found)
  }
  return found
}

/** What each release state must show: the cookies handed out and matched, as `name=value` plus Max-Age. */
function expectedCookies(status: CanaryStatus): { set: string[]; match: string[] } {
  const [name, value] = (status.sessionAffinityCookie ?? status.previousSessionAffinityCookie ?? '=').split('=') as [string, string]
  if (status.sessionAffinityCookie) {
    const [pName, pValue] = status.primarySessionAffinityCookie!.split('=') as [string, string]
    return { set: [`stay=${pValue}; Max-Age=30; Path=/`, `shop=${value}; Max-Age=3600; Path=/`].sort(), match: [cookieRegex(name, value), cookieRegex(pName, pValue)].sort() }
  }
  if (status.previousSessionAffinityCookie) return { set: [`shop=${value}; Max-Age=-1; Path=/`], match: [cookieRegex(name, value)] }
  return { set: [], match: [] }
}

async function throughReleases(t: Test, c: Canary, read: () => Promise<{ spec: unknown }>, written: (c: Canary, primary: number, canary: number) => { spec: unknown }): Promise<void> {
  const router = routerFor(c.spec.provider, applyClient(sluiceKubeConfig()))
  await router.reconcile(c)
  for (const { what, status, weights } of RELEASES) {
    const at = { ...c, status }
    for (const w of weights) {
      await router.setRoutes(at, { primary: 100 - w, canary: w })
      const stored = await read()
      const found = cookiesIn(stored.spec)
      t.same({ set: found.set.sort(), match: found.match.sort() }, expectedCookies(status), `${what}, weight ${w}: the cookies handed out and routed`)
      t.same(stored.spec, written(at, 100 - w, w).spec, `${what}, weight ${w}: stored as written`)
      t.same(await router.getRoutes(at), { primary: 100 - w, canary: w }, `${what}, weight ${w}: read back`)
      await router.reconcile(at)
      t.same(await router.getRoutes(at), { primary: 100 - w, canary: w }, 'a reconcile keeps the weights')
      t.same((await read()).spec, stored.spec, 'and the session routes')
    }
  }
  await router.finalize(c)
}

t.test('istio: sticky routes and Set-Cookie through a promotion and a rollback; finalize removes them with the VirtualService', async t => {
  const ns = await namespace(t)
  const c = await setup(ns, { provider: 'istio', service: { port: 9898, headers: { response: { add: { 'x-b': '2' } } }, match: [{ uri: { prefix: '/' } }] } })
  const ref = { group: 'networking.istio.io', version: 'v1', namespace: ns, plural: 'virtualservices', name: 'podinfo' }
  const read = async (): Promise<{ spec: { http: { name?: string }[] } }> => await custom.getNamespacedCustomObject(ref) as { spec: { http: { name?: string }[] } }
  await throughReleases(t, c, read, (at, primary, canaryWeight) => virtualService(at, { primary, canary: canaryWeight }))
  t.ok(await absent(() => custom.getNamespacedCustomObject(ref)), 'the VirtualService is deleted')
  t.same(Object.values(STICKY_ROUTES), ['sticky-canary', 'sticky-primary', 'sticky-expired'])
})

for (const version of ['v1', 'v1beta1'] as const) {
  const provider = version === 'v1' ? 'gatewayapi' : 'gatewayapi:v1beta1'
  t.test(`${provider}: cookie rules and ResponseHeaderModifiers through a promotion and a rollback, accepted by the CRD's rules`, async t => {
    const ns = await namespace(t)
    const c = await setup(ns, { provider, service: { port: 9898, headers: { response: { add: { 'x-b': '2' } } }, gatewayRefs: [{ name: 'public', namespace: 'gateways', group: 'gateway.networking.k8s.io', kind: 'Gateway' }] } })
    const ref = { group: 'gateway.networking.k8s.io', version, namespace: ns, plural: 'httproutes', name: 'podinfo' }
    const read = async (): Promise<{ spec: unknown }> => await custom.getNamespacedCustomObject(ref) as { spec: unknown }
    await throughReleases(t, c, read, (at, primary, canaryWeight) => httpRoute(at, { primary, canary: canaryWeight }, version))
    t.ok(await absent(() => custom.getNamespacedCustomObject(ref)), 'the HTTPRoute is deleted')
  })
}
