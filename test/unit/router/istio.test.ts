// The istio router's objects field by field, against Istio's networking.istio.io/v1 API (the field names are
// those of VirtualService and DestinationRule in istio.io/api's CRDs), and its calls on an object store.
import t from 'tap'
import {
  destinationRule, istioMatch, istioRouter, istioRoutes, mergeIstioMatches, routedVirtualService, tcpVirtualService, virtualService, virtualServiceWeights,
} from '../../../src/router/istio.ts'
import { cookieRegex } from '../../../src/router/cookies.ts'
import type { KubeObject } from '../../../src/kube/apply.ts'
import type { Canary, CanaryService, HttpMatch } from '../../../src/api/types.ts'
import { canary, deployment } from '../../helpers/objects.ts'
import { objectStore as store } from '../../helpers/object-store.ts'

function istio(service: Partial<CanaryService> = {}, analysis: Canary['spec']['analysis'] = { interval: '1m', stepWeight: 10 }): Canary {
  return canary({ metadata: { uid: 'c0ffee' }, spec: { provider: 'istio', service: { port: 9898, ...service }, analysis } })
}

const dest = (host: string, weight: number): unknown => ({ destination: { host, port: { number: 9898 } }, weight })

t.test('the VirtualService <svc> at weights 0, 10, 50 and 100: one http route, primary then canary', async t => {
  const c = istio()
  for (const canaryWeight of [0, 10, 50, 100]) {
    const vs = virtualService(c, { primary: 100 - canaryWeight, canary: canaryWeight })
    t.equal(vs.apiVersion, 'networking.istio.io/v1')
    t.equal(vs.kind, 'VirtualService')
    t.equal(vs.metadata.name, 'podinfo')
    t.equal(vs.metadata.labels['app.kubernetes.io/managed-by'], 'sluice')
    t.equal(vs.metadata.ownerReferences[0]?.uid, 'c0ffee')
    t.same(vs.spec, {
      hosts: ['podinfo'], gateways: ['mesh'],
      http: [{ route: [dest('podinfo-primary', 100 - canaryWeight), dest('podinfo-canary', canaryWeight)] }],
    }, `weight ${canaryWeight}: the apex host, the mesh gateway, no options`)
    t.same(virtualServiceWeights(c, vs), { primary: 100 - canaryWeight, canary: canaryWeight }, 'read back')
  }
})

t.test('service options: hosts and gateways, timeout, retries, headers, corsPolicy, rewrite, match, apex metadata', async t => {
  const service: Partial<CanaryService> = {
    hosts: ['app.example.com'], gateways: ['istio-system/public'], timeout: '15s',
    retries: { attempts: 3, perTryTimeout: '2s', retryOn: 'gateway-error,connect-failure' },
    headers: { request: { set: { 'x-a': '1' }, remove: ['x-b'] }, response: { add: { 'x-c': '2' } } },
    corsPolicy: { allowOrigins: [{ exact: 'https://app.example.com' }], allowMethods: ['GET'], maxAge: '24h' },
    rewrite: { uri: '/v2', authority: 'api.example.com' },
    match: [{ uri: { prefix: '/api' } }],
    apex: { labels: { team: 'shop' }, annotations: { note: 'x' } },
  }
  const vs = virtualService(istio(service), { primary: 90, canary: 10 })
  t.same(vs.spec.hosts, ['app.example.com', 'podinfo'], 'service.hosts, then the apex for mesh traffic')
  t.same(vs.spec.gateways, ['istio-system/public'])
  t.same(vs.spec.http, [{
    match: [{ uri: { prefix: '/api' } }],
    route: [dest('podinfo-primary', 90), dest('podinfo-canary', 10)],
    timeout: '15s',
    retries: { attempts: 3, perTryTimeout: '2s', retryOn: 'gateway-error,connect-failure' },
    headers: { request: { set: { 'x-a': '1' }, remove: ['x-b'] }, response: { add: { 'x-c': '2' } } },
    corsPolicy: { allowOrigins: [{ exact: 'https://app.example.com' }], allowMethods: ['GET'], maxAge: '24h' },
    rewrite: { uri: '/v2', authority: 'api.example.com' },
  }])
  t.equal(vs.metadata.labels.team, 'shop')
  t.equal(vs.metadata.annotations.note, 'x')
  t.same(virtualService(istio({ hosts: ['podinfo', 'app.example.com'] }), { primary: 100, canary: 0 }).spec.hosts, ['podinfo', 'app.example.com'],
    'the apex is not repeated')
  t.same(virtualService(istio({ hosts: ['*'] }), { primary: 100, canary: 0 }).spec.hosts, ['*'], 'nor added to a wildcard')
  t.notOk('rewrite' in virtualService(istio({ rewrite: { type: 'ReplaceFullPath' } }), { primary: 100, canary: 0 }).spec.http[0]!,
    'a rewrite without uri or authority writes nothing')
})

t.test('the DestinationRules <svc>-primary and <svc>-canary carry the trafficPolicy', async t => {
  const policy = { tls: { mode: 'ISTIO_MUTUAL' }, loadBalancer: { simple: 'LEAST_REQUEST' } }
  const dr = destinationRule(istio({ trafficPolicy: policy }), 'podinfo-canary')
  t.equal(dr.apiVersion, 'networking.istio.io/v1')
  t.equal(dr.kind, 'DestinationRule')
  t.equal(dr.metadata.name, 'podinfo-canary')
  t.equal(dr.metadata.ownerReferences[0]?.uid, 'c0ffee')
  t.same(dr.spec, { host: 'podinfo-canary', trafficPolicy: policy })
  t.same(destinationRule(istio(), 'podinfo-primary').spec, { host: 'podinfo-primary' }, 'no policy: the host only')
})

t.test('mirroring: the canary Service mirrors http[0], with mirrorWeight as mirrorPercentage', async t => {
  const c = istio({}, { interval: '1m', iterations: 5, mirror: true, mirrorWeight: 40 })
  const vs = virtualService(c, { primary: 100, canary: 0, mirror: true })
  t.same(vs.spec.http[0]?.mirror, { host: 'podinfo-canary', port: { number: 9898 } })
  t.same(vs.spec.http[0]?.mirrorPercentage, { value: 40 })
  t.same(virtualServiceWeights(c, vs), { primary: 100, canary: 0, mirror: true })
  t.notOk('mirrorPercentage' in virtualService(istio(), { primary: 100, canary: 0, mirror: true }).spec.http[0]!, 'without mirrorWeight: Istio mirrors all')
  t.notOk('mirror' in virtualService(c, { primary: 0, canary: 100 }).spec.http[0]!, 'no mirror when the split has none')
})

const AB: HttpMatch[] = [{ headers: { 'x-canary': { exact: 'insider' } } }, { headers: { cookie: { exact: 'canary' } } }]

t.test('A/B: http[0] takes the matching requests at the split, http[1] sends the rest to the primary', async t => {
  const c = istio({ timeout: '5s' }, { interval: '1m', iterations: 3, match: AB })
  for (const [primary, canaryWeight] of [[100, 0], [0, 100]] as const) {
    const vs = virtualService(c, { primary, canary: canaryWeight })
    t.same(vs.spec.http, [
      { match: [{ headers: { 'x-canary': { exact: 'insider' } } }, { headers: { cookie: { regex: cookieRegex('canary') } } }],
        route: [dest('podinfo-primary', primary), dest('podinfo-canary', canaryWeight)], timeout: '5s' },
      { route: [dest('podinfo-primary', 100)], timeout: '5s' },
    ], `A/B at ${primary}/${canaryWeight}`)
    t.same(virtualServiceWeights(c, vs), { primary, canary: canaryWeight })
  }
})

t.test('A/B matches are merged into each service match; cookies follow the "always" rule of the other routers', async t => {
  t.same(istioMatch({ headers: { Cookie: { exact: 'beta' }, 'x-a': { prefix: 'v1' } } }),
    { headers: { Cookie: { regex: cookieRegex('beta') }, 'x-a': { prefix: 'v1' } } })
  t.same(istioMatch({ headers: { cookie: { regex: '^(.*?;)?(type=insider)(;.*)?$' } } }), { headers: { cookie: { regex: '^(.*?;)?(type=insider)(;.*)?$' } } },
    'a cookie regex is Istio\'s own and passes unchanged')
  t.same(mergeIstioMatches([{ uri: { prefix: '/api' }, headers: { host: { exact: 'a' } } }, { uri: { prefix: '/v2' } }],
    [{ headers: { 'x-canary': { exact: 'insider' } }, queryParams: { beta: { exact: 'on' } } }]), [
    { uri: { prefix: '/api' }, headers: { host: { exact: 'a' }, 'x-canary': { exact: 'insider' } }, queryParams: { beta: { exact: 'on' } } },
    { uri: { prefix: '/v2' }, headers: { 'x-canary': { exact: 'insider' } }, queryParams: { beta: { exact: 'on' } } },
  ])
  const c = istio({ match: [{ uri: { prefix: '/api' } }] }, { interval: '1m', iterations: 3, match: [AB[0]!] })
  t.same(virtualService(c, { primary: 0, canary: 100 }).spec.http.map(h => h.match), [
    [{ uri: { prefix: '/api' }, headers: { 'x-canary': { exact: 'insider' } } }], [{ uri: { prefix: '/api' } }],
  ], 'the default route keeps the service match')
})

t.test('weights of a VirtualService that does not route to both sides are an error naming it', async t => {
  t.throws(() => virtualServiceWeights(istio(), { spec: { http: [{ route: [dest('other', 100)] }] } }), /VirtualService shop\/podinfo: http\[0\] does not route to both/)
})

t.test('the router: rules before the VirtualService, weights kept by reconcile, read back, finalize in reverse', async t => {
  const s = store()
  const r = istioRoutes(s.kube)
  const c = istio()
  await r.reconcile(c)
  t.same(s.log, ['apply DestinationRule/podinfo-primary', 'apply DestinationRule/podinfo-canary', 'apply VirtualService/podinfo'])
  t.same(await r.getRoutes(c), { primary: 100, canary: 0 })
  await r.setRoutes(c, { primary: 70, canary: 30 })
  await r.reconcile(c)
  t.same(await r.getRoutes(c), { primary: 70, canary: 30 }, 'a reconcile keeps the weights')
  s.log.length = 0
  await r.finalize(c)
  t.same(s.log, ['delete VirtualService/podinfo', 'delete DestinationRule/podinfo-primary', 'delete DestinationRule/podinfo-canary'])
  await t.rejects(r.getRoutes(c), /VirtualService podinfo not found; reconcile first/)
})

t.test('a VirtualService or DestinationRule sluice did not create is refused, never overwritten, and left on finalize', async t => {
  const users: KubeObject = { apiVersion: 'networking.istio.io/v1', kind: 'VirtualService', metadata: { name: 'podinfo' }, spec: { hosts: ['podinfo'] } }
  const s = store([users])
  const r = istioRoutes(s.kube)
  await t.rejects(r.reconcile(istio()), /VirtualService podinfo already exists and sluice did not create it/)
  await t.rejects(r.setRoutes(istio(), { primary: 50, canary: 50 }), /already exists and sluice did not create it/)
  const otherCanary = { ...users, metadata: { name: 'podinfo-canary', ownerReferences: [{ uid: 'someone-else', controller: true }] }, kind: 'DestinationRule' }
  const s2 = store([otherCanary])
  await t.rejects(istioRoutes(s2.kube).reconcile(istio()), /DestinationRule podinfo-canary already exists/)
  t.same([...s.log, ...s2.log], [], 'nothing written')
  await r.finalize(istio())
  t.same(s.log, [], 'finalize leaves the user\'s VirtualService')
  t.ok(s.get('VirtualService', 'podinfo'))
})

t.test('the whole router refuses a foreign VirtualService before it writes any Service', async t => {
  const users: KubeObject = { apiVersion: 'networking.istio.io/v1', kind: 'VirtualService', metadata: { name: 'podinfo' } }
  const s = store([deployment(), users])
  await t.rejects(istioRouter(s.kube).reconcile(istio()), /VirtualService podinfo already exists/)
  t.same(s.log, [], 'the apex Service was not taken over')
  const clean = store([deployment()])
  await istioRouter(clean.kube).reconcile(istio())
  t.same(clean.log, ['apply Service/podinfo-primary', 'apply Service/podinfo-canary', 'apply Service/podinfo',
    'apply DestinationRule/podinfo-primary', 'apply DestinationRule/podinfo-canary', 'apply VirtualService/podinfo'], 'Services first, then the istio objects')
})

t.test('appProtocol tcp: one weighted tcp route at weights 0, 10, 50 and 100, read back from tcp[0]', async t => {
  const c = istio({ appProtocol: 'TCP', hosts: ['db.example.com'] })
  for (const canaryWeight of [0, 10, 50, 100]) {
    const w = { primary: 100 - canaryWeight, canary: canaryWeight }
    const vs = routedVirtualService(c, w)
    t.same(vs, tcpVirtualService(c, w), 'the tcp shape is chosen by appProtocol (case-insensitive, as Flagger reads it)')
    t.same(vs.spec, {
      hosts: ['db.example.com', 'podinfo'], gateways: ['mesh'],
      tcp: [{ route: [dest('podinfo-primary', 100 - canaryWeight), dest('podinfo-canary', canaryWeight)] }],
    }, `weight ${canaryWeight}: a tcp route, no http`)
    t.same(virtualServiceWeights(c, vs), w, 'read back from tcp[0]')
  }
  t.throws(() => virtualServiceWeights(c, virtualService(istio(), { primary: 90, canary: 10 })), /tcp\[0\] does not route to both/,
    'an http VirtualService does not stand for a tcp port')
  t.same(routedVirtualService(istio({ appProtocol: 'http' }), { primary: 90, canary: 10 }), virtualService(istio({ appProtocol: 'http' }), { primary: 90, canary: 10 }),
    'any other appProtocol is http')
})

t.test('delegation: a delegate VirtualService without hosts or gateways, http or tcp', async t => {
  const vs = virtualService(istio({ delegation: true, timeout: '5s' }), { primary: 80, canary: 20 })
  t.same(vs.spec, { http: [{ timeout: '5s', route: [dest('podinfo-primary', 80), dest('podinfo-canary', 20)] }] }, 'the root VirtualService names it and sets hosts and gateways')
  t.same(tcpVirtualService(istio({ delegation: true, appProtocol: 'tcp' }), { primary: 80, canary: 20 }).spec,
    { tcp: [{ route: [dest('podinfo-primary', 80), dest('podinfo-canary', 20)] }] })
})
