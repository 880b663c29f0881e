// bench-peer --repeat: the order of the contenders turns each round, and the summary pairs ratios within a round.
import t from 'tap'
import { pairedRatios, repeatTable, roundOrder, spreadOf } from '../../../bench/peer/repeat.ts'
import type { PeerResult } from '../../../bench/peer/run.ts'
import { formatReport } from '../../../bench/peer/report.ts'
import { summarize } from '../../../bench/stats.ts'

const NAMES = ['sluice', 'flagger', 'flagger-qps500']

t.test('each contender runs first in one round of every three', async t => {
  t.same(roundOrder(NAMES, 0), NAMES)
  t.same(roundOrder(NAMES, 1), ['flagger', 'flagger-qps500', 'sluice'])
  t.same(roundOrder(NAMES, 2), ['flagger-qps500', 'sluice', 'flagger'])
  t.same(roundOrder(NAMES, 3), NAMES, 'the fourth round starts over')
  t.same(roundOrder([], 2), [])
})

t.test('a spread is the median, least and most of the finite values', async t => {
  t.same(spreadOf([0.09, 0.07, 0.11]), { median: 0.09, min: 0.07, max: 0.11, count: 3 })
  t.same(spreadOf([undefined, Number.NaN, 2]), { median: 2, min: 2, max: 2, count: 1 }, 'a round without the figure does not count')
  t.equal(spreadOf([undefined]), undefined)
})

const none = summarize([])

// A good wave whose controller took `cpuCores`, with `perStep` API requests per step over idle.
function goodWave(cpuCores: number, perStep = 2.1): NonNullable<PeerResult['good']> {
  return {
    applied: 100, writeErrors: [], toProgressing: summarize([900, 1100]), toFirstWeight: summarize([10_000]), toSucceeded: summarize([50_000]),
    progressingToSucceeded: summarize([49_000]), toFailed: none, progressingToFailed: none, succeeded: 100, failed: 0, drift: summarize([10, 20]), steps: 300,
    controller: { seconds: 60, cpuCores, cpuPeak10sCores: cpuCores, rssMeanMB: 120, rssMaxMB: 125, rssEndMB: 120 },
    api: { perSecond: 150, perStepOverIdle: perStep, top: [] }, perRelease: { statusWrites: 6, events: 5, eventsByReason: {} }, seconds: 60,
  }
}

// A whole result as runPeer returns it; a run that stopped early has no good wave, one from before the later release none of it.
function run(controller: string, round: number, cpuCores?: number, rssIdle = 100, laterCpuCores?: number, laterPerStep?: number): PeerResult {
  return {
    controller, round, args: [], n: 100, reached: cpuCores === undefined ? 'initialized' : 'measured', seconds: 1, setup: { clusterSeconds: 1, createErrors: [] },
    idle: { seconds: 20, cpuCores: 0.01, cpuPeak10sCores: 0.01, rssMeanMB: rssIdle, rssMaxMB: rssIdle, rssEndMB: rssIdle, apiPerSecond: 10 },
    ...(cpuCores !== undefined && { good: goodWave(cpuCores) }),
    ...(laterCpuCores !== undefined && { later: goodWave(laterCpuCores, laterPerStep) }),
  }
}

t.test('ratios are taken within a round, then spread over the rounds', async t => {
  // Both contenders slower in round 1: the paired ratio stays near 1 where the ratio of medians would not.
  const results = [run('sluice', 0, 0.08), run('flagger', 0, 0.08), run('sluice', 1, 0.12), run('flagger', 1, 0.10), run('sluice', 2, 0.07), run('flagger', 2, 0.077)]
  const cpu = (r: PeerResult): number | undefined => r.good?.controller?.cpuCores
  const s = pairedRatios(results, 'sluice', 'flagger', cpu)
  t.equal(s?.count, 3)
  t.equal(s?.median.toFixed(3), '1.000')
  t.equal(s?.min.toFixed(3), '0.833')
  t.equal(s?.max.toFixed(3), '1.100')
  t.equal(pairedRatios([run('sluice', 0, 0.08), run('flagger', 1, 0.08)], 'sluice', 'flagger', cpu), undefined, 'no round has both')
})

t.test('the summary table: medians with their spread, and the paired ratios', async t => {
  const results = [run('sluice', 0, 0.08, 99), run('flagger', 0, 0.09, 66), run('sluice', 1, 0.1, 101), run('flagger', 1, undefined, 68), run('sluice', 2, 0.09, 100), run('flagger', 2, 0.081, 67)]
  const lines = repeatTable(100, results)
  t.match(lines[0], /^\| N = 100, 3 rounds: median \(least–most\) \| sluice \| flagger \| flagger ÷ sluice, by round \|$/)
  const cpu = lines.find(l => l.startsWith('| CPU analysing cores |'))
  // flagger stopped early in round 2: two values of its own, two paired ratios (1.125 and 0.9).
  t.equal(cpu, '| CPU analysing cores | 0.090 (0.080–0.100) | 0.081 (0.081–0.090) | 0.90× (0.90–1.13×) |')
  t.equal(lines.find(l => l.startsWith('| RSS idle MB |')), '| RSS idle MB | 100 (99–101) | 67 (66–68) | 0.67× (0.67–0.67×) |', 'the idle figure of the round that stopped early counts')
})

t.test('a later release has a CPU row of its own, empty for a report written before it', async t => {
  const results = [run('sluice', 0, 0.09, 100, 0.08), run('flagger', 0, 0.08, 66, 0.08), run('sluice', 1, 0.1, 100, 0.07), run('flagger', 1, 0.09, 66, 0.077)]
  const later = repeatTable(100, results).find(l => l.startsWith('| a later release: CPU analysing cores |'))
  t.equal(later, '| a later release: CPU analysing cores | 0.070 (0.070–0.080) | 0.077 (0.077–0.080) | 1.00× (1.00–1.10×) |')
  const before = repeatTable(100, [run('sluice', 0, 0.09), run('flagger', 0, 0.08)]).find(l => l.startsWith('| a later release: CPU analysing cores |'))
  t.equal(before, '| a later release: CPU analysing cores | – | – | – |')
})

t.test('the report shows each round, then the summary, only when there were rounds', async t => {
  const report = (results: PeerResult[]): string => formatReport({
    when: '2026-12-06T00:00:00Z', command: 'node bench/peer/main.ts', flagger: 'v1.44.0', results, runtimeSeconds: 1,
    machine: { node: 'v24', cpus: 2, cpuModel: 'x', memoryGB: 8, loadavg1mAtStart: 0 },
  })
  const once = report([run('sluice', 0, 0.08), run('flagger', 0, 0.09)])
  t.match(once, /\| N = 100 \| sluice \| flagger \|/)
  t.notMatch(once, /round|median/)
  const twice = report([run('sluice', 0, 0.08), run('flagger', 0, 0.09), run('flagger', 1, 0.1), run('sluice', 1, 0.09)])
  t.match(twice, /\| N = 100, round 1 \| sluice \| flagger \|[^]*\| N = 100, round 2 \| flagger \| sluice \|[^]*\| N = 100, 2 rounds: median/)
})

t.test('a later release has its API requests per step on a row of its own, apart from the first release\'s', async t => {
  const results = [run('sluice', 0, 0.09, 100, 0.08, 2.4), run('flagger', 0, 0.08, 66, 0.08, 3.6), run('sluice', 1, 0.1, 100, 0.07, 2.6), run('flagger', 1, 0.09, 66, 0.077, 3.9)]
  const lines = repeatTable(100, results)
  t.equal(lines.find(l => l.startsWith('| a later release: API requests per step, over idle |')),
    '| a later release: API requests per step, over idle | 2.4 (2.4–2.6) | 3.6 (3.6–3.9) | 1.50× (1.50–1.50×) |')
  t.equal(lines.find(l => l.startsWith('| API requests per step, over idle |')), '| API requests per step, over idle | 2.1 (2.1–2.1) | 2.1 (2.1–2.1) | 1.00× (1.00–1.00×) |',
    'the first release keeps its own figure')
})
