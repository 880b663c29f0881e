import t from 'tap'
import { IMPLEMENTED_PROVIDERS } from '../../../src/api/capabilities.ts'
import { revertRouterFor, ROUTER_PROVIDERS, routerFor } from '../../../src/router/registry.ts'
import type { KubeObject, ObjectRef, ApplyClient } from '../../../src/kube/apply.ts'
import { canary, deployment } from '../../helpers/objects.ts'

// Records calls only: the routers' behaviour against a real API server is in the integration tests.
function recorder(objects: KubeObject[] = []): ApplyClient & { applied: KubeObject[]; deleted: string[] } {
  const applied: KubeObject[] = []
  const deleted: string[] = []
  return {
    applied, deleted,
    async apply(o) { applied.push(o) },
    async get(ref: ObjectRef) { return objects.find(o => o.kind === ref.kind && o.metadata?.name === ref.name) },
    async delete(ref) { deleted.push(`${ref.kind}/${ref.name}`) },
  }
}

const target = deployment()

t.test('unknown providers are an error, never a silent fallback', async t => {
  t.throws(() => routerFor('kuma', recorder()), /provider kuma: kuma is not available yet in this version of sluice; available: kubernetes, nginx, gatewayapi, gatewayapi:v1beta1, istio, linkerd, traefik, contour/)
  t.ok(routerFor(undefined, recorder()), 'no provider means kubernetes')
})

t.test('the router registry and the capability table list the same providers', async t => {
  t.same([...ROUTER_PROVIDERS].sort(), [...IMPLEMENTED_PROVIDERS].sort())
})

t.test('a Canary whose provider has no router can still be reverted: the apex goes back to the target', async t => {
  const apex: KubeObject = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'podinfo', labels: { 'app.kubernetes.io/managed-by': 'sluice' } } }
  const kube = recorder([target, apex])
  await revertRouterFor('kuma', kube).finalize(canary({ spec: { provider: 'kuma' } }))
  t.same(kube.applied.map(o => `${o.kind}/${o.metadata?.name}`), ['Service/podinfo'])
  t.same(kube.deleted, ['Service/podinfo-primary', 'Service/podinfo-canary'])
})

t.test('an apex sluice never took over is left as the user wrote it', async t => {
  const apex: KubeObject = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'podinfo' } }
  const kube = recorder([target, apex])
  await revertRouterFor('kuma', kube).finalize(canary({ spec: { provider: 'kuma' } }))
  t.same(kube.applied, [])
  t.same(kube.deleted, ['Service/podinfo-primary', 'Service/podinfo-canary'])
})

t.test('gatewayapi reconciles Services before the HTTPRoute and finalizes in reverse', async t => {
  const kube = recorder([target])
  const r = routerFor('gatewayapi', kube)
  const c = canary({ spec: { service: { port: 80, gatewayRefs: [{ name: 'g' }] } } })
  await r.reconcile(c)
  t.same(kube.applied.map(o => `${o.kind}/${o.metadata?.name}`), ['Service/podinfo-primary', 'Service/podinfo-canary', 'Service/podinfo', 'HTTPRoute/podinfo'])
  await r.finalize(c)
  t.same(kube.deleted, ['HTTPRoute/podinfo', 'Service/podinfo-primary', 'Service/podinfo-canary'])
})

t.test('a target without a selector label is reported with the fix', async t => {
  const kube = recorder([{ ...target, spec: { selector: { matchLabels: { tier: 'web' } } } }])
  await t.rejects(routerFor('kubernetes', kube).reconcile(canary()), /Deployment shop\/podinfo: spec.selector.matchLabels has none of app, name/)
})
