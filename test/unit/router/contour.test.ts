// The contour router's HTTPProxy field by field, against Contour's projectcontour.io/v1 API reference (HTTPProxy,
// Route, Service, MatchCondition, HeaderMatchCondition, QueryParameterMatchCondition, TimeoutPolicy, RetryPolicy),
// and its calls on an object store.
import t from 'tap'
import { contourConditions, contourRouter, httpProxy, httpProxyWeights, retryPolicy } from '../../../src/router/contour.ts'
import { cookieRegex } from '../../../src/router/cookies.ts'
import type { ApplyClient, KubeObject } from '../../../src/kube/apply.ts'
import type { Canary, CanaryService, HttpMatch } from '../../../src/api/types.ts'
import { canary, deployment } from '../../helpers/objects.ts'

function contour(service: Partial<CanaryService> = {}, analysis: Canary['spec']['analysis'] = { interval: '1m', stepWeight: 10 }): Canary {
  return canary({ metadata: { uid: 'c0ffee' }, spec: { provider: 'contour', service: { port: 9898, ...service }, analysis } })
}

const svc = (name: string, weight: number): unknown => ({ name, port: 9898, weight })
const ALL = [{ prefix: '/' }]

t.test('the HTTPProxy <svc> at weights 0, 10, 50 and 100: one route on /, primary then canary, no virtualhost', async t => {
  const c = contour()
  for (const canaryWeight of [0, 10, 50, 100]) {
    const p = httpProxy(c, { primary: 100 - canaryWeight, canary: canaryWeight })
    t.match(p, {
      apiVersion: 'projectcontour.io/v1', kind: 'HTTPProxy',
      metadata: { name: 'podinfo', namespace: 'shop', labels: { 'app.kubernetes.io/managed-by': 'sluice' }, ownerReferences: [{ uid: 'c0ffee', controller: true }] },
    })
    t.same(p.spec, { routes: [{ conditions: ALL, services: [svc('podinfo-primary', 100 - canaryWeight), svc('podinfo-canary', canaryWeight)] }] },
      `weight ${canaryWeight}: no virtualhost (the user's root HTTPProxy includes it), no policies`)
    t.same(httpProxyWeights(c, p), { primary: 100 - canaryWeight, canary: canaryWeight }, 'read back')
  }
})

t.test('service options: timeoutPolicy and retryPolicy on every route, service.match as conditions, apex metadata', async t => {
  const c = contour({
    timeout: '15s', retries: { attempts: 3, perTryTimeout: '2s', retryOn: 'gateway-error,connect-failure' },
    match: [{ uri: { prefix: '/api' } }, { uri: { exact: '/healthz' }, headers: { host: { exact: 'a' } } }],
    apex: { labels: { team: 'shop' }, annotations: { note: 'x' } },
  })
  const p = httpProxy(c, { primary: 90, canary: 10 })
  const policies = {
    timeoutPolicy: { response: '15s', idle: '5m' },
    retryPolicy: { count: 3, perTryTimeout: '2s', retryOn: ['gateway-error', 'connect-failure'] },
  }
  t.same(p.spec.routes, [
    { conditions: [{ prefix: '/api' }], services: [svc('podinfo-primary', 90), svc('podinfo-canary', 10)], ...policies },
    { conditions: [{ exact: '/healthz' }, { header: { name: 'host', exact: 'a' } }], services: [svc('podinfo-primary', 90), svc('podinfo-canary', 10)], ...policies },
  ], 'one route per service match, each with the split')
  t.equal(p.metadata.labels.team, 'shop')
  t.equal(p.metadata.annotations.note, 'x')
  t.notOk('virtualhost' in p.spec, 'service.hosts is not Contour\'s: the fqdn lives on the user\'s root HTTPProxy')
})

t.test('retries as Contour retries: count, perTryTimeout, retryOn as a list, status codes as retriableStatusCodes', async t => {
  t.same(retryPolicy({ attempts: 2 }), { count: 2 })
  t.same(retryPolicy({ perTryTimeout: '1s' }), { perTryTimeout: '1s' }, 'no attempts: Contour\'s default count (1)')
  t.same(retryPolicy({ attempts: 1, retryOn: '5xx, 503,504' }), { count: 1, retryOn: ['5xx', 'retriable-status-codes'], retriableStatusCodes: [503, 504] })
  t.same(retryPolicy({ retryOn: 'retriable-status-codes,429' }), { retryOn: ['retriable-status-codes'], retriableStatusCodes: [429] })
})

t.test('conditions: one path condition, then headers, the method, query parameters', async t => {
  t.same(contourConditions(undefined), ALL, 'no match: the prefix / Flagger writes')
  t.same(contourConditions({ uri: { regex: '/v[0-9]+/.*' } }), [{ regex: '/v[0-9]+/.*' }])
  t.same(contourConditions({
    method: { exact: 'get' },
    headers: { 'x-a': { exact: '1' }, 'x-b': { prefix: 'v1.' }, 'x-c': { suffix: '.beta' }, 'x-d': { regex: 'a|b' }, 'x-e': {} },
    queryParams: { beta: { exact: 'on' }, v: { prefix: '2' }, w: { regex: '[0-9]+' } },
  }), [
    { prefix: '/' },
    { header: { name: ':method', exact: 'GET' } },
    { header: { name: 'x-a', exact: '1' } },
    { header: { name: 'x-b', regex: 'v1\\..*' } },
    { header: { name: 'x-c', regex: '.*\\.beta' } },
    { header: { name: 'x-d', regex: 'a|b' } },
    { queryParameter: { name: 'beta', exact: 'on' } },
    { queryParameter: { name: 'v', prefix: '2' } },
    { queryParameter: { name: 'w', regex: '[0-9]+' } },
  ], 'Envoy matches a header regex against the whole value: prefix and suffix become regexes; a match with no operator is dropped')
  t.same(contourConditions({ headers: { Cookie: { exact: 'beta' } } }), [{ prefix: '/' }, { header: { name: 'Cookie', regex: cookieRegex('beta') } }],
    'a cookie named in exact routes when it is "always", as on the other routers')
})

const AB: HttpMatch[] = [{ headers: { 'x-canary': { exact: 'insider' } } }, { headers: { cookie: { exact: 'canary' } } }]

t.test('A/B: a route per match at the split, then the default route to the primary alone', async t => {
  const c = contour({ timeout: '5s' }, { interval: '1m', iterations: 3, match: AB })
  for (const [primary, canaryWeight] of [[100, 0], [0, 100]] as const) {
    const p = httpProxy(c, { primary, canary: canaryWeight })
    const timeoutPolicy = { response: '5s', idle: '5m' }
    const split = [svc('podinfo-primary', primary), svc('podinfo-canary', canaryWeight)]
    t.same(p.spec.routes, [
      { conditions: [{ prefix: '/' }, { header: { name: 'x-canary', exact: 'insider' } }], services: split, timeoutPolicy },
      { conditions: [{ prefix: '/' }, { header: { name: 'cookie', regex: cookieRegex('canary') } }], services: split, timeoutPolicy },
      { conditions: ALL, services: [svc('podinfo-primary', 100)], timeoutPolicy },
    ], `A/B at ${primary}/${canaryWeight}: the matches are ORed as routes, their headers ANDed as conditions`)
    t.same(httpProxyWeights(c, p), { primary, canary: canaryWeight })
  }
  const scoped = httpProxy(contour({ match: [{ uri: { prefix: '/api' }, headers: { host: { exact: 'a' } } }] }, { interval: '1m', iterations: 3, match: [AB[0]!] }),
    { primary: 0, canary: 100 })
  t.same(scoped.spec.routes.map(r => r.conditions), [
    [{ prefix: '/api' }, { header: { name: 'host', exact: 'a' } }, { header: { name: 'x-canary', exact: 'insider' } }],
    [{ prefix: '/api' }, { header: { name: 'host', exact: 'a' } }],
  ], 'the analysis match is merged into the service match; the default route keeps the service match')
})

t.test('mirroring: the canary is the route\'s mirror while the split is all primary, with mirrorWeight as its weight', async t => {
  const c = contour({}, { interval: '1m', iterations: 5, mirror: true, mirrorWeight: 40 })
  const p = httpProxy(c, { primary: 100, canary: 0, mirror: true })
  t.same(p.spec.routes[0]?.services, [svc('podinfo-primary', 100), { name: 'podinfo-canary', port: 9898, mirror: true, weight: 40 }])
  t.same(httpProxyWeights(c, p), { primary: 100, canary: 0, mirror: true })
  t.same(httpProxy(contour(), { primary: 100, canary: 0, mirror: true }).spec.routes[0]?.services.at(-1), { name: 'podinfo-canary', port: 9898, mirror: true },
    'without mirrorWeight: no weight, Contour mirrors every request')
  t.same(httpProxy(c, { primary: 50, canary: 50, mirror: true }).spec.routes[0]?.services,
    [svc('podinfo-primary', 50), svc('podinfo-canary', 50), { name: 'podinfo-canary', port: 9898, mirror: true, weight: 40 }], 'a weighted canary stays beside its mirror')
  t.notOk(httpProxy(c, { primary: 0, canary: 100 }).spec.routes[0]?.services.some(s => s.mirror), 'no mirror when the split has none')
})

t.test('weights of an HTTPProxy that does not route to both sides are an error naming it', async t => {
  t.throws(() => httpProxyWeights(contour(), { spec: { routes: [{ services: [{ name: 'other', port: 80 }] }] } }),
    /HTTPProxy shop\/podinfo: routes\[0\] does not route to both podinfo-primary and podinfo-canary/)
})

function memory(objects: KubeObject[]): { kube: ApplyClient; log: string[]; has: (kind: string, name: string) => boolean } {
  const m = new Map(objects.map(o => [`${o.kind}/${o.metadata?.name}`, o]))
  const log: string[] = []
  const at = (kind?: string, name?: string): string => `${kind}/${name}`
  const kube: ApplyClient = {
    apply: async o => void (log.push(`apply ${at(o.kind, o.metadata?.name)}`), m.set(at(o.kind, o.metadata?.name), structuredClone(o))),
    get: async r => structuredClone(m.get(at(r.kind, r.name))),
    delete: async r => void (log.push(`delete ${at(r.kind, r.name)}`), m.delete(at(r.kind, r.name))),
  }
  return { kube, log, has: (kind, name) => m.has(at(kind, name)) }
}

t.test('the router: Services then the HTTPProxy, weights kept by reconcile, read back, finalize gives the apex back', async t => {
  const s = memory([deployment()])
  const c = contour()
  const r = contourRouter(s.kube)
  const weights: unknown[] = []
  for (const step of [() => r.reconcile(c), () => r.setRoutes(c, { primary: 70, canary: 30 }), () => r.reconcile(c)]) {
    await step()
    weights.push(await r.getRoutes(c))
  }
  t.same(s.log.slice(0, 4), ['apply Service/podinfo-primary', 'apply Service/podinfo-canary', 'apply Service/podinfo', 'apply HTTPProxy/podinfo'])
  t.same(weights, [{ primary: 100, canary: 0 }, { primary: 70, canary: 30 }, { primary: 70, canary: 30 }], 'created at 100/0; a reconcile keeps the weights')
  s.log.length = 0
  await r.finalize(c)
  t.same(s.log, ['delete HTTPProxy/podinfo', 'apply Service/podinfo', 'delete Service/podinfo-primary', 'delete Service/podinfo-canary'],
    'the HTTPProxy first, then the apex back on the target')
  await t.rejects(r.getRoutes(c), /HTTPProxy podinfo not found; reconcile first/)
})

t.test('an HTTPProxy sluice did not create is refused before any Service is written, and left on finalize', async t => {
  const users: KubeObject = { apiVersion: 'projectcontour.io/v1', kind: 'HTTPProxy', metadata: { name: 'podinfo' }, spec: { virtualhost: { fqdn: 'a.example.com' } } }
  const s = memory([deployment(), users])
  const r = contourRouter(s.kube)
  await t.rejects(r.reconcile(contour()), /HTTPProxy podinfo already exists and sluice did not create it/)
  await t.rejects(r.setRoutes(contour(), { primary: 50, canary: 50 }), /already exists and sluice did not create it/)
  const another = { ...users, metadata: { name: 'podinfo', ownerReferences: [{ uid: 'someone-else', controller: true }] } } as KubeObject
  await t.rejects(contourRouter(memory([deployment(), another]).kube).reconcile(contour()), /HTTPProxy podinfo already exists/, 'another Canary\'s too')
  t.same(s.log, [], 'nothing written: the apex Service was not taken over')
  await r.finalize(contour())
  t.notOk(s.log.includes('delete HTTPProxy/podinfo'), 'finalize leaves the user\'s HTTPProxy')
  t.ok(s.has('HTTPProxy', 'podinfo'))
})
