// The test objects every tier builds from (test/helpers/objects.ts): sluice's kinds valid per their CRD schema,
// overrides merged the one documented way, and manifest() leaving out what only the server sets.
import t from 'tap'
import { customResourceDefinitions } from '../../src/api/crds.ts'
import { checkSchema } from '../../src/api/schema-check.ts'
import type { JSONSchema } from '../../src/api/schema.ts'
import { canary, deployment, hpa, ingress, manifest, metricTemplate } from '../helpers/objects.ts'

/** Problems of `o` against its kind's CRD schema; metadata is the API server's ObjectMeta, which the CRD leaves alone. */
function problems(o: { kind: string; metadata: object }): unknown[] {
  return checkSchema({ ...o, metadata: {} }, schemaOf(o.kind))
}

function schemaOf(kind: string): JSONSchema {
  const crd = customResourceDefinitions().find(c => (c as { spec: { names: { kind: string } } }).spec.names.kind === kind) as
    { spec: { versions: { schema: { openAPIV3Schema: JSONSchema } }[] } } | undefined
  const schema = crd?.spec.versions[0]?.schema.openAPIV3Schema
  if (!schema) throw new Error(`no CRD schema for ${kind}`)
  return schema
}

t.test('Canary and MetricTemplate are valid per their CRD, with and without overrides', async t => {
  t.same(problems(canary()), [])
  t.same(problems(canary({ spec: { provider: 'nginx', analysis: { interval: '1m', stepWeight: 10 } } })), [])
  t.same(problems(metricTemplate()), [])
  t.same(problems(metricTemplate({ spec: { provider: { type: 'prometheus', address: 'http://prom:9090' } } })), [])
  // The check must be able to fail, or the assertions above prove nothing.
  t.not(problems(canary({ spec: { service: { port: null } } })).length, 0, 'a Canary without a port is not')
})

t.test('the metadata the server sets, one uid per kind and name', async t => {
  t.match(canary().metadata, { name: 'podinfo', namespace: 'shop', uid: 'canary-podinfo', generation: 1, resourceVersion: '1' })
  t.not(deployment().metadata.uid, canary().metadata.uid, 'a Deployment and a Canary of the same name are two objects')
  t.equal(hpa({ metadata: { name: 'web' } }).metadata.uid, 'horizontalpodautoscaler-web')
})

t.test('names carry through to what refers to them', async t => {
  const c = canary({ metadata: { name: 'cart', namespace: 'store' } })
  t.same([c.metadata.name, c.metadata.namespace, c.spec.targetRef.name], ['cart', 'store', 'cart'])
  const d = deployment({ metadata: { name: 'cart' } })
  t.same(d.spec.selector.matchLabels, { app: 'cart' })
  t.same(d.spec.template.metadata?.labels, { app: 'cart' })
  t.equal(hpa({ metadata: { name: 'cart' } }).spec.scaleTargetRef.name, 'cart')
  const i = ingress({ metadata: { name: 'web' } }, 'cart', 80)
  t.same(i.spec.rules?.[0]?.http?.paths[0]?.backend.service, { name: 'cart', port: { number: 80 } })
})

t.test('overrides: objects merge key by key, lists replace, null removes', async t => {
  const d = deployment({
    metadata: { labels: { team: 'shop' } },
    spec: { replicas: null, selector: { matchLabels: { tier: 'web' } }, template: { spec: { containers: [{ name: 'x', image: 'x:1' }] } } },
  })
  t.same(d.spec.selector.matchLabels, { app: 'podinfo', tier: 'web' }, 'merged')
  t.same(d.spec.template.spec?.containers, [{ name: 'x', image: 'x:1' }], 'replaced whole')
  t.notOk('replicas' in d.spec, 'removed')
  t.same(d.metadata.labels, { team: 'shop' })
  t.same(deployment().spec.replicas, 1, 'the server\'s default otherwise')
  const first = canary()
  first.spec.service.port = 1
  t.equal(canary().spec.service.port, 9898, 'each call builds a new object')
})

t.test('manifest: what a client sends on create', async t => {
  const c = canary({ metadata: { labels: { a: 'b' } }, status: { phase: 'Progressing' } })
  const m = manifest(c)
  t.same(m.metadata, { name: 'podinfo', namespace: 'shop', labels: { a: 'b' } })
  t.notOk('status' in m)
  t.same(m.spec, c.spec)
  t.equal(c.metadata.uid, 'canary-podinfo', 'the stored object is left as it was')
})
