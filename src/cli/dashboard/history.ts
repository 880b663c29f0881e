// What the charts show: the weight of a release as the dashboard saw it change (status holds only the
// current weight), and each metric's values, from status.checks (its last MAX_STATUS_CHECKS records,
// older ones included when the dashboard starts) accumulated past that limit while the dashboard runs.
// A new revision starts a new history.
import type { Canary, CheckVerdict, ThresholdRange } from '../../api/types.ts'
import type { Point } from './chart.ts'

/** Points kept per series: a day of 10s steps is 8640; beyond this the oldest go. */
export const MAX_POINTS = 2000

export interface MetricHistory {
  readonly range?: ThresholdRange
  readonly points: readonly (Point & { readonly verdict: CheckVerdict })[]
}

export interface History {
  readonly revision: string
  /** When the dashboard first saw this revision. */
  readonly since: number
  readonly weights: readonly Point[]
  readonly metrics: Readonly<Record<string, MetricHistory>>
}

const capped = <T>(list: T[]): T[] => list.length > MAX_POINTS ? list.slice(list.length - MAX_POINTS) : list

function metricHistory(old: MetricHistory | undefined, c: Canary, name: string): MetricHistory {
  const checks = (c.status?.checks ?? []).filter(r => r.name === name)
  const seen = new Set(old?.points.map(p => p.t))
  const added = checks.filter(r => !seen.has(Date.parse(r.time)))
    .map(r => ({ t: Date.parse(r.time), v: r.value ?? null, ok: r.verdict === 'pass', verdict: r.verdict }))
  const range = checks.at(-1)?.range ?? old?.range ?? c.spec.analysis?.metrics?.find(m => m.name === name)?.thresholdRange
  const points = capped([...old?.points ?? [], ...added].sort((a, b) => a.t - b.t))
  return { ...(range && { range }), points }
}

function withChecks(metrics: Readonly<Record<string, MetricHistory>>, c: Canary): Record<string, MetricHistory> {
  const next: Record<string, MetricHistory> = {}
  for (const m of c.spec.analysis?.metrics ?? []) next[m.name] = metricHistory(metrics[m.name], c, m.name)
  return next
}

/** The history after seeing the Canary at `now` (ms). */
export function observe(h: History | undefined, c: Canary, now: number): History {
  const revision = c.status?.lastAppliedSpec ?? ''
  const base: History = h && h.revision === revision ? h : { revision, since: now, weights: [], metrics: {} }
  const weight = c.status?.canaryWeight ?? 0
  const last = base.weights.at(-1)
  const weights = last?.v === weight ? base.weights : capped([...base.weights, { t: now, v: weight }])
  return { ...base, weights, metrics: withChecks(base.metrics, c) }
}
