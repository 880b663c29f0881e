import t from 'tap'
import { parseYamlMapping } from '../../../src/api/annotations.ts'

t.test('a parsed annotation is cached but every caller gets its own copy', async t => {
  const first = parseYamlMapping('sluice.dev/analysis', 'interval: 1m\nstepWeight: 20\nmetrics: [{name: a}]')
  ;(first.value!.metrics as { name: string }[])[0]!.name = 'mutated'
  first.value!.stepWeight = 99
  const second = parseYamlMapping('sluice.dev/analysis', 'interval: 1m\nstepWeight: 20\nmetrics: [{name: a}]')
  t.same(second.value, { interval: '1m', stepWeight: 20, metrics: [{ name: 'a' }] }, 'the cached document is untouched by a caller')
  t.not(first.value, second.value)
})

t.test('errors are cached per annotation key', async t => {
  const a = parseYamlMapping('sluice.dev/spec', '[1, 2')
  const b = parseYamlMapping('sluice.dev/analysis', '[1, 2')
  t.equal(a.error?.field, 'sluice.dev/spec')
  t.equal(b.error?.field, 'sluice.dev/analysis')
})
