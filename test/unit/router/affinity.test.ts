// Session affinity as the istio and gatewayapi routers write it, field by field: the Set-Cookie each side's
// responses carry (an Istio destination's headers.response.add; a Gateway API backendRef's
// ResponseHeaderModifier), the routes that send a request carrying a cookie to its side, and the expiry of the
// last release's cookie. Weights 0, 10, 50 and 100; the cookies come from the status, as the engine decided them.
import t from 'tap'
import { cookieRegex, sessionCookies } from '../../../src/router/cookies.ts'
import { STICKY_ROUTES, virtualService, virtualServiceWeights } from '../../../src/router/istio.ts'
import { httpRoute, routeWeights } from '../../../src/router/gatewayapi.ts'
import type { Canary, CanaryService, CanaryStatus, SessionAffinity } from '../../../src/api/types.ts'
import { canary } from '../../helpers/objects.ts'

const RELEASE: CanaryStatus = { sessionAffinityCookie: 'shop=abc123', primarySessionAffinityCookie: 'stay=abc123' }
const AFTER: CanaryStatus = { previousSessionAffinityCookie: 'shop=abc123' }
const AFFINITY = { cookieName: 'shop', maxAge: 600, primaryCookieName: 'stay' }

function withAffinity(provider: 'istio' | 'gatewayapi', status: CanaryStatus, service: Partial<CanaryService> = {}, affinity: SessionAffinity = AFFINITY): Canary {
  const gatewayRefs = provider === 'gatewayapi' ? { gatewayRefs: [{ name: 'public' }] } : {}
  return canary({
    metadata: { uid: 'c0ffee' },
    spec: { provider, service: { port: 9898, ...gatewayRefs, ...service }, analysis: { interval: '30s', stepWeight: 10, sessionAffinity: affinity } },
    status,
  })
}

const CANARY_SET = 'shop=abc123; Max-Age=600; Path=/'
const PRIMARY_SET = 'stay=abc123; Max-Age=30; Path=/'
const EXPIRE = 'shop=abc123; Max-Age=-1; Path=/'

t.test('cookies: a Cookie header carrying the cookie matches, in full, wherever it stands; a lookalike does not', async t => {
  const re = new RegExp(cookieRegex('shop', 'abc123'))
  for (const header of ['shop=abc123', 'a=1; shop=abc123', 'shop=abc123; b=2', 'a=1;shop=abc123;b=2']) t.ok(re.test(header), header)
  for (const header of ['shop=abc1234', 'myshop=abc123', 'shop=other', 'stay=abc123', '']) t.notOk(re.test(header), header)
  t.equal(cookieRegex('canary'), '^(.*?;\\s*)?canary=always(;.*)?$', 'A/B\'s cookie is the "always" one, as before')
  t.same(sessionCookies(withAffinity('istio', RELEASE)), {
    canary: { cookie: 'shop=abc123', setCookie: CANARY_SET, match: cookieRegex('shop', 'abc123') },
    primary: { cookie: 'stay=abc123', setCookie: PRIMARY_SET, match: cookieRegex('stay', 'abc123') },
  }, 'maxAge on the canary cookie, one interval on the primary\'s')
  t.same(sessionCookies(withAffinity('istio', AFTER)), { expired: { cookie: 'shop=abc123', setCookie: EXPIRE, match: cookieRegex('shop', 'abc123') } })
  t.same(sessionCookies(withAffinity('istio', RELEASE, {}, { cookieName: 'shop' }))?.canary?.setCookie, 'shop=abc123; Max-Age=86400; Path=/', 'maxAge defaults to a day')
  t.notOk(sessionCookies(withAffinity('istio', RELEASE, {}, { cookieName: 'shop' }))?.primary, 'no primary cookie without primaryCookieName')
  t.equal(sessionCookies(canary({ status: RELEASE })), undefined, 'nothing without sessionAffinity, whatever the status holds')
})

const dest = (host: string, weight: number, setCookie?: string): unknown =>
  ({ destination: { host, port: { number: 9898 } }, weight, ...(setCookie && { headers: { response: { add: { 'Set-Cookie': setCookie } } } }) })
const byCookie = (name: string): unknown => [{ headers: { Cookie: { regex: cookieRegex(name, 'abc123') } } }]

t.test('istio, during a release: sticky routes first, the weighted split hands out both cookies', async t => {
  const c = withAffinity('istio', RELEASE)
  for (const w of [0, 10, 50, 100]) {
    const vs = virtualService(c, { primary: 100 - w, canary: w })
    t.same(vs.spec.http, [
      { name: STICKY_ROUTES.canary, match: byCookie('shop'), route: [dest('podinfo-canary', 100)] },
      { name: STICKY_ROUTES.primary, match: byCookie('stay'), route: [dest('podinfo-primary', 100)] },
      { route: [dest('podinfo-primary', 100 - w, PRIMARY_SET), dest('podinfo-canary', w, CANARY_SET)] },
    ], `weight ${w}`)
    t.same(virtualServiceWeights(c, vs), { primary: 100 - w, canary: w }, 'read back from the weighted route, not a sticky one')
  }
})

t.test('istio, after the release: requests with the old cookie follow the split and are told to delete it', async t => {
  const c = withAffinity('istio', AFTER, { headers: { response: { add: { 'x-b': '2' } } }, match: [{ uri: { prefix: '/api' } }], timeout: '5s' })
  const vs = virtualService(c, { primary: 100, canary: 0 })
  t.same(vs.spec.http, [
    {
      name: STICKY_ROUTES.expired, match: [{ uri: { prefix: '/api' }, headers: { Cookie: { regex: cookieRegex('shop', 'abc123') } } }],
      route: [dest('podinfo-primary', 100), dest('podinfo-canary', 0)], timeout: '5s',
      headers: { response: { add: { 'x-b': '2', 'Set-Cookie': EXPIRE } } },
    },
    { match: [{ uri: { prefix: '/api' } }], route: [dest('podinfo-primary', 100), dest('podinfo-canary', 0)], timeout: '5s', headers: { response: { add: { 'x-b': '2' } } } },
  ], 'the service\'s match, options and response headers kept on both')
  t.same(virtualServiceWeights(c, vs), { primary: 100, canary: 0 })
  t.same(virtualService(withAffinity('istio', {}), { primary: 100, canary: 0 }).spec.http, [{ route: [dest('podinfo-primary', 100), dest('podinfo-canary', 0)] }],
    'no cookie decided yet: the plain split')
})

const backend = (name: string, weight: number, setCookie?: string): unknown => ({
  group: '', kind: 'Service', name, port: 9898, weight,
  ...(setCookie && { filters: [{ type: 'ResponseHeaderModifier', responseHeaderModifier: { add: [{ name: 'Set-Cookie', value: setCookie }] } }] }),
})
const cookieMatch = (name: string, path = '/'): unknown =>
  [{ path: { type: 'PathPrefix', value: path }, headers: [{ type: 'RegularExpression', name: 'Cookie', value: cookieRegex(name, 'abc123') }] }]

t.test('gatewayapi, during a release: the weighted rule stays first and hands out both cookies; a rule per cookie', async t => {
  const c = withAffinity('gatewayapi', RELEASE)
  for (const w of [0, 10, 50, 100]) {
    for (const version of ['v1', 'v1beta1'] as const) {
      const route = httpRoute(c, { primary: 100 - w, canary: w }, version)
      t.same(route.spec.rules, [
        { matches: [{ path: { type: 'PathPrefix', value: '/' } }], backendRefs: [backend('podinfo-primary', 100 - w, PRIMARY_SET), backend('podinfo-canary', w, CANARY_SET)] },
        { matches: cookieMatch('shop'), backendRefs: [backend('podinfo-canary', 100)] },
        { matches: cookieMatch('stay'), backendRefs: [backend('podinfo-primary', 100)] },
      ], `weight ${w}, ${version}`)
      t.same(routeWeights(c, route), { primary: 100 - w, canary: w }, 'read back from rules[0]')
    }
  }
})

t.test('gatewayapi, after the release: the expiry joins the rule\'s own ResponseHeaderModifier (one per rule)', async t => {
  const c = withAffinity('gatewayapi', AFTER, { headers: { response: { add: { 'x-b': '2' } } }, match: [{ uri: { prefix: '/api' } }], timeout: '5s' })
  const route = httpRoute(c, { primary: 100, canary: 0 })
  const own = { type: 'ResponseHeaderModifier', responseHeaderModifier: { add: [{ name: 'x-b', value: '2' }] } }
  t.same(route.spec.rules, [
    { matches: [{ path: { type: 'PathPrefix', value: '/api' } }], filters: [own], backendRefs: [backend('podinfo-primary', 100), backend('podinfo-canary', 0)], timeouts: { request: '5s' } },
    {
      matches: cookieMatch('shop', '/api'), backendRefs: [backend('podinfo-primary', 100), backend('podinfo-canary', 0)], timeouts: { request: '5s' },
      filters: [{ type: 'ResponseHeaderModifier', responseHeaderModifier: { add: [{ name: 'x-b', value: '2' }, { name: 'Set-Cookie', value: EXPIRE }] } }],
    },
  ])
  t.same(httpRoute(withAffinity('gatewayapi', {}), { primary: 90, canary: 10 }).spec.rules.length, 1, 'no cookie decided yet: the plain rule')
})
