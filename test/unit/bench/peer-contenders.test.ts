// bench-peer's contenders: the baseline runs another build and says which variable names it when none is given.
import t from 'tap'
import { baselineBin, CONTENDERS } from '../../../bench/peer/env.ts'

t.test('sluice-baseline runs only when named, and needs BENCH_BASELINE_BIN', async t => {
  const baseline = CONTENDERS.find(c => c.name === 'sluice-baseline')
  t.match(baseline, { kind: 'sluice', onRequest: true, baseline: true })
  t.same(CONTENDERS.filter(c => !c.onRequest).map(c => c.name), ['sluice', 'flagger', 'flagger-qps500'], 'the default run is unchanged')
  const saved = process.env.BENCH_BASELINE_BIN
  t.teardown(() => { if (saved === undefined) delete process.env.BENCH_BASELINE_BIN; else process.env.BENCH_BASELINE_BIN = saved })
  delete process.env.BENCH_BASELINE_BIN
  t.throws(() => baselineBin(), /set BENCH_BASELINE_BIN/)
  process.env.BENCH_BASELINE_BIN = '/tmp/before/bin/sluice.mjs'
  t.equal(baselineBin(), '/tmp/before/bin/sluice.mjs')
})
