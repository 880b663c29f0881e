// The routers' writes on the real API server, action by action: reconcile, setRoutes, getRoutes and
// finalize. They write and read back as sluice's ServiceAccount (so a rule missing from manifests/rbac.yaml
// fails here, and the guard lets only sluice write generated objects), while the admin plays the user and
// reads each stored object again to check what the API server kept.
import t, { type Test } from 'tap'
import { AppsV1Api, CoreV1Api, CustomObjectsApi, NetworkingV1Api, type V1Service } from '@kubernetes/client-node'
import { applyClient } from '../../../src/kube/apply.ts'
import { GITOPS_ANNOTATIONS } from '../../../src/kube/generated.ts'
import { MANAGED_BY_LABEL, MANAGED_BY_VALUE } from '../../../src/api/resolve.ts'
import type { Canary, CanaryAnalysis, CanarySpec, HttpMatch } from '../../../src/api/types.ts'
import type { Router } from '../../../src/router/router.ts'
import { routerFor } from '../../../src/router/registry.ts'
import { installGatewayApiCrds } from '../../cluster/gateway-api.ts'
import { installIstioCrds } from '../../cluster/istio.ts'
import { installTraefikCrds } from '../../cluster/traefik.ts'
import { installContourCrds } from '../../cluster/contour.ts'
import { installLinkerdCrds } from '../../cluster/linkerd.ts'
import { absent, kubeConfig, kubeconfigPath, kubectl, namespace, sluiceKubeConfig } from '../../helpers/kube.ts'
import { canary, container, deployment, ingress, manifest, type Overrides } from '../../helpers/objects.ts'

const admin = kubeConfig()
const core = admin.makeApiClient(CoreV1Api)
const apps = admin.makeApiClient(AppsV1Api)
const net = admin.makeApiClient(NetworkingV1Api)
const custom = admin.makeApiClient(CustomObjectsApi)

t.before(async () => {
  await installGatewayApiCrds(kubeconfigPath())
  await installIstioCrds(kubeconfigPath())
  await installTraefikCrds(kubeconfigPath())
  await installContourCrds(kubeconfigPath())
  await installLinkerdCrds(kubeconfigPath())
})

/** The router of `provider` as the controller builds it, on sluice's own identity. */
function routerAsSluice(provider: CanarySpec['provider']): Router {
  return routerFor(provider, applyClient(sluiceKubeConfig()))
}

/**
 * The user's side: the Deployment `podinfo` (selector app: podinfo, held at 0 replicas as the webhook holds
 * an opted-in target) and a Canary for it, read back with its uid as the controller sees it.
 */
async function setup(ns: string, spec: Overrides<CanarySpec>, analysis: CanaryAnalysis = { interval: '1m', threshold: 5, maxWeight: 50, stepWeight: 10 }): Promise<Canary> {
  await apps.createNamespacedDeployment({ namespace: ns, body: manifest(deployment({
    metadata: { namespace: ns }, spec: { replicas: 0, template: { spec: { containers: [container({ image: 'example.invalid/podinfo:1' })] } } },
  })) })
  const body = manifest(canary({ metadata: { namespace: ns }, spec: { ...spec, analysis } }))
  return await custom.createNamespacedCustomObject({ group: 'sluice.dev', version: 'v1beta1', namespace: ns, plural: 'canaries', body }) as Canary
}

/** The same Canary with A/B routing (analysis.match) instead of weights. */
function abTesting(c: Canary, match: HttpMatch[]): Canary {
  return { ...c, spec: { ...c.spec, analysis: { interval: '1m', threshold: 5, iterations: 3, match } } }
}

/** The metadata every object generated for `c` carries: the managed-by label, the controller reference, the GitOps opt-outs. */
function generated(c: Canary): Record<string, unknown> {
  return {
    labels: { [MANAGED_BY_LABEL]: MANAGED_BY_VALUE },
    annotations: GITOPS_ANNOTATIONS,
    ownerReferences: [{ apiVersion: 'sluice.dev/v1beta1', kind: 'Canary', name: c.metadata.name, uid: c.metadata.uid, controller: true, blockOwnerDeletion: true }],
  }
}

const readService = (ns: string, name: string): Promise<V1Service> => core.readNamespacedService({ name, namespace: ns })

/** The three Services as stored: each side's selector, the apex on `apexOn`, the port, generated for `c`. */
async function servicesWritten(t: Test, ns: string, c: Canary, apexOn: 'primary' | 'canary'): Promise<void> {
  const selects = { primary: 'podinfo-primary', canary: 'podinfo' }
  for (const [name, value] of [['podinfo-primary', selects.primary], ['podinfo-canary', selects.canary], ['podinfo', selects[apexOn]]] as const) {
    const s = await readService(ns, name)
    t.same(s.spec?.selector, { app: value }, `${name} selects app: ${value}`)
    t.same(s.spec?.ports?.map(p => ({ name: p.name, port: p.port, targetPort: p.targetPort, protocol: p.protocol })),
      [{ name: 'http', port: 9898, targetPort: 9898, protocol: 'TCP' }], `${name}: the Canary's port`)
    t.equal(s.spec?.type, 'ClusterIP')
    t.match(s.metadata, generated(c), `${name} is generated for the Canary`)
    t.same(s.metadata?.ownerReferences?.length, 1, `${name} has one owner`)
  }
}

/** After finalize: the side Services read as 404, the apex selects the target's pods again and is the user's. */
async function servicesReleased(t: Test, ns: string): Promise<V1Service> {
  t.ok(await absent(() => readService(ns, 'podinfo-primary')), 'podinfo-primary is deleted')
  t.ok(await absent(() => readService(ns, 'podinfo-canary')), 'podinfo-canary is deleted')
  const apex = await readService(ns, 'podinfo')
  t.same(apex.spec?.selector, { app: 'podinfo' }, 'the apex selects the target\'s pods')
  t.notOk(apex.metadata?.labels?.[MANAGED_BY_LABEL], 'the apex is no longer marked as generated')
  t.same(apex.metadata?.ownerReferences ?? [], [], 'deleting the Canary no longer deletes the apex')
  return apex
}

const BLUE_GREEN: CanaryAnalysis = { interval: '1m', threshold: 5, iterations: 3 }

t.test('kubernetes: the Services, a blue-green switch there and back, finalize hands the apex back', async t => {
  const ns = await namespace(t)
  const c = await setup(ns, { provider: 'kubernetes' }, BLUE_GREEN)
  const router = routerAsSluice('kubernetes')
  await router.reconcile(c)
  await servicesWritten(t, ns, c, 'primary')
  t.same(await router.getRoutes(c), { primary: 100, canary: 0 })

  await router.setRoutes(c, { primary: 0, canary: 100 })
  t.same((await readService(ns, 'podinfo')).spec?.selector, { app: 'podinfo' }, 'stored: the apex selects the canary pods')
  t.same(await router.getRoutes(c), { primary: 0, canary: 100 })
  await router.reconcile(c)
  await servicesWritten(t, ns, c, 'canary')
  t.same(await router.getRoutes(c), { primary: 0, canary: 100 }, 'a reconcile keeps the switched side')
  const before = (await readService(ns, 'podinfo')).metadata?.resourceVersion
  await t.rejects(router.setRoutes(c, { primary: 80, canary: 20 }), /blue-green/, 'a split is refused, not approximated')
  t.equal((await readService(ns, 'podinfo')).metadata?.resourceVersion, before, 'and nothing is written')

  await router.setRoutes(c, { primary: 100, canary: 0 })
  t.same((await readService(ns, 'podinfo')).spec?.selector, { app: 'podinfo-primary' }, 'stored: the apex is back on the primary')
  t.same(await router.getRoutes(c), { primary: 100, canary: 0 })

  await router.finalize(c)
  await servicesReleased(t, ns)
})

t.test('kubernetes: an apex Service the user already had is taken over, then given back with the user\'s own fields', async t => {
  const ns = await namespace(t)
  await core.createNamespacedService({ namespace: ns, body: {
    metadata: { name: 'podinfo', labels: { team: 'shop' }, annotations: { 'example.com/owner': 'shop' } },
    spec: { selector: { app: 'podinfo' }, ports: [{ name: 'http', port: 9898, targetPort: 9898 }] },
  } })
  const c = await setup(ns, { provider: 'kubernetes' }, BLUE_GREEN)
  const router = routerAsSluice('kubernetes')
  // A reconcile keeps the side the apex selects, and the user's selects the target's pods: no traffic moves
  // until the controller routes, which it does right after (the route action is reconcile, then setRoutes).
  await router.reconcile(c)
  await servicesWritten(t, ns, c, 'canary')
  await router.setRoutes(c, { primary: 100, canary: 0 })
  await servicesWritten(t, ns, c, 'primary')
  const taken = await readService(ns, 'podinfo')
  t.equal(taken.metadata?.labels?.team, 'shop', 'the user\'s label stays')

  await router.finalize(c)
  const apex = await servicesReleased(t, ns)
  t.same(apex.metadata?.labels, { team: 'shop' }, 'the user\'s labels, without sluice\'s')
  t.equal(apex.metadata?.annotations?.['example.com/owner'], 'shop', 'the user\'s annotation')
  t.equal(apex.spec?.clusterIP, taken.spec?.clusterIP, 'the same Service, never recreated')
})

const P = 'nginx.ingress.kubernetes.io'

async function ingressAnnotations(ns: string, name: string): Promise<Record<string, string>> {
  return (await net.readNamespacedIngress({ name, namespace: ns })).metadata?.annotations ?? {}
}

/** The routing annotations nginx reads on the stored canary Ingress. */
async function nginxRouting(ns: string): Promise<Record<string, string>> {
  return Object.fromEntries(Object.entries(await ingressAnnotations(ns, 'web-canary')).filter(([k]) => k.startsWith(`${P}/`)))
}

t.test('nginx: the canary Ingress, weights 80/20 then 100/0, A/B by header and cookie; the user Ingress is never written', async t => {
  const ns = await namespace(t)
  const user = await net.createNamespacedIngress({ namespace: ns, body: manifest(ingress({
    metadata: { name: 'web', namespace: ns, labels: { team: 'shop' }, annotations: { 'example.com/team': 'shop', [`${P}/proxy-body-size`]: '8m' } },
  })) })
  const c = await setup(ns, { provider: 'nginx', ingressRef: { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', name: 'web' } })
  const router = routerAsSluice('nginx')
  await router.reconcile(c)
  await servicesWritten(t, ns, c, 'primary')
  const written = await net.readNamespacedIngress({ name: 'web-canary', namespace: ns })
  t.match(written.metadata, generated(c), 'generated for the Canary')
  t.equal(written.metadata?.labels?.team, 'shop', 'the user\'s labels are carried over')
  t.equal(written.metadata?.annotations?.['example.com/team'], 'shop', 'and the user\'s annotations')
  t.same(written.spec?.ingressClassName, 'nginx')
  t.same(written.spec?.rules, [{ host: 'app.example.com', http: { paths: [
    { path: '/', pathType: 'Prefix', backend: { service: { name: 'podinfo-canary', port: { number: 9898 } } } },
  ] } }], 'the user\'s rules, to the canary Service')
  t.same(await nginxRouting(ns), { [`${P}/proxy-body-size`]: '8m', [`${P}/canary`]: 'true', [`${P}/canary-weight`]: '0' }, 'a canary at weight 0')
  t.same(await router.getRoutes(c), { primary: 100, canary: 0 })

  await router.setRoutes(c, { primary: 80, canary: 20 })
  t.equal((await nginxRouting(ns))[`${P}/canary-weight`], '20', 'stored: canary-weight 20')
  t.same(await router.getRoutes(c), { primary: 80, canary: 20 })
  await router.reconcile(c)
  t.same(await router.getRoutes(c), { primary: 80, canary: 20 }, 'a reconcile keeps the weight')
  await router.setRoutes(c, { primary: 100, canary: 0 })
  t.equal((await nginxRouting(ns))[`${P}/canary-weight`], '0', 'stored: canary-weight 0')
  t.same(await router.getRoutes(c), { primary: 100, canary: 0 })

  const ab = abTesting(c, [{ headers: { 'x-canary': { exact: 'insider' } } }, { headers: { cookie: { exact: 'canary' } } }])
  await router.setRoutes(ab, { primary: 0, canary: 100 })
  t.same(await nginxRouting(ns), {
    [`${P}/proxy-body-size`]: '8m', [`${P}/canary`]: 'true',
    [`${P}/canary-by-header`]: 'x-canary', [`${P}/canary-by-header-value`]: 'insider', [`${P}/canary-by-cookie`]: 'canary',
  }, 'stored: routing by header and cookie, no weight')
  t.same(await router.getRoutes(ab), { primary: 0, canary: 100 })
  await router.setRoutes(ab, { primary: 100, canary: 0 })
  t.same(await nginxRouting(ns), { [`${P}/proxy-body-size`]: '8m', [`${P}/canary`]: 'true', [`${P}/canary-weight`]: '0' },
    'stored: the header and cookie routes removed at weight 0')
  t.same(await router.getRoutes(ab), { primary: 100, canary: 0 })

  await router.finalize(c)
  t.ok(await absent(() => net.readNamespacedIngress({ name: 'web-canary', namespace: ns })), 'the canary Ingress is deleted')
  t.equal((await net.readNamespacedIngress({ name: 'web', namespace: ns })).metadata?.resourceVersion, user.metadata?.resourceVersion,
    'the user Ingress was never written')
  await servicesReleased(t, ns)
})

interface StoredRule {
  matches: unknown[]
  backendRefs: { group: string; kind: string; name: string; port: number; weight: number }[]
  filters?: unknown[]
  timeouts?: { request: string }
}
interface StoredRoute { metadata: Record<string, unknown>; spec: { parentRefs: unknown[]; hostnames: string[]; rules: StoredRule[] } }

const weightsOf = (r: StoredRule | undefined): [string, number][] => (r?.backendRefs ?? []).map(b => [b.name, b.weight])

for (const version of ['v1', 'v1beta1'] as const) {
  const provider = version === 'v1' ? 'gatewayapi' : 'gatewayapi:v1beta1'
  t.test(`${provider}: the HTTPRoute, weights 80/20 then 100/0, mirroring (all, then mirrorWeight percent), A/B by header, cookie and query`, async t => {
    const ns = await namespace(t)
    const c = await setup(ns, { provider, service: { hosts: ['app.example.com'], timeout: '30s', gatewayRefs: [{ name: 'public', namespace: 'gateways' }] } })
    const router = routerAsSluice(provider)
    const route = { group: 'gateway.networking.k8s.io', version, namespace: ns, plural: 'httproutes', name: 'podinfo' }
    const read = async (): Promise<StoredRoute> => await custom.getNamespacedCustomObject(route) as StoredRoute

    await router.reconcile(c)
    await servicesWritten(t, ns, c, 'primary')
    let stored = await read()
    t.match(stored.metadata, generated(c), 'generated for the Canary')
    t.same(stored.spec.parentRefs, [{ group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'public', namespace: 'gateways' }])
    t.same(stored.spec.hostnames, ['app.example.com'])
    t.same(stored.spec.rules.map(r => r.matches), [[{ path: { type: 'PathPrefix', value: '/' } }]])
    t.same(stored.spec.rules[0]?.backendRefs, [
      { group: '', kind: 'Service', name: 'podinfo-primary', port: 9898, weight: 100 },
      { group: '', kind: 'Service', name: 'podinfo-canary', port: 9898, weight: 0 },
    ])
    t.same(stored.spec.rules[0]?.timeouts, { request: '30s' })
    t.same(await router.getRoutes(c), { primary: 100, canary: 0 })

    await router.setRoutes(c, { primary: 80, canary: 20 })
    t.same(weightsOf((await read()).spec.rules[0]), [['podinfo-primary', 80], ['podinfo-canary', 20]], 'stored: 80/20')
    t.same(await router.getRoutes(c), { primary: 80, canary: 20 })
    await router.reconcile(c)
    t.same(await router.getRoutes(c), { primary: 80, canary: 20 }, 'a reconcile keeps the weights')
    await router.setRoutes(c, { primary: 100, canary: 0 })
    t.same(weightsOf((await read()).spec.rules[0]), [['podinfo-primary', 100], ['podinfo-canary', 0]], 'stored: 100/0')
    t.same(await router.getRoutes(c), { primary: 100, canary: 0 })

    await router.setRoutes(c, { primary: 100, canary: 0, mirror: true })
    // Matched, not compared whole: the CRD defaults the mirror's backendRef (group, kind).
    t.match((await read()).spec.rules[0]?.filters, [{ type: 'RequestMirror', requestMirror: { backendRef: { name: 'podinfo-canary', port: 9898 } } }],
      'stored: the canary Service mirrors the traffic')
    t.equal((await read()).spec.rules[0]?.filters?.length, 1)
    t.same(await router.getRoutes(c), { primary: 100, canary: 0, mirror: true })
    const weighted: Canary = { ...c, spec: { ...c.spec, analysis: { interval: '1m', threshold: 5, iterations: 3, mirror: true, mirrorWeight: 40 } } }
    await router.setRoutes(weighted, { primary: 100, canary: 0, mirror: true })
    t.match((await read()).spec.rules[0]?.filters, [{ type: 'RequestMirror', requestMirror: { backendRef: { name: 'podinfo-canary', port: 9898 }, percent: 40 } }],
      'stored: mirrorWeight 40 as the filter\'s percent')
    t.same(await router.getRoutes(weighted), { primary: 100, canary: 0, mirror: true })

    const ab = abTesting(c, [{ headers: { 'x-canary': { exact: 'insider' } }, queryParams: { beta: { exact: 'on' } } }, { headers: { cookie: { exact: 'canary' } } }])
    await router.setRoutes(ab, { primary: 0, canary: 100 })
    stored = await read()
    t.same(stored.spec.rules.map(r => r.matches), [[
      { path: { type: 'PathPrefix', value: '/' }, headers: [{ type: 'Exact', name: 'x-canary', value: 'insider' }], queryParams: [{ type: 'Exact', name: 'beta', value: 'on' }] },
      { path: { type: 'PathPrefix', value: '/' }, headers: [{ type: 'RegularExpression', name: 'Cookie', value: '^(.*?;\\s*)?canary=always(;.*)?$' }] },
    ], [{ path: { type: 'PathPrefix', value: '/' } }]], 'stored: the A/B matches first, then everything else')
    t.same(stored.spec.rules.map(weightsOf), [[['podinfo-primary', 0], ['podinfo-canary', 100]], [['podinfo-primary', 100]]],
      'the matching requests to the canary, the rest to the primary')
    t.same(await router.getRoutes(ab), { primary: 0, canary: 100 })

    await router.finalize(c)
    t.ok(await absent(() => custom.getNamespacedCustomObject(route)), 'the HTTPRoute is deleted')
    await servicesReleased(t, ns)
  })
}

interface StoredVirtualService {
  metadata: Record<string, unknown> & { resourceVersion?: string }
  spec: { hosts: string[]; gateways: string[]; http: (Record<string, unknown> & { match?: unknown[]; route: { destination: { host: string; port: { number: number } }; weight?: number }[] })[] }
}
interface StoredDestinationRule { metadata: Record<string, unknown>; spec: { host: string; trafficPolicy?: unknown } }

const istioObject = (ns: string, plural: 'virtualservices' | 'destinationrules', name: string): { group: string; version: string; namespace: string; plural: string; name: string } =>
  ({ group: 'networking.istio.io', version: 'v1', namespace: ns, plural, name })
const destinationsOf = (h: StoredVirtualService['spec']['http'][number] | undefined): [string, number][] =>
  (h?.route ?? []).map(r => [r.destination.host, r.weight ?? 0])

const ISTIO_SERVICE = {
  hosts: ['app.example.com'], gateways: ['istio-system/public', 'mesh'], timeout: '30s',
  retries: { attempts: 3, perTryTimeout: '2s', retryOn: 'gateway-error,connect-failure' },
  headers: { request: { set: { 'x-sluice': 'on' } }, response: { remove: ['x-internal'] } },
  corsPolicy: { allowOrigins: [{ exact: 'https://app.example.com' }], allowMethods: ['GET', 'POST'], maxAge: '24h' },
  rewrite: { uri: '/v2' }, match: [{ uri: { prefix: '/api' } }],
  trafficPolicy: { tls: { mode: 'ISTIO_MUTUAL' }, connectionPool: { http: { http1MaxPendingRequests: 100 } } },
}

t.test('istio: the VirtualService and DestinationRules through a promotion, a rollback, mirroring and A/B; finalize gives the app back', async t => {
  const ns = await namespace(t)
  const c = await setup(ns, { provider: 'istio', service: { port: 9898, ...ISTIO_SERVICE } })
  const router = routerAsSluice('istio')
  const vsRef = istioObject(ns, 'virtualservices', 'podinfo')
  const read = async (): Promise<StoredVirtualService> => await custom.getNamespacedCustomObject(vsRef) as StoredVirtualService
  const split = async (): Promise<[string, number][]> => destinationsOf((await read()).spec.http[0])

  await router.reconcile(c)
  await servicesWritten(t, ns, c, 'primary')
  for (const side of ['primary', 'canary']) {
    const dr = await custom.getNamespacedCustomObject(istioObject(ns, 'destinationrules', `podinfo-${side}`)) as StoredDestinationRule
    t.match(dr.metadata, generated(c), `DestinationRule podinfo-${side} is generated for the Canary`)
    t.same(dr.spec, { host: `podinfo-${side}`, trafficPolicy: ISTIO_SERVICE.trafficPolicy }, `podinfo-${side}: its host and the trafficPolicy, as stored`)
  }
  const stored = await read()
  t.match(stored.metadata, generated(c), 'the VirtualService is generated for the Canary')
  t.same(stored.spec.hosts, ['app.example.com', 'podinfo'])
  t.same(stored.spec.gateways, ['istio-system/public', 'mesh'])
  t.same(stored.spec.http, [{
    match: [{ uri: { prefix: '/api' } }],
    route: [{ destination: { host: 'podinfo-primary', port: { number: 9898 } }, weight: 100 }, { destination: { host: 'podinfo-canary', port: { number: 9898 } }, weight: 0 }],
    timeout: '30s', retries: ISTIO_SERVICE.retries, headers: ISTIO_SERVICE.headers, corsPolicy: ISTIO_SERVICE.corsPolicy, rewrite: { uri: '/v2' },
  }], 'http[0] as the API server kept it: every option survived Istio\'s schema')
  t.same(await router.getRoutes(c), { primary: 100, canary: 0 })

  // A promotion: the canary's steps, then all traffic back on the (now promoted) primary.
  for (const [primary, canaryWeight] of [[90, 10], [50, 50], [100, 0]] as const) {
    await router.setRoutes(c, { primary, canary: canaryWeight })
    t.same(await split(), [['podinfo-primary', primary], ['podinfo-canary', canaryWeight]], `stored: ${primary}/${canaryWeight}`)
    t.same(await router.getRoutes(c), { primary, canary: canaryWeight })
    await router.reconcile(c)
    t.same(await router.getRoutes(c), { primary, canary: canaryWeight }, `a reconcile keeps ${primary}/${canaryWeight}`)
  }
  // A rollback: from a step back to the primary alone.
  await router.setRoutes(c, { primary: 80, canary: 20 })
  await router.setRoutes(c, { primary: 100, canary: 0 })
  t.same(await split(), [['podinfo-primary', 100], ['podinfo-canary', 0]], 'stored after the rollback: 100/0')

  const mirrored: Canary = { ...c, spec: { ...c.spec, analysis: { interval: '1m', threshold: 5, iterations: 3, mirror: true, mirrorWeight: 40 } } }
  await router.setRoutes(mirrored, { primary: 100, canary: 0, mirror: true })
  t.match((await read()).spec.http[0], { mirror: { host: 'podinfo-canary', port: { number: 9898 } }, mirrorPercentage: { value: 40 } }, 'stored: the canary mirrors 40%')
  t.same(await router.getRoutes(mirrored), { primary: 100, canary: 0, mirror: true })

  const ab = abTesting(c, [{ headers: { 'x-canary': { exact: 'insider' } } }, { headers: { cookie: { exact: 'canary' } } }])
  await router.setRoutes(ab, { primary: 0, canary: 100 })
  const abStored = await read()
  t.same(abStored.spec.http.map(h => h.match), [[
    { uri: { prefix: '/api' }, headers: { 'x-canary': { exact: 'insider' } } },
    { uri: { prefix: '/api' }, headers: { cookie: { regex: '^(.*?;\\s*)?canary=always(;.*)?$' } } },
  ], [{ uri: { prefix: '/api' } }]], 'stored: the A/B matches first, then the service match alone')
  t.same(abStored.spec.http.map(destinationsOf), [[['podinfo-primary', 0], ['podinfo-canary', 100]], [['podinfo-primary', 100]]],
    'the matching requests to the canary, the rest to the primary')
  t.notOk('mirror' in (abStored.spec.http[0] ?? {}), 'the mirror is gone with the split that had it')
  t.same(await router.getRoutes(ab), { primary: 0, canary: 100 })
  await router.setRoutes(ab, { primary: 100, canary: 0 })
  t.same(await router.getRoutes(ab), { primary: 100, canary: 0 })

  await router.finalize(c)
  t.ok(await absent(() => custom.getNamespacedCustomObject(vsRef)), 'the VirtualService is deleted')
  for (const side of ['primary', 'canary']) {
    t.ok(await absent(() => custom.getNamespacedCustomObject(istioObject(ns, 'destinationrules', `podinfo-${side}`))), `DestinationRule podinfo-${side} is deleted`)
  }
  await servicesReleased(t, ns)
})

t.test('istio: a VirtualService the user already has is refused by name and left as it was', async t => {
  const ns = await namespace(t)
  const vsRef = istioObject(ns, 'virtualservices', 'podinfo')
  const user = await custom.createNamespacedCustomObject({ ...vsRef, body: {
    apiVersion: 'networking.istio.io/v1', kind: 'VirtualService', metadata: { name: 'podinfo' },
    spec: { hosts: ['podinfo'], http: [{ route: [{ destination: { host: 'podinfo' } }] }] },
  } }) as StoredVirtualService
  const c = await setup(ns, { provider: 'istio', service: { port: 9898 } })
  const router = routerAsSluice('istio')
  await t.rejects(router.reconcile(c), new RegExp(`Canary ${ns}/podinfo: VirtualService podinfo already exists and sluice did not create it`))
  await t.rejects(router.setRoutes(c, { primary: 90, canary: 10 }), /already exists and sluice did not create it/)
  await router.finalize(c)
  t.equal((await custom.getNamespacedCustomObject(vsRef) as StoredVirtualService).metadata.resourceVersion, user.metadata.resourceVersion,
    'the user\'s VirtualService was never written, nor deleted')
  t.ok(await absent(() => custom.getNamespacedCustomObject(istioObject(ns, 'destinationrules', 'podinfo-primary'))), 'no DestinationRule was left behind')
  await servicesReleased(t, ns)
})

interface StoredTraefikService { metadata: Record<string, unknown> & { resourceVersion?: string }; spec: Record<string, unknown> }

const traefikObject = (ns: string, plural: 'traefikservices' | 'ingressroutes', name: string): { group: string; version: string; namespace: string; plural: string; name: string } =>
  ({ group: 'traefik.io', version: 'v1alpha1', namespace: ns, plural, name })

/** The user's IngressRoute: what sends the outside's requests to the TraefikService sluice writes. */
async function userIngressRoute(ns: string): Promise<StoredTraefikService> {
  const ref = traefikObject(ns, 'ingressroutes', 'podinfo')
  return await custom.createNamespacedCustomObject({ ...ref, body: {
    apiVersion: 'traefik.io/v1alpha1', kind: 'IngressRoute', metadata: { name: 'podinfo' },
    spec: { entryPoints: ['web'], routes: [{ kind: 'Rule', match: 'Host(`app.example.com`)', services: [{ name: 'podinfo', kind: 'TraefikService' }] }] },
  } }) as StoredTraefikService
}

t.test('traefik: the TraefikService through a promotion, a rollback and mirroring; finalize gives the app back; the IngressRoute is never written', async t => {
  const ns = await namespace(t)
  const route = await userIngressRoute(ns)
  const c = await setup(ns, { provider: 'traefik', service: { port: 9898, apex: { labels: { team: 'shop' } } } })
  const router = routerAsSluice('traefik')
  const ref = traefikObject(ns, 'traefikservices', 'podinfo')
  const read = async (): Promise<StoredTraefikService> => await custom.getNamespacedCustomObject(ref) as StoredTraefikService
  const side = (name: string, weight: number): unknown => ({ name, namespace: ns, port: 9898, weight })
  const weighted = (primary: number, canaryWeight: number): unknown => ({ weighted: { services: [side('podinfo-primary', primary), side('podinfo-canary', canaryWeight)] } })

  await router.reconcile(c)
  await servicesWritten(t, ns, c, 'primary')
  const stored = await read()
  t.match(stored.metadata, generated(c), 'the TraefikService is generated for the Canary')
  t.match(stored.metadata, { labels: { team: 'shop' } }, 'with the apex metadata')
  t.same(stored.spec, weighted(100, 0), 'as the API server kept it under Traefik\'s schema: both sides, the canary\'s weight 0 written')
  t.same(await router.getRoutes(c), { primary: 100, canary: 0 })

  // A promotion: the canary's steps, then all traffic back on the (now promoted) primary.
  for (const [primary, canaryWeight] of [[90, 10], [50, 50], [0, 100], [100, 0]] as const) {
    await router.setRoutes(c, { primary, canary: canaryWeight })
    t.same((await read()).spec, weighted(primary, canaryWeight), `stored: ${primary}/${canaryWeight}`)
    t.same(await router.getRoutes(c), { primary, canary: canaryWeight })
    await router.reconcile(c)
    t.same(await router.getRoutes(c), { primary, canary: canaryWeight }, `a reconcile keeps ${primary}/${canaryWeight}`)
  }
  // A rollback: from a step back to the primary alone.
  await router.setRoutes(c, { primary: 80, canary: 20 })
  await router.setRoutes(c, { primary: 100, canary: 0 })
  t.same((await read()).spec, weighted(100, 0), 'stored after the rollback: 100/0')

  const mirrored: Canary = { ...c, spec: { ...c.spec, analysis: { interval: '1m', threshold: 5, iterations: 3, mirror: true, mirrorWeight: 40 } } }
  await router.setRoutes(mirrored, { primary: 100, canary: 0, mirror: true })
  t.same((await read()).spec, { mirroring: { name: 'podinfo-primary', namespace: ns, port: 9898, mirrors: [{ name: 'podinfo-canary', namespace: ns, port: 9898, percent: 40 }] } },
    'stored: a mirroring service, the primary main and 40% mirrored to the canary (weighted is gone)')
  t.same(await router.getRoutes(mirrored), { primary: 100, canary: 0, mirror: true })
  await router.setRoutes(mirrored, { primary: 0, canary: 100 })
  t.same((await read()).spec, weighted(0, 100), 'after the mirror: weighted again, mirroring gone')

  await router.finalize(c)
  t.ok(await absent(() => custom.getNamespacedCustomObject(ref)), 'the TraefikService is deleted')
  await servicesReleased(t, ns)
  const after = await custom.getNamespacedCustomObject(traefikObject(ns, 'ingressroutes', 'podinfo')) as StoredTraefikService
  t.equal(after.metadata.resourceVersion, route.metadata.resourceVersion, 'the user\'s IngressRoute was never written')
})

t.test('traefik: a TraefikService the user already has is refused by name and left as it was', async t => {
  const ns = await namespace(t)
  const ref = traefikObject(ns, 'traefikservices', 'podinfo')
  const user = await custom.createNamespacedCustomObject({ ...ref, body: {
    apiVersion: 'traefik.io/v1alpha1', kind: 'TraefikService', metadata: { name: 'podinfo' },
    spec: { weighted: { services: [{ name: 'podinfo', port: 9898, weight: 1 }] } },
  } }) as StoredTraefikService
  const c = await setup(ns, { provider: 'traefik', service: { port: 9898 } })
  const router = routerAsSluice('traefik')
  await t.rejects(router.reconcile(c), new RegExp(`Canary ${ns}/podinfo: TraefikService podinfo already exists and sluice did not create it`))
  await t.rejects(router.setRoutes(c, { primary: 90, canary: 10 }), /already exists and sluice did not create it/)
  t.ok(await absent(() => readService(ns, 'podinfo-primary')), 'no Service was written for the refused Canary')
  await router.finalize(c)
  t.equal((await custom.getNamespacedCustomObject(ref) as StoredTraefikService).metadata.resourceVersion, user.metadata.resourceVersion,
    'the user\'s TraefikService was never written, nor deleted')
})

interface StoredHTTPProxy {
  metadata: Record<string, unknown> & { resourceVersion?: string }
  spec: { virtualhost?: unknown; routes: (Record<string, unknown> & { conditions?: unknown[]; services: { name: string; port: number; weight?: number; mirror?: boolean }[] })[] }
}
const httpProxyObject = (ns: string): { group: string; version: string; namespace: string; plural: string; name: string } =>
  ({ group: 'projectcontour.io', version: 'v1', namespace: ns, plural: 'httpproxies', name: 'podinfo' })
const CONTOUR_SERVICE = { timeout: '30s', retries: { attempts: 3, perTryTimeout: '2s', retryOn: 'gateway-error,503' }, match: [{ uri: { prefix: '/api' } }] }

t.test('contour: the HTTPProxy at every step of a promotion and after a rollback, mirroring and A/B; finalize gives the app back', async t => {
  const ns = await namespace(t)
  const c = await setup(ns, { provider: 'contour', service: { port: 9898, ...CONTOUR_SERVICE } })
  const router = routerAsSluice('contour')
  const read = async (): Promise<StoredHTTPProxy> => await custom.getNamespacedCustomObject(httpProxyObject(ns)) as StoredHTTPProxy
  const servicesOf = async (i = 0): Promise<unknown[]> => (await read()).spec.routes[i]?.services.map(x => [x.name, x.weight ?? 0, ...(x.mirror ? ['mirror'] : [])]) ?? []

  await router.reconcile(c)
  await servicesWritten(t, ns, c, 'primary')
  const stored = await read()
  t.match(stored.metadata, generated(c), 'the HTTPProxy is generated for the Canary')
  t.same(stored.spec, { routes: [{
    conditions: [{ prefix: '/api' }],
    services: [{ name: 'podinfo-primary', port: 9898, weight: 100 }, { name: 'podinfo-canary', port: 9898, weight: 0 }],
    timeoutPolicy: { response: '30s', idle: '5m' },
    retryPolicy: { count: 3, perTryTimeout: '2s', retryOn: ['gateway-error', 'retriable-status-codes'], retriableStatusCodes: [503] },
  }] }, 'as the API server kept it under Contour\'s schema: no virtualhost, every option there')
  const edit = await kubectl(['-n', ns, 'delete', 'httpproxy', 'podinfo'])
  t.match(edit.stderr, new RegExp(`admission webhook "guard\\.sluice\\.dev" denied the request: HTTPProxy ${ns}/podinfo is generated by sluice`),
    'the guard refuses the admin\'s DELETE of sluice\'s HTTPProxy')

  // A promotion's steps (the last puts all traffic back on the promoted primary), then a rollback from a step.
  const steps = [[90, 10], [50, 50], [100, 0], [80, 20], [100, 0]] as const
  for (const [i, [primary, canaryWeight]] of steps.entries()) {
    await router.setRoutes(c, { primary, canary: canaryWeight })
    const what = i < 3 ? 'promotion' : 'rollback'
    t.same(await servicesOf(), [['podinfo-primary', primary], ['podinfo-canary', canaryWeight]], `${what}: stored ${primary}/${canaryWeight}`)
    await router.reconcile(c)
    t.same(await router.getRoutes(c), { primary, canary: canaryWeight }, `${what}: read back ${primary}/${canaryWeight} after a reconcile`)
  }

  const mirrored: Canary = { ...c, spec: { ...c.spec, analysis: { interval: '1m', threshold: 5, iterations: 3, mirror: true, mirrorWeight: 40 } } }
  await router.setRoutes(mirrored, { primary: 100, canary: 0, mirror: true })
  t.same(await servicesOf(), [['podinfo-primary', 100], ['podinfo-canary', 40, 'mirror']], 'stored: the canary mirrors 40% of the primary\'s requests')
  t.same(await router.getRoutes(mirrored), { primary: 100, canary: 0, mirror: true })

  const ab = abTesting(c, [{ headers: { 'x-canary': { exact: 'insider' } } }, { headers: { cookie: { exact: 'canary' } } }])
  await router.setRoutes(ab, { primary: 0, canary: 100 })
  t.same((await read()).spec.routes.map(r => r.conditions), [
    [{ prefix: '/api' }, { header: { name: 'x-canary', exact: 'insider' } }],
    [{ prefix: '/api' }, { header: { name: 'cookie', regex: '^(.*?;\\s*)?canary=always(;.*)?$' } }],
    [{ prefix: '/api' }],
  ], 'stored: a route per A/B match, then the service match alone')
  t.same([await servicesOf(0), await servicesOf(1), await servicesOf(2)],
    [[['podinfo-primary', 0], ['podinfo-canary', 100]], [['podinfo-primary', 0], ['podinfo-canary', 100]], [['podinfo-primary', 100]]],
    'the matching requests to the canary, the rest to the primary')
  await router.setRoutes(ab, { primary: 100, canary: 0 })
  t.same(await router.getRoutes(ab), { primary: 100, canary: 0 })

  await router.finalize(c)
  t.ok(await absent(() => custom.getNamespacedCustomObject(httpProxyObject(ns))), 'the HTTPProxy is deleted')
  await servicesReleased(t, ns)
})

t.test('contour: an HTTPProxy the user already has is refused by name and left as it was', async t => {
  const ns = await namespace(t)
  const user = await custom.createNamespacedCustomObject({ ...httpProxyObject(ns), body: {
    apiVersion: 'projectcontour.io/v1', kind: 'HTTPProxy', metadata: { name: 'podinfo' },
    spec: { virtualhost: { fqdn: 'app.example.com' }, routes: [{ services: [{ name: 'podinfo', port: 9898 }] }] },
  } }) as StoredHTTPProxy
  const c = await setup(ns, { provider: 'contour', service: { port: 9898 } })
  const router = routerAsSluice('contour')
  await t.rejects(router.reconcile(c), new RegExp(`Canary ${ns}/podinfo: HTTPProxy podinfo already exists and sluice did not create it`))
  await t.rejects(router.setRoutes(c, { primary: 90, canary: 10 }), /already exists and sluice did not create it/)
  t.ok(await absent(() => readService(ns, 'podinfo-primary')), 'no Service was written for a refused Canary')
  await router.finalize(c)
  t.equal((await custom.getNamespacedCustomObject(httpProxyObject(ns)) as StoredHTTPProxy).metadata.resourceVersion, user.metadata.resourceVersion,
    'the user\'s HTTPProxy was never written, nor deleted')
})

interface StoredTrafficSplit { metadata: Record<string, unknown> & { resourceVersion?: string }; spec: { service: string; backends: { service: string; weight: number }[] } }
interface StoredHttpRoute { metadata: Record<string, unknown>; spec: { parentRefs: unknown[]; rules: { matches: unknown[]; backendRefs: { name: string; weight: number }[] }[] } }

const trafficSplitObject = (ns: string): { group: string; version: string; namespace: string; plural: string; name: string } =>
  ({ group: 'split.smi-spec.io', version: 'v1alpha2', namespace: ns, plural: 'trafficsplits', name: 'podinfo' })
const httpRouteObject = (ns: string): { group: string; version: string; namespace: string; plural: string; name: string } =>
  ({ group: 'gateway.networking.k8s.io', version: 'v1', namespace: ns, plural: 'httproutes', name: 'podinfo' })

t.test('linkerd: the TrafficSplit through a promotion and a rollback; finalize gives the app back', async t => {
  const ns = await namespace(t)
  const c = await setup(ns, { provider: 'linkerd', service: { port: 9898 } })
  const router = routerAsSluice('linkerd')
  const read = async (): Promise<StoredTrafficSplit> => await custom.getNamespacedCustomObject(trafficSplitObject(ns)) as StoredTrafficSplit
  const backends = (w: number): StoredTrafficSplit['spec']['backends'] => [{ service: 'podinfo-canary', weight: w }, { service: 'podinfo-primary', weight: 100 - w }]

  await router.reconcile(c)
  await servicesWritten(t, ns, c, 'primary')
  const stored = await read()
  t.match(stored.metadata, generated(c), 'the TrafficSplit is generated for the Canary')
  t.same(stored.spec, { service: 'podinfo', backends: backends(0) }, 'as the API server kept it (split.smi-spec.io/v1alpha2, integer weights)')
  t.same(await router.getRoutes(c), { primary: 100, canary: 0 })

  // A promotion: the canary's steps, then all traffic back on the (now promoted) primary.
  for (const w of [10, 50, 0]) {
    await router.setRoutes(c, { primary: 100 - w, canary: w })
    t.same((await read()).spec.backends, backends(w), `stored: ${100 - w}/${w}`)
    await router.reconcile(c)
    t.same(await router.getRoutes(c), { primary: 100 - w, canary: w }, `a reconcile keeps ${100 - w}/${w}`)
  }
  // A rollback: from a step back to the primary alone.
  await router.setRoutes(c, { primary: 80, canary: 20 })
  await router.setRoutes(c, { primary: 100, canary: 0 })
  t.same((await read()).spec.backends, backends(0), 'stored after the rollback: the primary alone')

  await router.finalize(c)
  t.ok(await absent(() => custom.getNamespacedCustomObject(trafficSplitObject(ns))), 'the TrafficSplit is deleted')
  await servicesReleased(t, ns)
})

t.test('linkerd with service.gatewayRefs: the HTTPRoute on the apex Service (GAMMA), its weights and A/B; the TrafficSplit of before removed', async t => {
  const ns = await namespace(t)
  const parent = { group: '', kind: 'Service', name: 'podinfo', port: 9898 }
  const plain = await setup(ns, { provider: 'linkerd', service: { port: 9898 } })
  const router = routerAsSluice('linkerd')
  await router.reconcile(plain)
  const c: Canary = { ...plain, spec: { ...plain.spec, service: { ...plain.spec.service, gatewayRefs: [parent] } } }
  await router.reconcile(c)
  t.ok(await absent(() => custom.getNamespacedCustomObject(trafficSplitObject(ns))), 'the TrafficSplit of the former path is deleted')
  const read = async (): Promise<StoredHttpRoute> => await custom.getNamespacedCustomObject(httpRouteObject(ns)) as StoredHttpRoute
  const stored = await read()
  t.match(stored.metadata, generated(c), 'the HTTPRoute is generated for the Canary')
  t.same(stored.spec.parentRefs, [parent], 'attached to the apex Service')
  for (const w of [10, 50, 0]) {
    await router.setRoutes(c, { primary: 100 - w, canary: w })
    t.same((await read()).spec.rules[0]?.backendRefs.map(b => [b.name, b.weight]), [['podinfo-primary', 100 - w], ['podinfo-canary', w]], `stored: ${100 - w}/${w}`)
    t.same(await router.getRoutes(c), { primary: 100 - w, canary: w })
  }
  const ab = abTesting(c, [{ headers: { 'x-canary': { exact: 'insider' } } }])
  await router.setRoutes(ab, { primary: 0, canary: 100 })
  t.same((await read()).spec.rules.map(r => r.backendRefs.map(b => [b.name, b.weight])), [[['podinfo-primary', 0], ['podinfo-canary', 100]], [['podinfo-primary', 100]]],
    'the matching requests to the canary, the rest to the primary')
  t.match((await read()).spec.rules[0]?.matches, [{ headers: [{ type: 'Exact', name: 'x-canary', value: 'insider' }] }])
  await router.finalize(ab)
  t.ok(await absent(() => custom.getNamespacedCustomObject(httpRouteObject(ns))), 'the HTTPRoute is deleted')
  await servicesReleased(t, ns)
})

t.test('linkerd: a TrafficSplit the user already has is refused by name and left as it was', async t => {
  const ns = await namespace(t)
  const user = await custom.createNamespacedCustomObject({ ...trafficSplitObject(ns), body: {
    apiVersion: 'split.smi-spec.io/v1alpha2', kind: 'TrafficSplit', metadata: { name: 'podinfo' },
    spec: { service: 'podinfo', backends: [{ service: 'podinfo-v1', weight: 100 }] },
  } }) as StoredTrafficSplit
  const c = await setup(ns, { provider: 'linkerd', service: { port: 9898 } })
  const router = routerAsSluice('linkerd')
  await t.rejects(router.reconcile(c), new RegExp(`Canary ${ns}/podinfo: TrafficSplit podinfo already exists and sluice did not create it`))
  await t.rejects(router.setRoutes(c, { primary: 90, canary: 10 }), /already exists and sluice did not create it/)
  t.ok(await absent(() => readService(ns, 'podinfo')), 'the apex Service was not taken over')
  await router.finalize(c)
  t.equal((await custom.getNamespacedCustomObject(trafficSplitObject(ns)) as StoredTrafficSplit).metadata.resourceVersion, user.metadata.resourceVersion,
    'the user\'s TrafficSplit was never written, nor deleted')
})

t.test('istio: a tcp port gets weighted tcp routes, a delegate has no hosts or gateways, as the API server keeps them', async t => {
  const ns = await namespace(t)
  const c = await setup(ns, { provider: 'istio', service: { port: 9898, appProtocol: 'tcp', delegation: true } })
  const router = routerAsSluice('istio')
  const vsRef = istioObject(ns, 'virtualservices', 'podinfo')
  type StoredTcp = { spec: Record<string, unknown> & { tcp?: { route: { destination: { host: string }; weight?: number }[] }[] } }
  const read = async (): Promise<StoredTcp> => await custom.getNamespacedCustomObject(vsRef) as StoredTcp

  await router.reconcile(c)
  t.same((await readService(ns, 'podinfo-canary')).spec?.ports?.map(p => p.appProtocol), ['tcp'], 'the Services carry the appProtocol')
  t.same((await read()).spec, { tcp: [{ route: [
    { destination: { host: 'podinfo-primary', port: { number: 9898 } }, weight: 100 },
    { destination: { host: 'podinfo-canary', port: { number: 9898 } }, weight: 0 },
  ] }] }, 'stored: one tcp route, no http, no hosts or gateways (the root VirtualService delegates to it)')
  for (const [primary, canaryWeight] of [[90, 10], [50, 50], [100, 0]] as const) {
    await router.setRoutes(c, { primary, canary: canaryWeight })
    t.same((await read()).spec.tcp?.[0]?.route.map(r => [r.destination.host, r.weight ?? 0]), [['podinfo-primary', primary], ['podinfo-canary', canaryWeight]], `stored: ${primary}/${canaryWeight}`)
    t.same(await router.getRoutes(c), { primary, canary: canaryWeight })
  }
  await router.finalize(c)
  t.ok(await absent(() => custom.getNamespacedCustomObject(vsRef)), 'the VirtualService is deleted')
  await servicesReleased(t, ns)
})
