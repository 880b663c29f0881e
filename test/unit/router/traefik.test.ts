// The traefik router's TraefikService field by field, against Traefik's traefik.io/v1alpha1 API (the fields of
// TraefikService in Traefik v3.7's CRD: spec.weighted.services[].name/namespace/port/weight, spec.mirroring's
// name/namespace/port and mirrors[].name/namespace/port/percent), and its calls on an object store.
import t from 'tap'
import { traefikRouter, traefikRoutes, traefikService, traefikServiceWeights } from '../../../src/router/traefik.ts'
import type { KubeObject } from '../../../src/kube/apply.ts'
import type { Canary, CanaryService } from '../../../src/api/types.ts'
import { canary, deployment } from '../../helpers/objects.ts'
import { objectStore as store } from '../../helpers/object-store.ts'

function traefik(service: Partial<CanaryService> = {}, analysis: Canary['spec']['analysis'] = { interval: '1m', stepWeight: 10 }): Canary {
  return canary({ metadata: { uid: 'c0ffee' }, spec: { provider: 'traefik', service: { port: 9898, ...service }, analysis } })
}

const child = (name: string, extra: Record<string, number>): unknown => ({ name, namespace: 'shop', port: 9898, ...extra })

t.test('the TraefikService <svc> at weights 0, 10, 50 and 100: weighted, primary then canary, every weight written', async t => {
  const c = traefik()
  for (const canaryWeight of [0, 10, 50, 100]) {
    const ts = traefikService(c, { primary: 100 - canaryWeight, canary: canaryWeight })
    t.match(ts, {
      apiVersion: 'traefik.io/v1alpha1', kind: 'TraefikService',
      metadata: { name: 'podinfo', namespace: 'shop', labels: { 'app.kubernetes.io/managed-by': 'sluice' }, ownerReferences: [{ uid: 'c0ffee', controller: true }] },
    }, 'generated for the Canary, named after the Service')
    // Traefik takes a missing weight as 1, so a weight of 0 must be written to send the side nothing.
    t.same(ts.spec, {
      weighted: { services: [child('podinfo-primary', { weight: 100 - canaryWeight }), child('podinfo-canary', { weight: canaryWeight })] },
    }, `weight ${canaryWeight}`)
    t.same(traefikServiceWeights(c, ts), { primary: 100 - canaryWeight, canary: canaryWeight }, 'read back')
  }
})

t.test('service.name, service.port and the apex metadata shape the TraefikService', async t => {
  const ts = traefikService(traefik({ name: 'front', port: 8080, apex: { labels: { team: 'shop' }, annotations: { note: 'x' } } }), { primary: 90, canary: 10 })
  t.equal(ts.metadata.name, 'front')
  t.equal(ts.metadata.labels.team, 'shop')
  t.equal(ts.metadata.annotations.note, 'x')
  t.same(ts.spec.weighted?.services.map(s => [s.name, s.port]), [['front-primary', 8080], ['front-canary', 8080]])
})

t.test('mirroring: the primary serves and mirrorWeight percent of its requests go to the canary', async t => {
  const c = traefik({}, { interval: '1m', iterations: 5, mirror: true, mirrorWeight: 40 })
  const ts = traefikService(c, { primary: 100, canary: 0, mirror: true })
  t.same(ts.spec, { mirroring: { ...child('podinfo-primary', {}) as object, mirrors: [child('podinfo-canary', { percent: 40 })] } })
  t.same(traefikServiceWeights(c, ts), { primary: 100, canary: 0, mirror: true })
  t.same(traefikService(traefik(), { primary: 100, canary: 0, mirror: true }).spec.mirroring?.mirrors[0]?.percent, 100,
    'without mirrorWeight all requests are mirrored (Traefik would mirror none without a percent)')
  t.throws(() => traefikService(c, { primary: 50, canary: 50, mirror: true }), /traefik mirrors to the canary only while it has no weight/)
  t.same(traefikServiceWeights(c, traefikService(c, { primary: 0, canary: 100 })), { primary: 0, canary: 100 }, 'back to weighted after the mirror')
})

t.test('weights of a TraefikService that does not route to both sides are an error naming it; a missing weight is Traefik\'s 1', async t => {
  t.throws(() => traefikServiceWeights(traefik(), { spec: { weighted: { services: [{ name: 'other' }] } } }), /TraefikService shop\/podinfo: weighted does not route to both/)
  t.throws(() => traefikServiceWeights(traefik(), { spec: { mirroring: { name: 'other', mirrors: [] } } }), /mirroring does not mirror podinfo-primary to podinfo-canary/)
  t.same(traefikServiceWeights(traefik(), { spec: { weighted: { services: [{ name: 'podinfo-primary' }, { name: 'podinfo-canary', weight: 0 }] } } }), { primary: 1, canary: 0 })
})

t.test('the router: weights kept by reconcile at every step, read back, the TraefikService deleted on finalize', async t => {
  const s = store()
  const r = traefikRoutes(s.kube)
  const c = traefik()
  await r.reconcile(c)
  t.same(s.log, ['apply TraefikService/podinfo'], 'one object: the TraefikService')
  for (const w of [{ primary: 100, canary: 0 }, { primary: 90, canary: 10 }, { primary: 0, canary: 100 }, { primary: 100, canary: 0, mirror: true }]) {
    if (w.canary > 0 || w.mirror) await r.setRoutes(c, w)
    await r.reconcile(c)
    t.same(await r.getRoutes(c), w, `${JSON.stringify(w)} read back after a reconcile`)
    t.same(s.get('TraefikService', 'podinfo')?.spec, traefikService(c, w).spec, 'as stored')
  }
  s.log.length = 0
  await r.finalize(c)
  t.same(s.log, ['delete TraefikService/podinfo'])
  await t.rejects(r.getRoutes(c), /TraefikService podinfo not found; reconcile first/)
})

t.test('a TraefikService sluice did not create is refused, never overwritten, and left on finalize', async t => {
  const users: KubeObject = { apiVersion: 'traefik.io/v1alpha1', kind: 'TraefikService', metadata: { name: 'podinfo' }, spec: { weighted: { services: [{ name: 'podinfo', port: 80 }] } } }
  const s = store([deployment(), users])
  await t.rejects(traefikRoutes(s.kube).setRoutes(traefik(), { primary: 50, canary: 50 }), /TraefikService podinfo already exists and sluice did not create it/)
  await t.rejects(traefikRouter(s.kube).reconcile(traefik()), /TraefikService podinfo already exists and sluice did not create it/)
  const other = { ...users, metadata: { name: 'podinfo', ownerReferences: [{ uid: 'someone-else', controller: true }] } }
  await t.rejects(traefikRoutes(store([other]).kube).reconcile(traefik()), /already exists/, 'another Canary\'s is foreign too')
  t.same(s.log, [], 'nothing written: not even the apex Service was taken over')
  await traefikRoutes(s.kube).finalize(traefik())
  t.same(s.log, [], 'finalize leaves the user\'s TraefikService')
  t.same(s.get('TraefikService', 'podinfo'), users)
})
