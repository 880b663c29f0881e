// The peer benchmark's report: a markdown table per size, sluice beside each Flagger run, with Flagger ÷ sluice
// ratios, and the plan (src/api/timing.ts) the release times are held against.
import { planOf } from '../../src/api/timing.ts'
import type { LatencySummary } from '../ipc.ts'
import { ANALYSIS } from './apps.ts'
import { markdownTable } from './markdown.ts'
import { repeatTable, roundOf } from './repeat.ts'
import type { PeerResult } from './run.ts'

export interface PeerReport {
  readonly when: string
  readonly command: string
  readonly machine: { readonly node: string; readonly cpus: number; readonly cpuModel: string; readonly memoryGB: number; readonly loadavg1mAtStart: number }
  readonly flagger: string
  readonly results: readonly PeerResult[]
  readonly runtimeSeconds: number
}

export const PLAN = planOf({
  analysis: { interval: `${ANALYSIS.intervalSeconds}s`, stepWeight: ANALYSIS.stepWeight, maxWeight: ANALYSIS.maxWeight, threshold: ANALYSIS.threshold ?? 5 },
}, 'canary')

const finite = (v: number | undefined): v is number => v !== undefined && Number.isFinite(v)
const s1 = (ms: number): string => `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`
const pair = (l: LatencySummary | undefined): string => l && l.count > 0 ? `${s1(l.p50Ms)} / ${s1(l.p99Ms)}` : '–'
const num = (v: number | undefined, d = 0): string => finite(v) ? v.toFixed(d) : '–'
const ratio = (a: number | undefined, b: number | undefined): string => finite(a) && finite(b) && b !== 0 ? `${(a / b).toFixed(2)}×` : '–'
const ratios = (a: LatencySummary | undefined, b: LatencySummary | undefined): string =>
  a && b && a.count > 0 && b.count > 0 ? `${ratio(a.p50Ms, b.p50Ms)} / ${ratio(a.p99Ms, b.p99Ms)}` : '–'

interface Row {
  readonly name: string
  readonly cell: (r: PeerResult) => string
  /** Flagger ÷ sluice. */
  readonly ratio?: (r: PeerResult, base: PeerResult) => string
}

const ROWS: readonly Row[] = [
  { name: 'reached', cell: r => r.reached },
  { name: 'apps Initialized (create + init time)', cell: r => `${num(r.setup.initialized)} (${num(r.setup.initializeSeconds)} s)` },
  { name: 'new image → Progressing p50 / p99', cell: r => pair(r.good?.toProgressing), ratio: (r, b) => ratios(r.good?.toProgressing, b.good?.toProgressing) },
  { name: 'new image → first weight p50 / p99', cell: r => pair(r.good?.toFirstWeight), ratio: (r, b) => ratios(r.good?.toFirstWeight, b.good?.toFirstWeight) },
  { name: 'new image → Succeeded p50 / p99', cell: r => pair(r.good?.toSucceeded), ratio: (r, b) => ratios(r.good?.toSucceeded, b.good?.toSucceeded) },
  {
    name: `Progressing → Succeeded p50 / p99 (plan ${s1(PLAN.doneMs)})`, cell: r => pair(r.good?.progressingToSucceeded),
    ratio: (r, b) => ratios(r.good?.progressingToSucceeded, b.good?.progressingToSucceeded),
  },
  { name: '… p50 ÷ plan', cell: r => ratio(r.good?.progressingToSucceeded.p50Ms, PLAN.doneMs) },
  { name: 'Succeeded / released', cell: r => r.good ? `${r.good.succeeded} / ${r.good.applied}` : '–' },
  { name: 'step drift p50 / p99', cell: r => pair(r.good?.drift) },
  { name: 'bad image → Failed p50 / p99', cell: r => pair(r.bad?.toFailed), ratio: (r, b) => ratios(r.bad?.toFailed, b.bad?.toFailed) },
  {
    name: `Progressing → Failed p50 / p99 (plan ${s1(PLAN.rollbackMs)})`, cell: r => pair(r.bad?.progressingToFailed),
    ratio: (r, b) => ratios(r.bad?.progressingToFailed, b.bad?.progressingToFailed),
  },
  { name: 'Failed / released', cell: r => r.bad ? `${r.bad.failed} / ${r.bad.applied}` : '–' },
  { name: 'RSS idle MB', cell: r => num(r.idle?.rssMeanMB), ratio: (r, b) => ratio(r.idle?.rssMeanMB, b.idle?.rssMeanMB) },
  { name: 'RSS analysing MB (max)', cell: r => num(r.good?.controller?.rssMaxMB), ratio: (r, b) => ratio(r.good?.controller?.rssMaxMB, b.good?.controller?.rssMaxMB) },
  { name: 'CPU idle cores', cell: r => num(r.idle?.cpuCores, 3), ratio: (r, b) => ratio(r.idle?.cpuCores, b.idle?.cpuCores) },
  { name: 'CPU analysing cores (avg / peak 10 s)', cell: r => r.good?.controller ? `${num(r.good.controller.cpuCores, 3)} / ${num(r.good.controller.cpuPeak10sCores, 2)}` : '–',
    ratio: (r, b) => ratio(r.good?.controller?.cpuCores, b.good?.controller?.cpuCores) },
  { name: 'a later release: Succeeded / released', cell: r => r.later ? `${r.later.succeeded} / ${r.later.applied}` : '–' },
  { name: 'a later release: RSS analysing MB (max)', cell: r => num(r.later?.controller?.rssMaxMB), ratio: (r, b) => ratio(r.later?.controller?.rssMaxMB, b.later?.controller?.rssMaxMB) },
  { name: 'a later release: CPU analysing cores (avg / peak 10 s)', cell: r => r.later?.controller ? `${num(r.later.controller.cpuCores, 3)} / ${num(r.later.controller.cpuPeak10sCores, 2)}` : '–',
    ratio: (r, b) => ratio(r.later?.controller?.cpuCores, b.later?.controller?.cpuCores) },
  { name: 'API requests/s idle / analysing (all clients)', cell: r => `${num(r.idle?.apiPerSecond, 1)} / ${num(r.good?.api.perSecond, 1)}` },
  { name: 'API requests per step, over idle', cell: r => num(r.good?.api.perStepOverIdle, 1), ratio: (r, b) => ratio(r.good?.api.perStepOverIdle, b.good?.api.perStepOverIdle) },
  { name: 'a later release: API requests per step, over idle', cell: r => num(r.later?.api.perStepOverIdle, 1),
    ratio: (r, b) => ratio(r.later?.api.perStepOverIdle, b.later?.api.perStepOverIdle) },
  { name: 'the controller\'s Canary status writes per release', cell: r => num(r.good?.perRelease.statusWrites, 1),
    ratio: (r, b) => ratio(r.good?.perRelease.statusWrites, b.good?.perRelease.statusWrites) },
  { name: 'the controller\'s Events created per release', cell: r => num(r.good?.perRelease.events, 1),
    ratio: (r, b) => ratio(r.good?.perRelease.events, b.good?.perRelease.events) },
]

/** Each controller's Events per good release by reason, busiest first: what the Event row is made of. */
function eventLines(results: readonly PeerResult[]): string[] {
  return results.flatMap(r => {
    const by = Object.entries(r.good?.perRelease.eventsByReason ?? {}).sort((a, b) => b[1] - a[1])
    return by.length === 0 ? [] : [`- ${r.controller}, Events per release: ${by.map(([reason, n]) => `${reason} ${n.toFixed(1)}`).join(', ')}`]
  })
}

function sizeTable(label: string, results: readonly PeerResult[]): string[] {
  const base = results.find(r => r.controller === 'sluice')
  const others = results.filter(r => r !== base)
  const head = [label, ...results.map(r => r.controller), ...(base ? others.map(r => `${r.controller} ÷ sluice`) : [])]
  return markdownTable(head, ROWS.map(row => [row.name, ...results.map(row.cell), ...(base ? others.map(r => row.ratio?.(r, base) ?? '') : [])]))
}

/** One size: a table per round (the round's own ratios), then, when there were several, their medians and spreads. */
function sizeSection(n: number, results: readonly PeerResult[]): string[] {
  const rounds = [...new Set(results.map(roundOf))].sort((a, b) => a - b)
  const perRound = rounds.flatMap(round => {
    const these = results.filter(x => roundOf(x) === round)
    const label = rounds.length > 1 ? `N = ${n}, round ${round + 1}` : `N = ${n}`
    return [...sizeTable(label, these), '', ...eventLines(these), '']
  })
  return rounds.length > 1 ? [...perRound, ...repeatTable(n, results), ''] : perRound
}

export function formatReport(r: PeerReport): string {
  const m = r.machine
  const sizes = [...new Set(r.results.map(x => x.n))]
  const failures = r.results.filter(x => x.failure).map(x => `- ${x.controller} N=${x.n}: ${x.failure}`)
  return [
    '',
    `Flagger ${r.flagger} beside sluice — ${r.when}, \`${r.command}\``,
    `machine: ${m.cpus} cores (${m.cpuModel}), ${m.memoryGB.toFixed(0)} GB, node ${m.node}, load average ${m.loadavg1mAtStart.toFixed(2)} at start`,
    `analysis: nginx, interval ${ANALYSIS.intervalSeconds}s, stepWeight ${ANALYSIS.stepWeight}, maxWeight ${ANALYSIS.maxWeight}, threshold ${ANALYSIS.threshold}, ` +
      `request-success-rate ≥ 99 over ${ANALYSIS.metricIntervalSeconds}s; plan (planOf): promotion ${s1(PLAN.promotionMs)}, Succeeded ${s1(PLAN.doneMs)} after Progressing`,
    'each column a fresh cluster with that controller alone; times from the answer of the write of the new image, seen by a watch of the Canaries; ' +
      'API requests: apiserver_request_total, every client but the benchmark\'s writes, watches excluded; per step: the analysing rate less the idle rate, ' +
      'times the time, over the weight steps seen; flagger = its default client QPS 100 / burst 250',
    '',
    ...sizes.flatMap(n => sizeSection(n, r.results.filter(x => x.n === n))),
    failures.length > 0 ? `stopped short:\n${failures.join('\n')}` : 'every run ended',
    `runtime ${r.runtimeSeconds.toFixed(0)} s`,
    '',
  ].join('\n')
}
