// The routers against the real API server: they write as sluice's ServiceAccount (the guard lets only
// sluice write generated objects), while the admin plays the user and checks what is stored.
import t from 'tap'
import { AppsV1Api, CoreV1Api, CustomObjectsApi, NetworkingV1Api, type V1Ingress } from '@kubernetes/client-node'
import { applyClient } from '../../../src/kube/apply.ts'
import { routerFor } from '../../../src/router/registry.ts'
import { MANAGED_BY_LABEL } from '../../../src/api/resolve.ts'
import type { Canary, CanaryAnalysis, CanarySpec } from '../../../src/api/types.ts'
import { installGatewayApiCrds } from '../../cluster/gateway-api.ts'
import { kubeConfig, kubeconfigPath, namespace, sluiceKubeConfig } from '../../helpers/kube.ts'

const admin = kubeConfig()
const core = admin.makeApiClient(CoreV1Api)
const apps = admin.makeApiClient(AppsV1Api)
const net = admin.makeApiClient(NetworkingV1Api)
const custom = admin.makeApiClient(CustomObjectsApi)

function sluiceKube(): ReturnType<typeof applyClient> {
  return applyClient(sluiceKubeConfig())
}

t.before(async () => { await installGatewayApiCrds(kubeconfigPath()) })

/** The user's side: a Deployment `podinfo` (selector app: podinfo) and a Canary for it, read back with its uid. */
async function setup(ns: string, spec: Partial<CanarySpec>, analysis: CanaryAnalysis = { interval: '1m', threshold: 5, maxWeight: 50, stepWeight: 10 }): Promise<Canary> {
  await apps.createNamespacedDeployment({ namespace: ns, body: {
    metadata: { name: 'podinfo' },
    spec: { replicas: 0, selector: { matchLabels: { app: 'podinfo' } },
      template: { metadata: { labels: { app: 'podinfo' } }, spec: { containers: [{ name: 'app', image: 'example.invalid/podinfo:1' }] } } },
  } })
  const body: Canary = {
    apiVersion: 'sluice.dev/v1beta1', kind: 'Canary', metadata: { name: 'podinfo', namespace: ns },
    spec: { targetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'podinfo' }, service: { port: 9898 }, analysis, ...spec },
  }
  return await custom.createNamespacedCustomObject({ group: 'sluice.dev', version: 'v1beta1', namespace: ns, plural: 'canaries', body }) as Canary
}

async function serviceNames(ns: string): Promise<string[]> {
  return (await core.listNamespacedService({ namespace: ns })).items.map(s => s.metadata?.name ?? '').sort()
}

async function apexSelector(ns: string): Promise<Record<string, string> | undefined> {
  return (await core.readNamespacedService({ name: 'podinfo', namespace: ns })).spec?.selector
}

t.test('kubernetes: Services created, blue-green switch of the apex selector, finalize hands the apex back', async t => {
  const ns = await namespace(t)
  const c = await setup(ns, { provider: 'kubernetes' }, { interval: '1m', threshold: 5, iterations: 3 })
  const router = routerFor('kubernetes', sluiceKube())
  await router.reconcile(c)
  t.same(await serviceNames(ns), ['podinfo', 'podinfo-canary', 'podinfo-primary'])
  const primary = await core.readNamespacedService({ name: 'podinfo-primary', namespace: ns })
  t.same(primary.spec?.selector, { app: 'podinfo-primary' })
  t.equal(primary.metadata?.labels?.[MANAGED_BY_LABEL], 'sluice')
  t.equal(primary.metadata?.ownerReferences?.[0]?.uid, c.metadata.uid, 'owned by the Canary')
  t.same((await core.readNamespacedService({ name: 'podinfo-canary', namespace: ns })).spec?.selector, { app: 'podinfo' })
  t.same(await apexSelector(ns), { app: 'podinfo-primary' })
  t.same(await router.getRoutes(c), { primary: 100, canary: 0 })

  await router.setRoutes(c, { primary: 0, canary: 100 })
  t.same(await apexSelector(ns), { app: 'podinfo' }, 'the apex selects the canary pods')
  t.same(await router.getRoutes(c), { primary: 0, canary: 100 })
  await router.reconcile(c)
  t.same(await router.getRoutes(c), { primary: 0, canary: 100 }, 'a reconcile keeps the switched side')
  await t.rejects(router.setRoutes(c, { primary: 80, canary: 20 }), /blue-green/, 'a split is refused, not approximated')

  await router.finalize(c)
  t.same(await serviceNames(ns), ['podinfo'], 'the side Services are gone')
  const apex = await core.readNamespacedService({ name: 'podinfo', namespace: ns })
  t.same(apex.spec?.selector, { app: 'podinfo' }, 'the apex selects the target pods')
  t.notOk(apex.metadata?.labels?.[MANAGED_BY_LABEL], 'the apex is no longer marked as generated')
  t.same(apex.metadata?.ownerReferences ?? [], [], 'deleting the Canary no longer deletes the apex')
})

function userIngress(): V1Ingress {
  return {
    metadata: { name: 'web', annotations: { 'example.com/team': 'shop' } },
    spec: { ingressClassName: 'nginx', rules: [{ host: 'app.example.com', http: { paths: [
      { path: '/', pathType: 'Prefix', backend: { service: { name: 'podinfo', port: { number: 9898 } } } },
    ] } }] },
  }
}

async function annotations(ns: string, name: string): Promise<Record<string, string>> {
  return (await net.readNamespacedIngress({ name, namespace: ns })).metadata?.annotations ?? {}
}

t.test('nginx: canary Ingress weights and A/B annotations; the user Ingress is never written', async t => {
  const ns = await namespace(t)
  const created = await net.createNamespacedIngress({ namespace: ns, body: userIngress() })
  const c = await setup(ns, { provider: 'nginx', ingressRef: { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', name: 'web' } })
  const router = routerFor('nginx', sluiceKube())
  await router.reconcile(c)
  t.same(await serviceNames(ns), ['podinfo', 'podinfo-canary', 'podinfo-primary'])
  const canary = await net.readNamespacedIngress({ name: 'web-canary', namespace: ns })
  const [rule] = canary.spec?.rules ?? []
  t.equal(rule?.http?.paths[0]?.backend.service?.name, 'podinfo-canary')
  t.equal(rule?.host, 'app.example.com')
  t.same(canary.metadata?.ownerReferences?.map(o => o.uid), [c.metadata.uid])
  let a = await annotations(ns, 'web-canary')
  t.equal(a['nginx.ingress.kubernetes.io/canary'], 'true')
  t.equal(a['nginx.ingress.kubernetes.io/canary-weight'], '0')
  t.equal(a['example.com/team'], 'shop', 'the user annotations are carried over')

  await router.setRoutes(c, { primary: 80, canary: 20 })
  t.equal((await annotations(ns, 'web-canary'))['nginx.ingress.kubernetes.io/canary-weight'], '20')
  t.same(await router.getRoutes(c), { primary: 80, canary: 20 })
  await router.reconcile(c)
  t.same(await router.getRoutes(c), { primary: 80, canary: 20 }, 'a reconcile keeps the weight')

  const ab = { ...c, spec: { ...c.spec, analysis: { interval: '1m', threshold: 5, iterations: 3,
    match: [{ headers: { 'x-canary': { exact: 'insider' } } }, { headers: { cookie: { exact: 'canary' } } }] } } }
  await router.setRoutes(ab, { primary: 0, canary: 100 })
  a = await annotations(ns, 'web-canary')
  t.equal(a['nginx.ingress.kubernetes.io/canary-by-header'], 'x-canary')
  t.equal(a['nginx.ingress.kubernetes.io/canary-by-header-value'], 'insider')
  t.equal(a['nginx.ingress.kubernetes.io/canary-by-cookie'], 'canary')
  t.notOk(a['nginx.ingress.kubernetes.io/canary-weight'], 'A/B routes by header, not by weight')
  t.same(await router.getRoutes(ab), { primary: 0, canary: 100 })
  await router.setRoutes(ab, { primary: 100, canary: 0 })
  const back = await annotations(ns, 'web-canary')
  t.notOk(back['nginx.ingress.kubernetes.io/canary-by-header'], 'header routing removed at weight 0')
  t.same(await router.getRoutes(ab), { primary: 100, canary: 0 })

  await router.finalize(c)
  t.same((await net.listNamespacedIngress({ namespace: ns })).items.map(i => i.metadata?.name), ['web'], 'only the user Ingress is left')
  const user = await net.readNamespacedIngress({ name: 'web', namespace: ns })
  t.equal(user.metadata?.resourceVersion, created.metadata?.resourceVersion, 'the user Ingress was never written')
  t.same(await serviceNames(ns), ['podinfo'])
})

interface StoredRule { matches: unknown[]; backendRefs: { name: string; weight: number }[]; timeouts?: { request: string } }
interface StoredRoute { spec: { parentRefs: unknown[]; hostnames: string[]; rules: StoredRule[] } }

function ruleOf(route: StoredRoute, i: number): StoredRule {
  const r = route.spec.rules[i]
  if (!r) throw new Error(`HTTPRoute has no rules[${i}]: ${JSON.stringify(route.spec.rules)}`)
  return r
}

const weightsOf = (r: StoredRule): [string, number][] => r.backendRefs.map(b => [b.name, b.weight])

for (const version of ['v1', 'v1beta1'] as const) {
  const provider = version === 'v1' ? 'gatewayapi' : 'gatewayapi:v1beta1'
  t.test(`${provider}: HTTPRoute weights and A/B rules`, async t => {
    const ns = await namespace(t)
    const c = await setup(ns, { provider, service: { port: 9898, hosts: ['app.example.com'], timeout: '30s',
      gatewayRefs: [{ name: 'public', namespace: 'gateways' }] } })
    const router = routerFor(provider, sluiceKube())
    const read = async (): Promise<StoredRoute> =>
      await custom.getNamespacedCustomObject({ group: 'gateway.networking.k8s.io', version, namespace: ns, plural: 'httproutes', name: 'podinfo' }) as never
    await router.reconcile(c)
    let route = await read()
    t.same(route.spec.parentRefs, [{ group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'public', namespace: 'gateways' }])
    t.same(route.spec.hostnames, ['app.example.com'])
    t.equal(route.spec.rules.length, 1)
    t.same(ruleOf(route, 0).matches, [{ path: { type: 'PathPrefix', value: '/' } }])
    t.same(weightsOf(ruleOf(route, 0)), [['podinfo-primary', 100], ['podinfo-canary', 0]])
    t.same(ruleOf(route, 0).timeouts, { request: '30s' })

    await router.setRoutes(c, { primary: 80, canary: 20 })
    route = await read()
    t.same(weightsOf(ruleOf(route, 0)), [['podinfo-primary', 80], ['podinfo-canary', 20]])
    t.same(await router.getRoutes(c), { primary: 80, canary: 20 })
    await router.reconcile(c)
    t.same(await router.getRoutes(c), { primary: 80, canary: 20 }, 'a reconcile keeps the weights')

    const ab = { ...c, spec: { ...c.spec, analysis: { interval: '1m', threshold: 5, iterations: 3,
      match: [{ headers: { 'x-canary': { exact: 'insider' } }, queryParams: { beta: { exact: 'on' } } }, { headers: { cookie: { exact: 'canary' } } }] } } }
    await router.setRoutes(ab, { primary: 0, canary: 100 })
    route = await read()
    t.equal(route.spec.rules.length, 2)
    t.same(ruleOf(route, 0).matches, [
      { path: { type: 'PathPrefix', value: '/' }, headers: [{ type: 'Exact', name: 'x-canary', value: 'insider' }], queryParams: [{ type: 'Exact', name: 'beta', value: 'on' }] },
      { path: { type: 'PathPrefix', value: '/' }, headers: [{ type: 'RegularExpression', name: 'Cookie', value: '^(.*?;\\s*)?canary=always(;.*)?$' }] },
    ])
    t.same(weightsOf(ruleOf(route, 0)), [['podinfo-primary', 0], ['podinfo-canary', 100]])
    t.same(weightsOf(ruleOf(route, 1)), [['podinfo-primary', 100]], 'everything else stays on the primary')
    t.same(await router.getRoutes(ab), { primary: 0, canary: 100 })

    await router.finalize(c)
    const left = await custom.listNamespacedCustomObject({ group: 'gateway.networking.k8s.io', version, namespace: ns, plural: 'httproutes' }) as { items: unknown[] }
    t.equal(left.items.length, 0, 'the HTTPRoute is deleted')
    t.same(await serviceNames(ns), ['podinfo'])
  })
}
