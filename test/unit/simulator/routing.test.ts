import t from 'tap'
import { canaryIngress } from '../../../src/router/nginx.ts'
import { httpRoute } from '../../../src/router/gatewayapi.ts'
import { tcpVirtualService, virtualService } from '../../../src/router/istio.ts'
import { apexService } from '../../../src/router/services.ts'
import { selectorLabel } from '../../../src/api/selector.ts'
import { canary, ingress } from '../../helpers/objects.ts'
import type { Canary, CanaryStatus } from '../../../src/api/types.ts'
import {
  apexCanaryShare, httpRouteCanaryShare, httpRouteMirrorShare, nginxCanaryShare, servedShares, virtualServiceCanaryShare, virtualServiceMirrorShare,
} from '../../simulator/routing.ts'

const P = 'nginx.ingress.kubernetes.io'

const user = ingress({ metadata: { name: 'web' } })
const ab = [{ headers: { 'x-canary': { exact: 'insider' } } }]

t.test('nginx: the canary Ingress sluice writes, weight by weight', async t => {
  const c = canary({ spec: { provider: 'nginx', ingressRef: { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', name: 'web' } } })
  for (const w of [0, 10, 50, 100]) {
    const ing = canaryIngress(c, user, { primary: 100 - w, canary: w })
    t.equal(nginxCanaryShare(ing.metadata.annotations), w / 100, `weight ${w}`)
  }
  const abCanary = { ...c, spec: { ...c.spec, analysis: { interval: '1m', threshold: 5, iterations: 3, match: ab } } }
  const byHeader = canaryIngress(abCanary, user, { primary: 0, canary: 100 })
  t.equal(nginxCanaryShare(byHeader.metadata.annotations), 0.1, 'header routing: the A/B fraction')
  t.equal(nginxCanaryShare(byHeader.metadata.annotations, 0.25), 0.25, 'the fraction is an option')
})

t.test('nginx: annotations as nginx reads them', async t => {
  t.equal(nginxCanaryShare(undefined), 0, 'no canary Ingress')
  t.equal(nginxCanaryShare({ [`${P}/canary-weight`]: '40' }), 0, 'without canary: "true" the Ingress is not a canary')
  t.equal(nginxCanaryShare({ [`${P}/canary`]: 'true' }), 0, 'no weight is 0')
  t.equal(nginxCanaryShare({ [`${P}/canary`]: 'true', [`${P}/canary-weight`]: 'x' }), 0, 'an invalid weight is 0')
  t.equal(nginxCanaryShare({ [`${P}/canary`]: 'true', [`${P}/canary-weight`]: '250' }), 1, 'clamped')
  t.equal(nginxCanaryShare({ [`${P}/canary`]: 'true', [`${P}/canary-weight`]: '5', [`${P}/canary-weight-total`]: '10' }), 0.5, 'canary-weight-total')
  t.equal(nginxCanaryShare({ [`${P}/canary`]: 'true', [`${P}/canary-by-cookie`]: 'canary' }), 0.1, 'cookie routing')
  t.equal(nginxCanaryShare({ [`${P}/canary`]: 'true', [`${P}/canary-by-header`]: 'x', [`${P}/canary-weight`]: '50' }), 0.1 + 0.9 * 0.5,
    'header plus weight: the rest follow the weight')
})

t.test('gatewayapi: the HTTPRoute sluice writes', async t => {
  const c = canary({ spec: { provider: 'gatewayapi', service: { port: 9898, gatewayRefs: [{ name: 'gw' }] } } })
  const names = { primary: 'podinfo-primary', canary: 'podinfo-canary' }
  for (const w of [0, 30, 100]) {
    t.equal(httpRouteCanaryShare(httpRoute(c, { primary: 100 - w, canary: w }).spec, names), w / 100, `weight ${w}`)
  }
  const abCanary = { ...c, spec: { ...c.spec, analysis: { interval: '1m', threshold: 5, iterations: 3, match: ab } } }
  t.equal(httpRouteCanaryShare(httpRoute(abCanary, { primary: 0, canary: 100 }).spec, names), 0.1, 'A/B: header rule to the canary, the rest to the primary')
  t.equal(httpRouteCanaryShare(httpRoute(abCanary, { primary: 100, canary: 0 }).spec, names), 0, 'A/B at weight 0')
})

t.test('gatewayapi: stored routes in other shapes', async t => {
  const names = { primary: 'a-primary', canary: 'a-canary' }
  t.equal(httpRouteCanaryShare(undefined, names), 0, 'no route')
  t.equal(httpRouteCanaryShare({ rules: [{ backendRefs: [{ name: 'a-primary' }, { name: 'a-canary' }] }] }, names), 0.5, 'a missing weight is 1')
  t.equal(httpRouteCanaryShare({ rules: [{ backendRefs: [{ name: 'other', weight: 100 }] }] }, names), 0, 'a route to neither side')
  t.equal(httpRouteCanaryShare({ rules: [
    { backendRefs: [{ name: 'a-primary', weight: 0 }, { name: 'a-canary', weight: 0 }] },
    { backendRefs: [{ name: 'a-primary', weight: 3 }, { name: 'a-canary', weight: 1 }] },
  ] }, names), 0.25, 'a rule without weight is skipped')
  t.equal(httpRouteCanaryShare({ rules: [
    { matches: [{ headers: [{ name: 'x', value: 'y' }] }], backendRefs: [{ name: 'a-canary', weight: 1 }] },
  ] }, names, 0.2), 0.2, 'only a header rule: plain requests have no canary route')
})

t.test('istio: the VirtualService sluice writes, weight by weight and for A/B', async t => {
  const c = canary({ spec: { provider: 'istio', service: { port: 9898, match: [{ uri: { prefix: '/api' } }] } } })
  const names = { primary: 'podinfo-primary', canary: 'podinfo-canary' }
  for (const w of [0, 10, 50, 100]) {
    t.equal(virtualServiceCanaryShare(virtualService(c, { primary: 100 - w, canary: w }).spec, names), w / 100, `weight ${w}`)
  }
  const abCanary = { ...c, spec: { ...c.spec, analysis: { interval: '1m', threshold: 5, iterations: 3, match: ab } } }
  t.equal(virtualServiceCanaryShare(virtualService(abCanary, { primary: 0, canary: 100 }).spec, names), 0.1, 'A/B: the header route to the canary, the rest (a uri match only) to the primary')
  t.equal(virtualServiceCanaryShare(virtualService(abCanary, { primary: 100, canary: 0 }).spec, names, 0.3), 0, 'A/B at weight 0')
  t.equal(virtualServiceCanaryShare(undefined, names), 0, 'no VirtualService')
  t.equal(virtualServiceCanaryShare({ http: [{ route: [{ destination: { host: 'podinfo-canary' } }] }] }, names), 1, 'a lone destination takes all')
  t.equal(virtualServiceCanaryShare({ http: [{ route: [{ destination: { host: 'podinfo-primary' }, weight: 3 }, { destination: { host: 'podinfo-canary' } }] }] }, names), 0,
    'among several, a missing weight is 0')
})

t.test('kubernetes: the apex selector decides the side', async t => {
  const c = canary()
  const sel = selectorLabel({ app: 'podinfo' })!
  t.equal(apexCanaryShare(apexService(c, sel, 'primary').spec.selector, { app: 'podinfo' }), 0)
  t.equal(apexCanaryShare(apexService(c, sel, 'canary').spec.selector, { app: 'podinfo' }), 1)
  t.equal(apexCanaryShare(undefined, { app: 'podinfo' }), 0, 'no apex Service')
  t.equal(apexCanaryShare({ app: 'podinfo' }, undefined), 0, 'a target without a selector label')
})

t.test('readiness moves a side\'s share to the other', async t => {
  t.same(servedShares(0.3, { primary: true, canary: true }), { primary: 0.7, canary: 0.3 })
  t.same(servedShares(0.3, { primary: false, canary: true }), { primary: 0, canary: 1 })
  t.same(servedShares(0.3, { primary: true, canary: false }), { primary: 1, canary: 0 })
  t.same(servedShares(0.3, { primary: false, canary: false }), { primary: 0, canary: 0 })
  t.same(servedShares(0, { primary: false, canary: true }), { primary: 0, canary: 1 }, 'no router objects, no primary: the target serves')
  t.same(servedShares(7, { primary: true, canary: true }), { primary: 0, canary: 1 }, 'clamped')
})

t.test('istio with session affinity: the A/B fraction keeps the canary\'s cookie and is routed by it, the rest by the weights', async t => {
  const c = (status: CanaryStatus): Canary => canary({ spec: { provider: 'istio', service: { port: 9898 }, analysis: { interval: '1m', stepWeight: 10, sessionAffinity: { cookieName: 'shop' } } }, status })
  const names = { primary: 'podinfo-primary', canary: 'podinfo-canary' }
  const during = virtualService(c({ sessionAffinityCookie: 'shop=abc' }), { primary: 90, canary: 10 })
  t.equal(virtualServiceCanaryShare(during.spec, names, 0.1), 0.1 * 1 + 0.9 * 0.1, 'the cookie holders on the canary, the others 10%')
  const wrongMatch = structuredClone(during)
  wrongMatch.spec.http[0]!.match = [{ headers: { Cookie: { regex: '^shop=other$' } } }]
  t.equal(virtualServiceCanaryShare(wrongMatch.spec, names, 0.1), 0.1, 'a match the cookie does not meet sends its holders by the weights too')
  const after = virtualService(c({ previousSessionAffinityCookie: 'shop=abc' }), { primary: 100, canary: 0 })
  t.equal(virtualServiceCanaryShare(after.spec, names, 0.1), 0, 'after the release nobody reaches the canary')
})

t.test('istio: mirroring copies mirrorPercentage of the requests to the canary, the split unchanged', async t => {
  const names = { primary: 'podinfo-primary', canary: 'podinfo-canary' }
  const c = canary({ spec: { provider: 'istio', service: { port: 9898 }, analysis: { interval: '1m', threshold: 5, stepWeight: 10, mirror: true, mirrorWeight: 30 } } })
  const spec = virtualService(c, { primary: 100, canary: 0, mirror: true }).spec
  t.equal(virtualServiceCanaryShare(spec, names), 0, 'no request is routed to the canary')
  t.equal(virtualServiceMirrorShare(spec, names), 0.3, 'mirrorWeight 30: 30% copied')
  const all = { ...c, spec: { ...c.spec, analysis: { interval: '1m', threshold: 5, stepWeight: 10, mirror: true } } }
  t.equal(virtualServiceMirrorShare(virtualService(all, { primary: 100, canary: 0, mirror: true }).spec, names), 1, 'no mirrorPercentage: every request')
  t.equal(virtualServiceMirrorShare(virtualService(c, { primary: 90, canary: 10 }).spec, names), 0, 'no mirror')
  t.equal(virtualServiceMirrorShare({ http: [{ route: [{ destination: { host: 'podinfo-primary' } }], mirror: { host: 'elsewhere' } }] }, names), 0,
    'a mirror to another host is not the canary\'s')
})

t.test('gatewayapi: a RequestMirror filter to the canary, by percent or fraction', async t => {
  const names = { primary: 'a-primary', canary: 'a-canary' }
  const rule = (requestMirror: unknown): unknown => ({ rules: [{
    backendRefs: [{ name: 'a-primary', weight: 100 }, { name: 'a-canary', weight: 0 }], filters: [{ type: 'RequestMirror', requestMirror }],
  }] })
  t.equal(httpRouteMirrorShare(rule({ backendRef: { name: 'a-canary', port: 80 } }), names), 1, 'without percent: every request')
  t.equal(httpRouteMirrorShare(rule({ backendRef: { name: 'a-canary', port: 80 }, percent: 40 }), names), 0.4, 'percent')
  t.equal(httpRouteMirrorShare(rule({ backendRef: { name: 'a-canary', port: 80 }, fraction: { numerator: 1, denominator: 4 } }), names), 0.25, 'fraction')
  t.equal(httpRouteMirrorShare(rule({ backendRef: { name: 'a-canary', port: 80 }, fraction: { numerator: 5 } }), names), 0.05, 'fraction over the default 100')
  t.equal(httpRouteMirrorShare(rule({ backendRef: { name: 'other', port: 80 } }), names), 0, 'a mirror elsewhere')
  t.equal(httpRouteCanaryShare(rule({ backendRef: { name: 'a-canary', port: 80 } }), names), 0, 'the split is unchanged')
})

t.test('istio: a tcp port\'s VirtualService splits by its tcp route', async t => {
  const c = canary({ spec: { provider: 'istio', service: { port: 5432, appProtocol: 'tcp' } } })
  for (const w of [0, 30, 100]) {
    t.equal(virtualServiceCanaryShare(tcpVirtualService(c, { primary: 100 - w, canary: w }).spec, { primary: 'podinfo-primary', canary: 'podinfo-canary' }), w / 100, `weight ${w}`)
  }
})
