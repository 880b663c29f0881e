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

t.test('an annotation too large to keep is parsed all the same, each time', async t => {
  // Over the cache's 16 KiB bound: the result comes from a fresh parse, and must equal a cached one's.
  const metrics = Array.from({ length: 600 }, (_, i) => `  - {name: metric-${i}, interval: 1m}`).join('\n')
  const text = `interval: 1m\nmetrics:\n${metrics}`
  t.ok(text.length > 16 * 1024, 'the text is over the bound')
  const first = parseYamlMapping('sluice.dev/analysis', text)
  const second = parseYamlMapping('sluice.dev/analysis', text)
  t.equal((first.value!.metrics as unknown[]).length, 600)
  t.same(second.value, first.value)
  t.not(second.value, first.value, 'each caller its own document')
  t.equal(parseYamlMapping('sluice.dev/analysis', `${text}\n  - [`).error?.field, 'sluice.dev/analysis', 'and a broken one is reported')
})
