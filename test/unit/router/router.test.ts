import t from 'tap'
import { routerFor, type KubeObject, type ObjectRef, type RouterKube } from '../../../src/router/router.ts'
import { canary } from './fixtures.ts'

// Records calls only: the routers' behaviour against a real API server is in the integration tests.
function recorder(objects: KubeObject[] = []): RouterKube & { applied: KubeObject[]; deleted: string[] } {
  const applied: KubeObject[] = []
  const deleted: string[] = []
  return {
    applied, deleted,
    async apply(o) { applied.push(o) },
    async get(ref: ObjectRef) { return objects.find(o => o.kind === ref.kind && o.metadata?.name === ref.name) },
    async delete(ref) { deleted.push(`${ref.kind}/${ref.name}`) },
  }
}

const target: KubeObject = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'podinfo' }, spec: { selector: { matchLabels: { app: 'podinfo' } } } }

t.test('unknown providers are an error, never a silent fallback', async t => {
  t.throws(() => routerFor('istio', recorder()), /provider istio: sluice has no router for it yet/)
  t.ok(routerFor(undefined, recorder()), 'no provider means kubernetes')
})

t.test('gatewayapi reconciles Services before the HTTPRoute and finalizes in reverse', async t => {
  const kube = recorder([target])
  const r = routerFor('gatewayapi', kube)
  const c = canary({ service: { port: 80, gatewayRefs: [{ name: 'g' }] } })
  await r.reconcile(c)
  t.same(kube.applied.map(o => `${o.kind}/${o.metadata?.name}`), ['Service/podinfo-primary', 'Service/podinfo-canary', 'Service/podinfo', 'HTTPRoute/podinfo'])
  await r.finalize(c)
  t.same(kube.deleted, ['HTTPRoute/podinfo', 'Service/podinfo-primary', 'Service/podinfo-canary'])
})

t.test('a target without a selector label is reported with the fix', async t => {
  const kube = recorder([{ ...target, spec: { selector: { matchLabels: { tier: 'web' } } } }])
  await t.rejects(routerFor('kubernetes', kube).reconcile(canary()), /Deployment shop\/podinfo: spec.selector.matchLabels has none of app, name/)
})
