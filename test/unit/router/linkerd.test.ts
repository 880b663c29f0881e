// The linkerd router's objects field by field: the SMI TrafficSplit as smi-sdk-go's split.smi-spec.io/v1alpha2
// types it (spec.service; spec.backends of {service, weight} with integer weights) and Flagger writes it, and the
// Gateway API HTTPRoute of its GAMMA path (parentRef the apex Service); and its calls on an object store.
import t from 'tap'
import { linkerdRouter, linkerdRoutes, routesByHttpRoute, trafficSplit, trafficSplitWeights } from '../../../src/router/linkerd.ts'
import { httpRoute } from '../../../src/router/gatewayapi.ts'
import type { KubeObject } from '../../../src/kube/apply.ts'
import type { Canary, CanaryService } from '../../../src/api/types.ts'
import { validateSpec } from '../../../src/api/validate.ts'
import { canary, deployment } from '../../helpers/objects.ts'
import { objectStore as store } from '../../helpers/object-store.ts'

function linkerd(service: Partial<CanaryService> = {}, analysis: Canary['spec']['analysis'] = { interval: '1m', stepWeight: 10 }): Canary {
  return canary({ metadata: { uid: 'c0ffee' }, spec: { provider: 'linkerd', service: { port: 9898, ...service }, analysis } })
}

const APEX_PARENT = { group: '', kind: 'Service', name: 'podinfo', port: 9898 }

t.test('the TrafficSplit <svc> at weights 0, 10, 50 and 100: the apex Service split between canary and primary', async t => {
  const c = linkerd()
  for (const canaryWeight of [0, 10, 50, 100]) {
    const ts = trafficSplit(c, { primary: 100 - canaryWeight, canary: canaryWeight })
    t.match(ts, {
      apiVersion: 'split.smi-spec.io/v1alpha2', kind: 'TrafficSplit',
      metadata: { name: 'podinfo', namespace: 'shop', labels: { 'app.kubernetes.io/managed-by': 'sluice' }, ownerReferences: [{ kind: 'Canary', uid: 'c0ffee', controller: true }] },
    }, 'the TrafficSplit <svc>, generated for the Canary')
    t.same(ts.spec, {
      service: 'podinfo',
      backends: [{ service: 'podinfo-canary', weight: canaryWeight }, { service: 'podinfo-primary', weight: 100 - canaryWeight }],
    }, `weight ${canaryWeight}: the apex, then the canary and the primary as Flagger orders them`)
    t.ok(ts.spec.backends.every(b => Number.isInteger(b.weight)), 'v1alpha2 weights are integers')
    t.same(trafficSplitWeights(c, ts), { primary: 100 - canaryWeight, canary: canaryWeight }, 'read back')
  }
})

t.test('service.name names the TrafficSplit and its backends; apex metadata is carried', async t => {
  const ts = trafficSplit(linkerd({ name: 'front', apex: { labels: { team: 'shop' }, annotations: { note: 'x' } } }), { primary: 90, canary: 10 })
  t.equal(ts.metadata.name, 'front')
  t.same(ts.spec, { service: 'front', backends: [{ service: 'front-canary', weight: 10 }, { service: 'front-primary', weight: 90 }] })
  t.equal(ts.metadata.labels.team, 'shop')
  t.equal(ts.metadata.annotations.note, 'x')
})

t.test('weights of a TrafficSplit without both backends are an error naming it', async t => {
  const c = linkerd()
  t.throws(() => trafficSplitWeights(c, { spec: { service: 'podinfo', backends: [{ service: 'podinfo-primary', weight: 100 }] } }),
    /TrafficSplit shop\/podinfo: spec.backends does not weigh both podinfo-primary and podinfo-canary/)
})

t.test('service.gatewayRefs selects the HTTPRoute path: the HTTPRoute attached to the apex Service, header routes for A/B', async t => {
  t.notOk(routesByHttpRoute(linkerd()))
  const ab = linkerd({ gatewayRefs: [APEX_PARENT] }, { interval: '1m', iterations: 3, match: [{ headers: { 'x-canary': { exact: 'insider' } } }] })
  t.ok(routesByHttpRoute(ab))
  const s = store()
  const r = linkerdRoutes(s.kube)
  await r.reconcile(ab)
  await r.setRoutes(ab, { primary: 0, canary: 100 })
  t.same(s.log, ['apply HTTPRoute/podinfo', 'apply HTTPRoute/podinfo'], 'no TrafficSplit on this path')
  const route = s.get('HTTPRoute', 'podinfo')!
  t.same(route, httpRoute(ab, { primary: 0, canary: 100 }, 'v1'), 'the gatewayapi router\'s HTTPRoute, gateway.networking.k8s.io/v1')
  t.same((route.spec as { parentRefs: unknown[] }).parentRefs, [APEX_PARENT], 'its parent is the apex Service (GAMMA)')
  t.same((route.spec as { rules: { matches: unknown[] }[] }).rules.map(x => x.matches), [
    [{ path: { type: 'PathPrefix', value: '/' }, headers: [{ type: 'Exact', name: 'x-canary', value: 'insider' }] }],
    [{ path: { type: 'PathPrefix', value: '/' } }],
  ], 'the matching requests at the split, the rest to the primary')
  t.same(await r.getRoutes(ab), { primary: 0, canary: 100 })
})

t.test('A/B is refused at apply on the TrafficSplit path, naming what to use instead; admitted on the HTTPRoute path', async t => {
  const ab = (service: object): object => ({
    provider: 'linkerd', targetRef: { name: 'podinfo' }, service: { port: 9898, ...service },
    analysis: { interval: '1m', iterations: 3, match: [{ headers: { 'x-canary': { exact: 'insider' } } }] },
  })
  const errors = validateSpec(ab({}))
  t.same(errors.map(e => e.field), ['analysis.match'])
  t.match(errors[0]?.message, 'cannot be routed by linkerd\'s SMI TrafficSplit, which splits by weight alone; set service.gatewayRefs to the apex Service, ' +
    'e.g. [{group: "", kind: Service, name: podinfo, port: 9898}], so that sluice writes a Gateway API HTTPRoute, which Linkerd routes by header')
  t.same(validateSpec(ab({ gatewayRefs: [APEX_PARENT] })), [])
  t.same(validateSpec({ provider: 'linkerd', targetRef: { name: 'podinfo' }, service: { port: 9898, timeout: '5s' }, analysis: { stepWeight: 10 } }).map(e => e.field),
    ['service.timeout'], 'options only the gatewayapi router reads are refused')
})

t.test('the router: weights kept by reconcile, read back; finalize deletes the TrafficSplit', async t => {
  const s = store()
  const r = linkerdRoutes(s.kube)
  const c = linkerd()
  await r.reconcile(c)
  t.same([s.log, await r.getRoutes(c)], [['apply TrafficSplit/podinfo'], { primary: 100, canary: 0 }], 'created on the primary alone')
  for (const w of [10, 50, 0]) {
    await r.setRoutes(c, { primary: 100 - w, canary: w })
    await r.reconcile(c)
    t.same(await r.getRoutes(c), { primary: 100 - w, canary: w }, `a reconcile keeps ${100 - w}/${w}`)
  }
  s.log.length = 0
  await r.finalize(c)
  t.same(s.log, ['delete TrafficSplit/podinfo'])
  await t.rejects(r.getRoutes(c), /TrafficSplit podinfo not found; reconcile first/)
})

t.test('a change of path removes the object of the former one, once the new one routes', async t => {
  const s = store()
  const r = linkerdRoutes(s.kube)
  await r.reconcile(linkerd())
  s.log.length = 0
  await r.reconcile(linkerd({ gatewayRefs: [APEX_PARENT] }))
  t.same(s.log, ['apply HTTPRoute/podinfo', 'delete TrafficSplit/podinfo'])
})

t.test('a TrafficSplit sluice did not create is refused, never overwritten, and left on finalize', async t => {
  const users: KubeObject = { apiVersion: 'split.smi-spec.io/v1alpha2', kind: 'TrafficSplit', metadata: { name: 'podinfo' }, spec: { service: 'podinfo', backends: [] } }
  const s = store([deployment(), users])
  await t.rejects(linkerdRouter(s.kube).reconcile(linkerd()), /TrafficSplit podinfo already exists and sluice did not create it/)
  t.same(s.log, [], 'the apex Service was not taken over')
  const r = linkerdRoutes(s.kube)
  await t.rejects(r.setRoutes(linkerd(), { primary: 50, canary: 50 }), /already exists and sluice did not create it/)
  const otherCanary = { ...users, metadata: { name: 'podinfo', ownerReferences: [{ uid: 'someone-else', controller: true }] } }
  await t.rejects(linkerdRoutes(store([otherCanary]).kube).reconcile(linkerd()), /TrafficSplit podinfo already exists/)
  await r.finalize(linkerd())
  t.same(s.log, [], 'finalize leaves the user\'s TrafficSplit')
  t.same(s.get('TrafficSplit', 'podinfo'), users)
})

t.test('the whole router: Services first, then the TrafficSplit; finalize the other way round', async t => {
  const s = store([deployment()])
  const r = linkerdRouter(s.kube)
  await r.reconcile(linkerd())
  t.same(s.log, ['apply Service/podinfo-primary', 'apply Service/podinfo-canary', 'apply Service/podinfo', 'apply TrafficSplit/podinfo'])
  s.log.length = 0
  await r.finalize(linkerd())
  t.same(s.log, ['delete TrafficSplit/podinfo', 'apply Service/podinfo', 'delete Service/podinfo-primary', 'delete Service/podinfo-canary'])
})
