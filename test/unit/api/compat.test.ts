import t from 'tap'
import { normalizeCanary, withCurrentNames } from '../../../src/api/compat.ts'
import { canarySpecSchema } from '../../../src/api/schema.ts'

const analysis = { interval: '1m', threshold: 5, stepWeight: 10 }

t.test('canaryAnalysis alone becomes analysis, and the old name is gone', async t => {
  t.same(withCurrentNames({ service: { port: 80 }, canaryAnalysis: analysis }), { service: { port: 80 }, analysis })
})

t.test('analysis wins over canaryAnalysis, as in Flagger (GetAnalysis)', async t => {
  t.same(withCurrentNames({ analysis, canaryAnalysis: { iterations: 3 } }), { analysis })
})

t.test('a spec without the old name is returned as it is (same object)', async t => {
  const spec = { analysis }
  t.equal(withCurrentNames(spec), spec)
  t.equal(withCurrentNames(undefined), undefined)
  const canary = { metadata: { name: 'a' }, spec }
  t.equal(normalizeCanary(canary), canary, 'the cache keeps the object it received')
})

t.test('a Canary as the controller reads it: the spec in current names, the rest untouched', async t => {
  const canary = { apiVersion: 'sluice.dev/v1beta1', kind: 'Canary', metadata: { name: 'podinfo' }, spec: { canaryAnalysis: analysis }, status: { phase: 'Initialized' } }
  t.same(normalizeCanary(canary), { ...canary, spec: { analysis } })
  t.same(canary.spec, { canaryAnalysis: analysis }, 'the object read is not changed')
})

t.test('the CRD declares canaryAnalysis with the schema of analysis, so the API server keeps it', async t => {
  const { description: _a, ...old } = canarySpecSchema.properties?.canaryAnalysis ?? {}
  const { description: _b, ...current } = canarySpecSchema.properties?.analysis ?? {}
  t.ok(canarySpecSchema.properties?.canaryAnalysis, 'declared')
  t.same(old, current)
})
