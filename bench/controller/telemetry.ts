// The controller's own /metrics (prom-client text format): histogram deltas and gauges.
import { httpsGet } from '../../test/cluster/process.ts'
import { histogramQuantile } from '../stats.ts'
import type { Bucket } from '../stats.ts'

export interface Sample {
  readonly name: string
  readonly labels: Readonly<Record<string, string>>
  readonly value: number
}

export function parseExposition(text: string): Sample[] {
  const out: Sample[] = []
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue
    const brace = line.indexOf('{')
    const space = line.lastIndexOf(' ')
    if (space < 0) continue
    const close = brace >= 0 ? line.lastIndexOf('}') : -1
    const name = brace >= 0 && brace < space ? line.slice(0, brace) : line.slice(0, space)
    const labels: Record<string, string> = {}
    if (close > brace && brace >= 0) {
      for (const m of line.slice(brace + 1, close).matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[m[1]!] = m[2]!
    }
    out.push({ name, labels, value: Number(line.slice(space + 1)) })
  }
  return out
}

export async function scrapeTelemetry(port: number): Promise<Sample[]> {
  const r = await httpsGet(`http://127.0.0.1:${port}/metrics`, undefined, 10_000)
  if (r.status !== 200) throw new Error(`controller /metrics: HTTP ${r.status}`)
  return parseExposition(r.body)
}

export async function scrapeApiServer(apiPort: number, caPem: string, token: string): Promise<Sample[]> {
  const r = await httpsGet(`https://127.0.0.1:${apiPort}/metrics`, caPem, 20_000, { token })
  if (r.status !== 200) throw new Error(`kube-apiserver /metrics: HTTP ${r.status}`)
  // Only the request counters are needed; the rest of the (large) exposition is skipped before parsing.
  return parseExposition(r.body.split('\n').filter(l => l.startsWith('apiserver_request_total{') || l.startsWith('apiserver_request_duration_seconds_sum{') || l.startsWith('apiserver_request_duration_seconds_count{')).join('\n'))
}

export function value(samples: readonly Sample[], name: string): number | undefined {
  return samples.find(s => s.name === name)?.value
}

export interface HistogramWindow {
  readonly count: number
  readonly meanMs: number
  readonly p50Ms: number
  readonly p90Ms: number
  readonly p99Ms: number
  readonly buckets: readonly Bucket[]
}

/** What a histogram (its series with the labels of `match`) observed between two scrapes; quantiles at bucket resolution. */
export function histogramDelta(before: readonly Sample[], after: readonly Sample[], name: string, match: Readonly<Record<string, string>> = {}): HistogramWindow {
  const matching = (s: readonly Sample[], suffix: string): Sample[] =>
    s.filter(x => x.name === `${name}${suffix}` && Object.entries(match).every(([k, v]) => x.labels[k] === v))
  const buckets = (s: readonly Sample[]): Map<string, number> => new Map(matching(s, '_bucket').map(x => [x.labels.le ?? '', x.value]))
  const total = (s: readonly Sample[], suffix: string): number => matching(s, suffix)[0]?.value ?? 0
  const [b, a] = [buckets(before), buckets(after)]
  const delta: Bucket[] = [...a.entries()]
    .map(([le, n]) => ({ le: le === '+Inf' ? Infinity : Number(le), count: n - (b.get(le) ?? 0) }))
    .sort((x, y) => x.le - y.le)
  const count = total(after, '_count') - total(before, '_count')
  const sum = total(after, '_sum') - total(before, '_sum')
  return {
    count,
    meanMs: count > 0 ? sum / count * 1000 : Number.NaN,
    p50Ms: histogramQuantile(delta, 0.5) * 1000,
    p90Ms: histogramQuantile(delta, 0.9) * 1000,
    p99Ms: histogramQuantile(delta, 0.99) * 1000,
    buckets: delta,
  }
}

export interface ApiRequestRate {
  readonly verb: string
  readonly resource: string
  readonly perSecond: number
  /** The API server's own mean handling time (apiserver_request_duration_seconds), webhooks included. */
  readonly meanMs: number
}

/** Requests the API server handled between two scrapes of its /metrics, by verb and resource, busiest first. */
export function apiRequestRates(before: readonly Sample[], after: readonly Sample[], seconds: number): ApiRequestRate[] {
  const sum = (s: readonly Sample[], name: string): Map<string, number> => {
    const m = new Map<string, number>()
    for (const x of s) {
      if (x.name !== name || x.labels.verb === 'WATCH' || x.labels.verb === 'CONNECT') continue
      const k = `${x.labels.verb ?? ''} ${x.labels.resource ?? ''}${x.labels.subresource ? `/${x.labels.subresource}` : ''}`
      m.set(k, (m.get(k) ?? 0) + x.value)
    }
    return m
  }
  const delta = (name: string): Map<string, number> => {
    const [b, a] = [sum(before, name), sum(after, name)]
    return new Map([...a.entries()].map(([k, v]) => [k, v - (b.get(k) ?? 0)]))
  }
  const counts = delta('apiserver_request_total')
  const durations = delta('apiserver_request_duration_seconds_sum')
  const latencyCounts = delta('apiserver_request_duration_seconds_count')
  return [...counts.entries()].filter(([, n]) => n > 0).map(([k, n]) => {
    const [verb = '', resource = ''] = k.split(' ')
    const c = latencyCounts.get(k) ?? 0
    return { verb, resource, perSecond: n / seconds, meanMs: c > 0 ? (durations.get(k) ?? 0) / c * 1000 : Number.NaN }
  }).sort((x, y) => y.perSecond - x.perSecond)
}

/** Events created in a window, by who reported them and why: the API server's counters cannot tell clients apart. */
export interface EventTally {
  readonly component: string
  readonly reason: string
  readonly perSecond: number
}

interface EventLike {
  readonly reportingComponent?: string
  readonly source?: { readonly component?: string }
  readonly reason?: string
  readonly firstTimestamp?: Date | string
  readonly eventTime?: Date | string
  readonly metadata?: { readonly creationTimestamp?: Date | string }
}

/** The Events first recorded within [fromMs, toMs], counted by reporting component and reason, busiest first. */
export function tallyEvents(events: readonly EventLike[], fromMs: number, toMs: number): EventTally[] {
  const counts = new Map<string, number>()
  for (const e of events) {
    const created = e.firstTimestamp ?? e.eventTime ?? e.metadata?.creationTimestamp
    const at = created === undefined ? Number.NaN : new Date(created).getTime()
    // Timestamps have one-second resolution: an Event of the window's first second counts.
    if (!(at >= Math.floor(fromMs / 1000) * 1000 && at <= toMs)) continue
    const key = `${e.reportingComponent || e.source?.component || '(none)'}\u0000${e.reason ?? ''}`
    counts.set(key, (counts.get(key) ?? 0) + 1)
  }
  const seconds = (toMs - fromMs) / 1000
  return [...counts.entries()].map(([k, n]) => {
    const [component = '', reason = ''] = k.split('\u0000')
    return { component, reason, perSecond: n / seconds }
  }).sort((a, b) => b.perSecond - a.perSecond)
}
