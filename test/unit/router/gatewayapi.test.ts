import t from 'tap'
import { cookieRegex } from '../../../src/router/cookies.ts'
import { httpRoute, mergeMatches, routeMatch, routeWeights } from '../../../src/router/gatewayapi.ts'
import { canary } from '../../helpers/objects.ts'

const gw = canary({ metadata: { uid: 'c0ffee' }, spec: { provider: 'gatewayapi', service: {
  port: 9898, hosts: ['app.example.com'], timeout: '15s', gatewayRefs: [{ name: 'public', namespace: 'gateways' }],
} } })

t.test('the HTTPRoute <svc>: parents, hosts, default match, weighted backends, timeout', async t => {
  const r = httpRoute(gw, { primary: 80, canary: 20 })
  t.equal(r.apiVersion, 'gateway.networking.k8s.io/v1')
  t.equal(r.metadata.name, 'podinfo')
  t.equal(r.metadata.labels['app.kubernetes.io/managed-by'], 'sluice')
  t.equal(r.metadata.ownerReferences[0]?.uid, 'c0ffee')
  t.same(r.spec.parentRefs, [{ name: 'public', namespace: 'gateways' }])
  t.same(r.spec.hostnames, ['app.example.com'])
  t.equal(r.spec.rules.length, 1)
  t.same(r.spec.rules[0]?.matches, [{ path: { type: 'PathPrefix', value: '/' } }])
  t.same(r.spec.rules[0]?.backendRefs, [
    { group: '', kind: 'Service', name: 'podinfo-primary', port: 9898, weight: 80 },
    { group: '', kind: 'Service', name: 'podinfo-canary', port: 9898, weight: 20 },
  ])
  t.same(r.spec.rules[0]?.timeouts, { request: '15s' })
  t.equal(httpRoute(gw, { primary: 100, canary: 0 }, 'v1beta1').apiVersion, 'gateway.networking.k8s.io/v1beta1')
  t.notOk('hostnames' in httpRoute(canary({ spec: { service: { port: 1, gatewayRefs: [{ name: 'g' }] } } }), { primary: 100, canary: 0 }).spec)
})

t.test('without gatewayRefs the error names the field', async t => {
  t.throws(() => httpRoute(canary(), { primary: 100, canary: 0 }), /spec.service.gatewayRefs/)
})

t.test('Istio-shaped matches become Gateway API matches', async t => {
  t.same(routeMatch({ uri: { prefix: '/api' }, method: { exact: 'get' } }), { path: { type: 'PathPrefix', value: '/api' }, method: 'GET' })
  t.same(routeMatch({ uri: { exact: '/x' } }), { path: { type: 'Exact', value: '/x' } })
  t.same(routeMatch({ headers: { 'x-a': { prefix: 'v1.' } } }), { headers: [{ type: 'RegularExpression', name: 'x-a', value: '^v1\\.' }] },
    'a header prefix becomes an anchored, escaped regex')
  t.same(routeMatch({ headers: { cookie: { exact: 'canary' } } }), { headers: [{ type: 'RegularExpression', name: 'Cookie', value: cookieRegex('canary') }] })
  t.same(routeMatch({ headers: { Cookie: { regex: 'beta=1' } } }), { headers: [{ type: 'RegularExpression', name: 'Cookie', value: 'beta=1' }] })
  const re = new RegExp(cookieRegex('canary'))
  t.ok(re.test('a=1; canary=always; b=2'))
  t.ok(re.test('canary=always'))
  t.notOk(re.test('canary=never'))
  t.notOk(re.test('xcanary=always'))
})

t.test('A/B: analysis matches merged with service matches in rules[0], everything else to the primary in rules[1]', async t => {
  t.same(mergeMatches([{ uri: { prefix: '/api' }, headers: { 'x-t': { exact: '1' } } }], [{ headers: { 'x-canary': { exact: 'insider' } } }]), [
    { path: { type: 'PathPrefix', value: '/api' }, headers: [{ type: 'Exact', name: 'x-t', value: '1' }, { type: 'Exact', name: 'x-canary', value: 'insider' }] },
  ])
  const ab = { ...gw, spec: { ...gw.spec, analysis: { match: [{ headers: { 'x-canary': { exact: 'insider' } }, queryParams: { beta: { exact: 'on' } } }] } } }
  const r = httpRoute(ab, { primary: 0, canary: 100 })
  t.equal(r.spec.rules.length, 2)
  t.same(r.spec.rules[0]?.matches, [{
    path: { type: 'PathPrefix', value: '/' },
    headers: [{ type: 'Exact', name: 'x-canary', value: 'insider' }],
    queryParams: [{ type: 'Exact', name: 'beta', value: 'on' }],
  }])
  t.same(r.spec.rules[0]?.backendRefs.map(b => [b.name, b.weight]), [['podinfo-primary', 0], ['podinfo-canary', 100]])
  t.same(r.spec.rules[1]?.matches, [{ path: { type: 'PathPrefix', value: '/' } }])
  t.same(r.spec.rules[1]?.backendRefs.map(b => [b.name, b.weight]), [['podinfo-primary', 100]])
})

t.test('filters: header modifier, rewrite and mirror', async t => {
  const c = canary({ spec: { service: { port: 80, gatewayRefs: [{ name: 'g' }], headers: { request: { set: { 'x-env': 'prod' }, remove: ['x-debug'] } },
    rewrite: { uri: '/v2', authority: 'internal' } } } })
  const f = httpRoute(c, { primary: 90, canary: 10, mirror: true }).spec.rules[0]?.filters
  t.same(f, [
    { type: 'RequestHeaderModifier', requestHeaderModifier: { set: [{ name: 'x-env', value: 'prod' }], remove: ['x-debug'] } },
    { type: 'URLRewrite', urlRewrite: { hostname: 'internal', path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/v2' } } },
    { type: 'RequestMirror', requestMirror: { backendRef: { name: 'podinfo-canary', port: 80 } } },
  ])
  t.notOk('filters' in (httpRoute(gw, { primary: 100, canary: 0 }).spec.rules[0] ?? {}), 'no filters unless asked for')
})

t.test('mirror: mirrorWeight is the RequestMirror filter\'s percent, on the rule of the split only', async t => {
  const c = canary({ spec: { service: { port: 80, gatewayRefs: [{ name: 'g' }] }, analysis: { interval: '1m', iterations: 3, mirror: true, mirrorWeight: 30 } } })
  for (const w of [0, 10, 50, 100]) {
    t.same(httpRoute(c, { primary: 100 - w, canary: w, mirror: true }).spec.rules[0]?.filters,
      [{ type: 'RequestMirror', requestMirror: { backendRef: { name: 'podinfo-canary', port: 80 }, percent: 30 } }], `weight ${w}: 30% copied to the canary`)
    t.notOk('filters' in (httpRoute(c, { primary: 100 - w, canary: w }).spec.rules[0] ?? {}), `weight ${w} without mirroring: no filter`)
  }
  const ab = { ...c, spec: { ...c.spec, analysis: { ...c.spec.analysis!, match: [{ headers: { 'x-canary': { exact: 'insider' } } }] } } }
  const rules = httpRoute(ab, { primary: 100, canary: 0, mirror: true }).spec.rules
  t.same(rules.map(r => r.filters?.length ?? 0), [1, 0], 'with A/B, only the matching rule mirrors')
})

t.test('weights are read back from rules[0], mirror from its filter', async t => {
  t.same(routeWeights(gw, httpRoute(gw, { primary: 70, canary: 30 })), { primary: 70, canary: 30 })
  t.same(routeWeights(gw, httpRoute(gw, { primary: 50, canary: 50, mirror: true })), { primary: 50, canary: 50, mirror: true })
  t.same(routeWeights(gw, { spec: { rules: [{ backendRefs: [{ name: 'podinfo-primary' }, { name: 'podinfo-canary', weight: 0 }] }] } }),
    { primary: 1, canary: 0 }, 'an unset weight is 1, as the API defines')
  t.throws(() => routeWeights(gw, { spec: { rules: [{ backendRefs: [{ name: 'other' }] }] } }), /HTTPRoute shop\/podinfo: rules\[0\]/)
})
