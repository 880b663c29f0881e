// bench-peer's contenders: the baseline runs another build, other Node flags or both, and says which variables
// name them when none is given.
import t, { type Test } from 'tap'
import { baselineUnderTest, CONTENDERS } from '../../../bench/peer/env.ts'

const VARIABLES = ['BENCH_BASELINE_BIN', 'BENCH_BASELINE_NODE_ARGS', 'BENCH_CONTROLLER_BIN', 'BENCH_CONTROLLER_NODE_ARGS'] as const

function withEnv(t: Test, env: Partial<Record<(typeof VARIABLES)[number], string>>): void {
  const saved = Object.fromEntries(VARIABLES.map(name => [name, process.env[name]]))
  t.teardown(() => {
    for (const [name, value] of Object.entries(saved)) if (value === undefined) delete process.env[name]; else process.env[name] = value
  })
  for (const name of VARIABLES) delete process.env[name]
  Object.assign(process.env, env)
}

t.test('sluice-baseline runs only when named', async t => {
  const baseline = CONTENDERS.find(c => c.name === 'sluice-baseline')
  t.match(baseline, { kind: 'sluice', onRequest: true, baseline: true })
  t.same(CONTENDERS.filter(c => !c.onRequest).map(c => c.name), ['sluice', 'flagger', 'flagger-qps500'], 'the default run is unchanged')
})

t.test('the baseline needs another build or other Node flags', async t => {
  withEnv(t, { BENCH_CONTROLLER_BIN: '/tmp/after/bin/sluice.mjs', BENCH_CONTROLLER_NODE_ARGS: '--optimize-for-size' })
  t.throws(() => baselineUnderTest(), /set BENCH_BASELINE_BIN .* BENCH_BASELINE_NODE_ARGS/)
})

t.test('another build: with the Node flags of the sluice under test', async t => {
  withEnv(t, { BENCH_BASELINE_BIN: '/tmp/before/bin/sluice.mjs', BENCH_CONTROLLER_BIN: '/tmp/after/bin/sluice.mjs', BENCH_CONTROLLER_NODE_ARGS: '--optimize-for-size' })
  t.same(baselineUnderTest(), { controllerBin: '/tmp/before/bin/sluice.mjs', controllerNodeArgs: ['--optimize-for-size'] })
})

t.test('other Node flags: the same build, and an empty list runs Node without flags', async t => {
  withEnv(t, { BENCH_BASELINE_NODE_ARGS: '--optimize-for-size  --single-threaded-gc', BENCH_CONTROLLER_BIN: '/tmp/after/bin/sluice.mjs', BENCH_CONTROLLER_NODE_ARGS: '--optimize-for-size' })
  t.same(baselineUnderTest(), { controllerBin: '/tmp/after/bin/sluice.mjs', controllerNodeArgs: ['--optimize-for-size', '--single-threaded-gc'] })
  process.env.BENCH_BASELINE_NODE_ARGS = ''
  t.same(baselineUnderTest(), { controllerBin: '/tmp/after/bin/sluice.mjs', controllerNodeArgs: [] })
  delete process.env.BENCH_CONTROLLER_BIN
  t.same(baselineUnderTest(), { controllerNodeArgs: [] }, 'the sources when neither names a build')
})
