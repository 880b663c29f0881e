// The printed report of `make bench-controller`: one column per size, the targets with ratios, and what the
// machine was busy with during each window.
import type { LatencySummary } from '../ipc.ts'
import type { ControllerBenchReport, SizeResult } from './result.ts'
import type { HistogramWindow } from './telemetry.ts'

export const TARGETS = { rssMB: 300, cpuCores: 0.5, driftP99Ms: 1000, applyP99Ms: 1000 } as const

function table(head: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map(r => (r[i] ?? '').length)))
  const line = (cells: readonly string[]): string => cells.map((c, i) => i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)).join('  ').trimEnd()
  return [line(head), widths.map(w => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n')
}

const num = (v: number | undefined, digits = 0): string => v === undefined || !Number.isFinite(v) ? '–' : v.toFixed(digits)
const sec = (ms: number | undefined): string => ms === undefined || !Number.isFinite(ms) ? '–' : `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`
const pair = (s: LatencySummary | undefined, f: (v: number) => string): string => s && s.count > 0 ? `${f(s.p50Ms)} / ${f(s.p99Ms)}` : '–'
const msText = (v: number): string => Number.isFinite(v) ? (Math.abs(v) >= 10_000 ? sec(v) : `${v.toFixed(0)} ms`) : '–'
// Quantiles at the histogram's bucket resolution; waits in the urgent lane are often under a millisecond.
const waitText = (h: HistogramWindow | undefined): string => h && h.count > 0
  ? `${[h.p50Ms, h.p99Ms].map(v => v < 10 ? `${v.toFixed(1)} ms` : msText(v)).join(' / ')} (${h.count} keys)` : '–'

function rows(sizes: readonly SizeResult[]): string[][] {
  const col = (f: (s: SizeResult) => string): string[] => sizes.map(f)
  const w = (s: SizeResult): NonNullable<SizeResult['window']> | undefined => s.window
  return [
    ['reached', ...col(s => s.reached)],
    ['created / initialized', ...col(s => `${num(s.setup.created)} / ${num(s.setup.initialized)}`)],
    ['create + initialize time', ...col(s => sec(s.setup.initializeSeconds === undefined ? undefined : s.setup.initializeSeconds * 1000))],
    ['idle: controller cores', ...col(s => num(s.idle?.cpuCores, 3))],
    ['idle: controller RSS MB', ...col(s => num(s.idle?.rssMeanMB))],
    ['idle: reconciles/s', ...col(s => num(s.idle?.reconcilesPerSecond, 1))],
    ['burst: revisions applied', ...col(s => s.burst ? `${s.burst.applied} in ${s.burst.writeSeconds.toFixed(1)} s` : '–')],
    ['burst: all Progressing after', ...col(s => s.burst ? s.burst.allProgressingSeconds === undefined ? `${s.burst.progressing}/${s.burst.applied} only` : `${s.burst.allProgressingSeconds.toFixed(1)} s` : '–')],
    ['burst: apply → Progressing p50 / p99', ...col(s => pair(s.burst?.applyToProgressing, msText))],
    ['window: canaries analysing', ...col(s => w(s) ? `${w(s)!.analysingAtStart} → ${w(s)!.analysingAtEnd}` : '–')],
    ['window: controller RSS MB mean / max', ...col(s => w(s)?.controller ? `${num(w(s)!.controller!.rssMeanMB)} / ${num(w(s)!.controller!.rssMaxMB)}` : '–')],
    ['window: heap used / total / external MB', ...col(s => w(s) ? `${num(w(s)!.heapAtEnd.usedMB)} / ${num(w(s)!.heapAtEnd.totalMB)} / ${num(w(s)!.heapAtEnd.externalMB)}` : '–')],
    ['window: controller cores avg / peak 10 s', ...col(s => w(s)?.controller ? `${num(w(s)!.controller!.cpuCores, 3)} / ${num(w(s)!.controller!.cpuPeak10sCores, 2)}` : '–')],
    ['window: reconciles/s', ...col(s => num(w(s)?.reconcile.perSecond, 1))],
    ['window: reconcile p50 / p99', ...col(s => w(s) ? `${num(w(s)!.reconcile.p50Ms, 1)} / ${num(w(s)!.reconcile.p99Ms, 1)} ms` : '–')],
    ['window: reconcile errors', ...col(s => num(w(s)?.reconcile.errors))],
    ['window: queue depth mean / max', ...col(s => w(s) ? `${num(w(s)!.queueDepth.mean, 1)} / ${num(w(s)!.queueDepth.max)}` : '–')],
    ['window: queue wait p50 / p99, urgent lane', ...col(s => waitText(w(s)?.queueWait.urgent))],
    ['window: queue wait p50 / p99, routine lane', ...col(s => waitText(w(s)?.queueWait.routine))],
    ['window: steps', ...col(s => num(w(s)?.drift.steps))],
    ['window: steps/s achieved / due', ...col(s => w(s) ? `${(w(s)!.drift.steps / w(s)!.seconds).toFixed(1)} / ${(w(s)!.analysingAtStart / s.analysis.intervalSeconds).toFixed(1)}` : '–')],
    ['window: API requests/s (per step)', ...col(s => {
      const x = w(s)
      if (!x || x.apiServer.length === 0) return '–'
      const total = x.apiServer.reduce((t, a) => t + a.perSecond, 0)
      return `${total.toFixed(0)} (${x.drift.steps > 0 ? (total / (x.drift.steps / x.seconds)).toFixed(1) : '–'})`
    })],
    ['window: step drift p50 / p99 (watch)', ...col(s => pair(w(s)?.drift.observed, msText))],
    ['window: step drift p50 / p99 (status clock)', ...col(s => pair(w(s)?.drift.statusClock, msText))],
    ['window: step drift p50 / p99, 2nd half', ...col(s => pair(w(s)?.drift.secondHalf, msText))],
    ['window: step drift max (watch)', ...col(s => w(s) && w(s)!.drift.steps > 0 ? msText(w(s)!.drift.observed.maxMs) : '–')],
    ['window: ticks without a step', ...col(s => w(s) ? Object.entries(w(s)!.drift.holds).map(([k, v]) => `${k} ${v}`).join(', ') || '0' : '–')],
    ['window: single apply → Progressing p50 / p99', ...col(s => pair(w(s)?.probes, msText))],
    ['window: rollbacks', ...col(s => num(w(s)?.rollbacks))],
    ['window: machine busy cores', ...col(s => num(w(s)?.machine.busyCores, 2))],
    ...(sizes.some(s => s.soak) ? soakRows(sizes) : []),
  ]
}

function soakRows(sizes: readonly SizeResult[]): string[][] {
  const col = (f: (k: NonNullable<SizeResult['soak']>) => string): string[] => sizes.map(s => s.soak ? f(s.soak) : '–')
  const signed = (v: number): string => Number.isFinite(v) ? `${v >= 0 ? '+' : ''}${v.toFixed(1)}` : '–'
  return [
    ['soak: duration, revisions / promoted / rolled back', ...col(k => `${(k.seconds / 60).toFixed(0)} min, ${k.revisions} / ${k.promotions} / ${k.rollbacks}`)],
    ['soak: RSS first / last / max MB', ...col(k => `${num(k.points[0]?.rssMB)} / ${num(k.points.at(-1)?.rssMB)} / ${num(k.controller?.rssMaxMB)}`)],
    ['soak: RSS slope MB/h, all / 2nd half', ...col(k => `${signed(k.rssSlopeMBPerHour)} / ${signed(k.rssSlopeSecondHalfMBPerHour)}`)],
    ['soak: heap used first / last MB', ...col(k => `${num(k.points[0]?.heapUsedMB)} / ${num(k.points.at(-1)?.heapUsedMB)}`)],
    ['soak: heap slope MB/h, all / 2nd half', ...col(k => `${signed(k.heapSlopeMBPerHour)} / ${signed(k.heapSlopeSecondHalfMBPerHour)}`)],
    ['soak: controller cores', ...col(k => num(k.controller?.cpuCores, 3))],
  ]
}

function ratio(reached: number | undefined, target: number): string {
  return finite(reached) ? `${(reached / target).toFixed(2)}×` : '–'
}

const finite = (v: number | undefined): v is number => v !== undefined && Number.isFinite(v)

/** The figure a target is judged on, undefined when the size never measured it. */
function latencyP99(s: LatencySummary | undefined): number | undefined {
  return s && s.count > 0 ? s.p99Ms : undefined
}

function targets(sizes: readonly SizeResult[]): string {
  const out: string[][] = []
  for (const s of sizes) {
    const w = s.window
    const c = w?.controller
    const row = (name: string, goal: string, reached: number | undefined, shown: (v: number) => string, target: number): string[] =>
      [`N=${s.n}`, name, goal, finite(reached) ? shown(reached) : '–', ratio(reached, target), finite(reached) ? reached <= target ? 'met' : 'MISSED' : '']
    out.push(row('controller RSS (window max)', `≤ ${TARGETS.rssMB} MB`, c?.rssMaxMB, v => `${v.toFixed(0)} MB`, TARGETS.rssMB))
    out.push(row('controller CPU (window avg)', `≤ ${TARGETS.cpuCores} core`, c?.cpuCores, v => `${v.toFixed(3)} cores`, TARGETS.cpuCores))
    out.push(row('step drift p99 (watch)', '≤ 1 s', w && w.drift.steps > 0 ? w.drift.observed.p99Ms : undefined, msText, TARGETS.driftP99Ms))
    out.push(row('apply → Progressing p99, single', '≤ 1 s', latencyP99(w?.probes), msText, TARGETS.applyP99Ms))
    out.push(row(`apply → Progressing p99, burst of ${s.burst?.applied ?? '–'}`, '≤ 1 s', latencyP99(s.burst?.applyToProgressing), msText, TARGETS.applyP99Ms))
  }
  return table(['size', 'target', 'goal', 'reached', 'ratio', ''], out)
}

function machineLines(sizes: readonly SizeResult[]): string[] {
  return sizes.flatMap(s => {
    const m = s.window?.machine
    if (!m) return []
    const parts = Object.entries(m.byProcess).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v.toFixed(2)}`)
    return [`  N=${s.n}: ${num(m.busyCores, 2)} busy cores = ${parts.join(', ')}, other ${num(m.otherCores, 2)}`]
  })
}

function apiLines(sizes: readonly SizeResult[]): string[] {
  return sizes.flatMap(s => {
    const a = s.window?.apiServer
    if (!a?.length) return []
    const total = a.reduce((t, r) => t + r.perSecond, 0)
    return [`  N=${s.n}: ${total.toFixed(0)} requests/s — ` + a.slice(0, 8).map(r => `${r.verb} ${r.resource} ${r.perSecond.toFixed(1)}/s (${num(r.meanMs, 0)} ms)`).join(', ')]
  })
}

function eventLines(sizes: readonly SizeResult[]): string[] {
  return sizes.flatMap(s => {
    const e = s.window?.eventsCreated
    if (!e?.length) return []
    return [`  N=${s.n}: ` + e.map(x => `${x.component} ${x.reason} ${x.perSecond.toFixed(1)}/s`).join(', ')]
  })
}

export function formatReport(r: ControllerBenchReport): string {
  const m = r.machine
  const a = r.sizes[0]?.analysis
  const failures = r.sizes.filter(s => s.failure).map(s => `  N=${s.n}: ${s.failure}`)
  return [
    '',
    `sluice controller benchmark — ${r.when}, node ${m.node}, ${m.cpus} CPUs (${m.cpuModel}), ${m.memoryGB.toFixed(0)} GB, load average ${m.loadavg1mAtStart.toFixed(2)} at start`,
    a ? `canaries: nginx provider, 1 replica each, interval ${a.intervalSeconds}s, stepWeight ${a.stepWeight} up to ${a.maxWeight}, ` +
      `request-success-rate over ${a.metricIntervalSeconds}s from the simulator through Prometheus (scrape ${r.sizes[0]?.scrapeInterval})` : '',
    r.sizes[0] ? `sluice ${r.sizes[0].command}: ${r.sizes[0].controllerBin}${r.sizes[0].controllerNodeArgs.length > 0 ? ` with node ${r.sizes[0].controllerNodeArgs.join(' ')}` : ''}, controller flags: ${r.sizes[0].controllerArgs.join(' ') || 'none'}` : '',
    'burst: all canaries but the held-back ones get a new revision at once; single: held-back apps get one, one at a time, during the window.',
    'drift: when a step was seen minus when it was due (the previous tick + interval); "watch" as a client sees the status, "status clock" the controller\'s tick time.',
    'reconcile quantiles: from sluice_reconcile_duration_seconds, at bucket resolution.',
    '',
    table(['', ...r.sizes.map(s => `N=${s.n}`)], rows(r.sizes)),
    '',
    targets(r.sizes),
    '',
    'CPU during each window (cores, from /proc):',
    ...machineLines(r.sizes),
    'API server requests during each window (all clients; mean handling time as the API server measures it):',
    ...apiLines(r.sizes),
    'Events created during each window, by reporting component and reason (who wrote the Event POSTs):',
    ...eventLines(r.sizes),
    '',
    failures.length > 0 ? `STOPPED SHORT:\n${failures.join('\n')}` : 'every size ran to the end of its window',
    `runtime ${r.runtimeSeconds.toFixed(0)} s`,
    '',
  ].join('\n')
}
