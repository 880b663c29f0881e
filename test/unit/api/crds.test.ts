import t from 'tap'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parse } from 'yaml'
import { CRD_DIR, customResourceDefinitions, renderCrds } from '../../../src/api/crds.ts'
import { canarySpecSchema, type JSONSchema } from '../../../src/api/schema.ts'

interface Crd {
  metadata: { name: string }
  spec: {
    group: string
    scope: string
    names: { kind: string; shortNames?: string[]; categories: string[] }
    versions: {
      name: string
      served: boolean
      storage: boolean
      subresources?: { status: object }
      additionalPrinterColumns: { name: string; jsonPath: string; type: string; priority?: number }[]
      schema: { openAPIV3Schema: JSONSchema }
    }[]
  }
}

const crds = customResourceDefinitions() as unknown as Crd[]
const byKind = (kind: string): Crd => {
  const crd = crds.find(c => c.spec.names.kind === kind)
  if (!crd) throw new Error(`no CRD for ${kind}`)
  return crd
}

t.test('the committed manifests/crds equal the generated output (run make crds)', async t => {
  const rendered = renderCrds()
  const committed = readdirSync(CRD_DIR).filter(f => f.endsWith('.yaml')).sort()
  t.same(committed, [...rendered.keys()].sort(), 'one file per kind, no strays')
  for (const [file, text] of rendered) t.equal(readFileSync(join(CRD_DIR, file), 'utf8'), text, `${file} is up to date`)
})

t.test('the YAML parses back to the generated objects', async t => {
  for (const [file, text] of renderCrds()) {
    const parsed = parse(text) as Crd
    t.same(parsed, crds.find(c => `${c.metadata.name.split('.')[0]}.yaml` === file), file)
  }
})

t.test('the webhook validates with the very schema in the Canary CRD', async t => {
  const schema = byKind('Canary').spec.versions[0]?.schema.openAPIV3Schema
  t.equal(schema?.properties?.spec, canarySpecSchema)
})

// The rules of a structural schema (apiextensions.k8s.io/v1) that a generator could break.
function nodeProblems(schema: JSONSchema, path: string): string[] {
  const problems: string[] = []
  if (!schema.type && schema['x-kubernetes-int-or-string'] !== true) problems.push(`${path}: no type`)
  if (schema.properties && schema.additionalProperties) problems.push(`${path}: properties and additionalProperties`)
  if (schema.type === 'array' && !schema.items) problems.push(`${path}: array without items`)
  if (schema.type !== 'object' && (schema.properties || schema.required)) problems.push(`${path}: properties on a ${schema.type}`)
  const missing = (schema.required ?? []).filter(key => !schema.properties?.[key])
  return [...problems, ...missing.map(key => `${path}: required ${key} is not a property`)]
}

function structuralProblems(schema: JSONSchema, path: string): string[] {
  const children: [JSONSchema | undefined, string][] = [
    ...Object.entries(schema.properties ?? {}).map(([key, child]): [JSONSchema, string] => [child, `${path}.${key}`]),
    [schema.items, `${path}[]`],
    [schema.additionalProperties, `${path}{}`],
  ]
  return [
    ...nodeProblems(schema, path),
    ...children.flatMap(([child, at]) => (child ? structuralProblems(child, at) : [])),
  ]
}

function first<T>(list: readonly T[]): T {
  const item = list[0]
  if (item === undefined) throw new Error('empty list')
  return item
}

function prop(schema: JSONSchema | undefined, ...path: string[]): JSONSchema {
  let node = schema
  for (const key of path) node = key === '[]' ? node?.items : node?.properties?.[key]
  if (!node) throw new Error(`no schema at ${path.join('.')}`)
  return node
}

t.test('every schema is structural', async t => {
  for (const crd of crds) {
    const schema = crd.spec.versions[0]?.schema.openAPIV3Schema
    t.ok(schema, `${crd.metadata.name} has a schema`)
    if (schema) t.same(structuralProblems(schema, crd.spec.names.kind), [], crd.metadata.name)
  }
})

t.test('Canary: status subresource, printer columns, categories, short name', async t => {
  const canary = byKind('Canary')
  const version = first(canary.spec.versions)
  t.equal(canary.metadata.name, 'canaries.sluice.dev')
  t.equal(canary.spec.scope, 'Namespaced')
  t.same(version.subresources, { status: {} })
  t.match(version, { name: 'v1beta1', served: true, storage: true })
  t.same(version.additionalPrinterColumns.filter(c => !c.priority).map(c => [c.name, c.jsonPath]), [
    ['Status', '.status.phase'], ['Weight', '.status.canaryWeight'], ['FailedChecks', '.status.failedChecks'],
    ['LastTransition', '.status.lastTransitionTime'],
  ])
  t.ok(canary.spec.names.categories.includes('all'))
  t.same(canary.spec.names.shortNames, ['cn'])
  const checks = prop(version.schema.openAPIV3Schema, 'status', 'checks')
  t.match(checks, { type: 'array', maxItems: 20 })
  t.same(prop(checks, '[]', 'verdict').enum, ['pass', 'fail', 'no-data', 'error'])
  t.equal(prop(checks, '[]', 'value').nullable, true)
})

t.test('DeliveryPolicy is cluster-scoped; the others are namespaced', async t => {
  t.equal(byKind('DeliveryPolicy').spec.scope, 'Cluster')
  t.equal(byKind('MetricTemplate').spec.scope, 'Namespaced')
  t.equal(byKind('AlertProvider').spec.scope, 'Namespaced')
  t.notOk(byKind('DeliveryPolicy').spec.versions[0]?.subresources)
})

t.test('free-form router blocks keep unknown fields; intervals have a pattern', async t => {
  const preserved = (...path: string[]): unknown => prop(canarySpecSchema, ...path)['x-kubernetes-preserve-unknown-fields']
  t.equal(preserved('service', 'corsPolicy'), true)
  t.equal(preserved('service', 'trafficPolicy'), true)
  t.equal(preserved('service', 'match', '[]'), true)
  t.equal(preserved('analysis', 'match', '[]'), true)
  const pattern = '^([0-9]+(ms|s|m|h))+$'
  t.equal(prop(canarySpecSchema, 'analysis', 'interval').pattern, pattern)
  t.equal(prop(canarySpecSchema, 'analysis', 'metrics', '[]', 'interval').pattern, pattern)
  t.equal(prop(canarySpecSchema, 'analysis', 'webhooks', '[]', 'timeout').pattern, pattern)
})
