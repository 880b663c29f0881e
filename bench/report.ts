// The benchmark report: its JSON shape, and the tables printed at the end of a run.
import type { Breakdown, StepTiming } from './breakdown.ts'
import type { ClusterResult, HistogramDelta, WriteRun } from './cluster.ts'
import type { LoadResult } from './ipc.ts'

export interface LoadPhase extends LoadResult {
  readonly name: string
  /** Server process CPU over the phase's wall time (100 = one core). */
  readonly serverCpuPercent: number
  readonly serverCpuUsPerReview: number
  /** The server's resident memory at the end of the phase (/proc). */
  readonly serverRssMB: number | undefined
  /** Reviews the server answers per second of its own CPU: the rate one core sustains. */
  readonly reviewsPerServerCpuSecond: number
  readonly clientCpuPercent: number
  /** CPU the rest of the machine used during the phase, in cores (from /proc/stat): contention, if not ~0. */
  readonly otherCpuCores: number | undefined
}

export interface Target {
  readonly name: string
  readonly goal: string
  readonly reached: string
  readonly met: boolean
}

export interface BenchReport {
  readonly when: string
  readonly machine: { readonly node: string; readonly cpus: number; readonly cpuModel: string; readonly loadavg1mAtStart: number; readonly loadavg1mAtEnd: number }
  readonly review: { readonly operation: string; readonly objectBytes: number; readonly reviewBytes: number; readonly answerBytes: number }
  readonly breakdown: Breakdown
  readonly load: readonly LoadPhase[]
  /** The closed-loop phase whose rate is the maximum throughput. */
  readonly throughputPhase?: string
  readonly cluster: ClusterResult | string
  readonly targets: readonly Target[]
  /** Failed requests and failed phases; any makes the run exit 1. */
  readonly errors: readonly string[]
  readonly runtimeSeconds: number
}

function table(head: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map(r => (r[i] ?? '').length)))
  const last = head.length - 1
  const line = (cells: readonly string[]): string =>
    cells.map((c, i) => i === 0 || i === last ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)).join('  ').trimEnd()
  return [line(head), widths.map(w => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n')
}

const ms = (v: number): string => Number.isFinite(v) ? v.toFixed(2) : '–'
const us = (v: number): string => Number.isFinite(v) ? v.toFixed(0) : '–'
const kib = (bytes: number): string => `${(bytes / 1024).toFixed(1)} KiB`

function loadTable(phases: readonly LoadPhase[]): string {
  if (phases.length === 0) return '  not run'
  return table(
    ['phase', 'reviews/s', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms', 'p99 svc ms', 'errors', 'timeouts', 'server CPU', 'µs CPU/review', 'server RSS', 'client CPU', 'other load', 'sockets', 'note'],
    phases.map(p => [
      p.name, p.achievedRate.toFixed(0), ms(p.latency.p50Ms), ms(p.latency.p90Ms), ms(p.latency.p99Ms), ms(p.latency.maxMs),
      p.serviceLatency ? ms(p.serviceLatency.p99Ms) : '', String(p.errors), String(p.timeouts), `${p.serverCpuPercent.toFixed(0)}%`,
      us(p.serverCpuUsPerReview), p.serverRssMB === undefined ? '–' : `${p.serverRssMB.toFixed(0)} MB`, `${p.clientCpuPercent.toFixed(0)}%`,
      p.otherCpuCores === undefined ? '–' : `${p.otherCpuCores.toFixed(2)} cores`, String(p.socketsOpened),
      p.saturatedAfterMs === undefined ? '' : `SATURATED after ${(p.saturatedAfterMs / 1000).toFixed(1)} s, ${p.abandoned} dropped`,
    ]),
  )
}

function step(name: string, t: StepTiming, share?: number): string[] {
  return [name, us(t.p50Us), us(t.p99Us), us(t.meanUs), share === undefined ? '' : `${(share * 100).toFixed(0)}%`]
}

function splitTable(b: Breakdown, cpuPerReview: number | undefined): string {
  const s = b.steps
  const parse = s.utf8.meanUs + s.parse.meanUs + s.decode.meanUs
  const total = cpuPerReview ?? b.pipeline.meanUs
  const rows = [
    step('parse: bytes → string', s.utf8, s.utf8.meanUs / total),
    step('parse: JSON.parse', s.parse, s.parse.meanUs / total),
    step('parse: decode (shape checks)', s.decode, s.decode.meanUs / total),
    step('decide (handler)', s.decide, s.decide.meanUs / total),
    step('  lint (YAML, resolve, validate), when not remembered', b.decideParts.lint, b.decideParts.lint.meanUs / total),
    step('    of which annotation YAML parsing', b.decideParts.annotationYaml, b.decideParts.annotationYaml.meanUs / total),
    step('  of which template revision hash', b.decideParts.templateRevision, b.decideParts.templateRevision.meanUs / total),
    step('serialize: JSON.stringify answer', s.serialize, s.serialize.meanUs / total),
    step('all of the above, back to back', b.pipeline, b.pipeline.meanUs / total),
  ]
  if (cpuPerReview !== undefined) {
    const rest = cpuPerReview - parse - s.decide.meanUs - s.serialize.meanUs
    rows.push(['TLS + HTTP + fastify + GC (rest of server CPU)', '', '', us(rest), `${(rest / total * 100).toFixed(0)}%`])
    rows.push(['server CPU per review (closed loop)', '', '', us(cpuPerReview), '100%'])
  }
  return table(['step (µs)', 'p50', 'p99', 'CPU/call', 'share of server CPU/review'], rows)
}

// One request at a time: how much of a review's latency is the handler path, and how much the rest.
function latencySplit(r: BenchReport): string[] {
  const single = r.load.find(p => p.kind === 'closed' && p.connections === 1)
  if (!single) return []
  const path = r.breakdown.pipeline.p50Us / 1000
  const p50 = single.latency.p50Ms
  return [`latency, one request at a time: p50 ${ms(p50)} ms = handler path ${ms(path)} ms (${(path / p50 * 100).toFixed(0)}%) + ` +
    `TLS, HTTP, loopback and client ${ms(p50 - path)} ms (${((p50 - path) / p50 * 100).toFixed(0)}%)`]
}

function bucketLine(name: string, h: HistogramDelta): string {
  const buckets = h.buckets.filter(b => b.le <= 1).map(b => `≤${b.le * 1000} ms: ${b.count}`).join(', ')
  return `  ${name}: ${h.count} calls; cumulative buckets ${buckets}`
}

function runRow(name: string, webhook: string, r: WriteRun): string[] {
  const h = r.apiServerObserved
  return [
    name, webhook, `${r.created}/${r.writes}`, r.writesPerSecond.toFixed(0), ms(h.p50Ms), ms(h.p90Ms), ms(h.p99Ms), ms(h.meanMs),
    ms(r.clientCreateLatency.p50Ms), ms(r.clientCreateLatency.p99Ms), String(r.errors.length),
    r.machineBusyCores === undefined ? '–' : `${r.machineBusyCores.toFixed(2)} cores`,
  ]
}

function clusterSection(c: ClusterResult | string): string[] {
  if (typeof c === 'string') return [`API server view: ${c}`]
  const b = c.sluice.burst
  const extra = (sluice: WriteRun, floor: WriteRun): string => ms(sluice.apiServerObserved.meanMs - floor.apiServerObserved.meanMs)
  return [
    `API server view: local cluster, creates of the Deployment (${c.namespace}); apiserver_admission_webhook_admission_duration_seconds`,
    `before and after each run. "floor" is ${c.floorWebhook}, a bare node:https webhook answering a fixed patch (bench/floor.ts).`,
    table(
      ['run', 'webhook', 'created', 'writes/s', 'p50 ms', 'p90 ms', 'p99 ms', 'mean ms', 'client p50', 'client p99', 'errors', 'machine busy'],
      [
        runRow('one at a time', 'floor', c.floor.sequential),
        runRow('one at a time', 'sluice', c.sluice.sequential),
        runRow(`burst ×${b.concurrency}`, 'floor', c.floor.burst),
        runRow(`burst ×${b.concurrency}`, 'sluice', b),
      ],
    ),
    '  p50/p90/p99: interpolated within the API server\'s buckets (5, 25, 100, 500 ms, …): bucket resolution only. mean: exact (sum/count).',
    `  client: the whole create as the client saw it. machine busy: busy cores of the whole box (cluster, webhooks, client and anything else running).`,
    bucketLine('sluice burst', b.apiServerObserved),
    bucketLine('floor burst', c.floor.burst.apiServerObserved),
    `  sluice's own share of the mean (sluice − floor): one at a time ${extra(c.sluice.sequential, c.floor.sequential)} ms, burst ${extra(b, c.floor.burst)} ms`,
    `  sluice webhook process during the burst: ${b.webhookCpuMs === undefined ? '–' : `${b.webhookCpuMs} ms CPU (${(b.webhookCpuMs / b.ms * 100).toFixed(0)}% of a core, ${(b.webhookCpuMs * 1000 / Math.max(1, b.created)).toFixed(0)} µs per create)`}; ` +
      `new API server connections: ≥ ${b.newConnectionsSeen}; calls of every operation: ${Object.entries(b.allOperations.countByOperation).map(([op, n]) => `${op} ${n}`).join(', ')}`,
    `  webhook rejections (errors, timeouts) the API server counted for sluice: ${c.webhookRejections}`,
  ]
}

export function formatReport(r: BenchReport): string {
  const closed = r.load.find(p => p.name === r.throughputPhase)
  const out = [
    '',
    `sluice webhook benchmark — ${r.when}, node ${r.machine.node}, ${r.machine.cpus} CPUs (${r.machine.cpuModel}), load average ${r.machine.loadavg1mAtStart.toFixed(2)} at start, ${r.machine.loadavg1mAtEnd.toFixed(2)} at end`,
    `review: ${r.review.operation} of a ${kib(r.review.objectBytes)} Deployment (object and oldObject: ${kib(r.review.reviewBytes)}); answer ${r.review.answerBytes} B (patch + plan warning)`,
    '',
    'HTTPS keep-alive load against one server process. Open loops: latency from the scheduled send ("p99 svc": from the actual',
    'send); a loop whose backlog passes 1 s of requests is stopped as saturated and summarized from its start. Timeouts: no answer',
    'within 5 s (the registered timeoutSeconds). other load: CPU used by processes outside the benchmark (shared machine).',
    loadTable(r.load),
    '',
    'Where the time goes (handler path without HTTP, in the benchmark process: p50/p99 wall time of single calls, mean CPU per call;',
    'the rest of the server\'s CPU per review is TLS, HTTP parsing and writing, fastify routing, and GC of the parsed review):',
    splitTable(r.breakdown, closed?.serverCpuUsPerReview),
    ...latencySplit(r),
    '',
    ...clusterSection(r.cluster),
    '',
    table(['target', 'goal', 'reached', ''], r.targets.map(t => [t.name, t.goal, t.reached, t.met ? 'met' : 'MISSED'])),
    '',
    r.errors.length > 0 ? `ERRORS:\n${r.errors.map(e => `  ${e}`).join('\n')}` : 'errors: none',
    `runtime ${r.runtimeSeconds.toFixed(0)} s`,
    '',
  ]
  return out.join('\n')
}
