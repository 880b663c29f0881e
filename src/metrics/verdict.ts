// Pure: a metric's spec and what its query gave → a CheckRecord whose message a person on call can act on
// (the value with its unit, the bound it crossed, the window, and what happens next).
import type { CanaryMetric, CheckRecord, ThresholdRange } from '../api/types.ts'
import { MultipleValuesError, NoValuesError } from './provider.ts'

/** What one query gave, before it is judged (the machine's MetricOutcome is the judged check). */
export type QueryOutcome =
  | { readonly kind: 'value'; readonly value: number }
  | { readonly kind: 'no-values'; readonly error?: NoValuesError }
  | { readonly kind: 'multiple-values'; readonly error: MultipleValuesError }
  | { readonly kind: 'error'; readonly error: Error }

/** Classifies whatever a provider threw; anything that is not a no-values or multiple-values error is an error. */
export function outcomeOfError(e: unknown): QueryOutcome {
  if (e instanceof NoValuesError) return { kind: 'no-values', error: e }
  if (e instanceof MultipleValuesError) return { kind: 'multiple-values', error: e }
  return { kind: 'error', error: e instanceof Error ? e : new Error(String(e)) }
}

/** thresholdRange, else the deprecated threshold: a minimum for request-success-rate, a maximum otherwise. */
export function effectiveRange(metric: CanaryMetric): ThresholdRange | undefined {
  const r = metric.thresholdRange
  if (r && (r.min !== undefined || r.max !== undefined)) return { ...r }
  if (metric.threshold === undefined) return undefined
  return metric.name === 'request-success-rate' ? { min: metric.threshold } : { max: metric.threshold }
}

function unit(name: string): string {
  if (name === 'request-success-rate') return '%'
  if (name === 'request-duration') return 'ms'
  return ''
}

function fmt(n: number): string {
  if (n === Infinity) return '+Inf'
  if (n === -Infinity) return '-Inf'
  return String(Number(n.toFixed(Math.abs(n) >= 100 ? 1 : 3)))
}

/** Value and bound printed with enough digits that a failing value never looks equal to its bound. */
function pair(value: number, bound: number, u: string): [string, string] {
  let v = fmt(value)
  const b = fmt(bound)
  if (v === b && value !== bound) v = String(value)
  return [`${v}${u}`, `${b}${u}`]
}

function judge(name: string, value: number, range: ThresholdRange | undefined, window: string): { pass: boolean; text: string } {
  const u = unit(name)
  const w = `(window ${window})`
  if (range?.min !== undefined && value < range.min) {
    const [v, b] = pair(value, range.min, u)
    return { pass: false, text: `${name} ${v} is below the minimum ${b} ${w}` }
  }
  if (range?.max !== undefined && value > range.max) {
    const [v, b] = pair(value, range.max, u)
    return { pass: false, text: `${name} ${v} is above the maximum ${b} ${w}` }
  }
  const v = `${fmt(value)}${u}`
  const bounds = [
    range?.min !== undefined ? `minimum ${fmt(range.min)}${u}` : '',
    range?.max !== undefined ? `maximum ${fmt(range.max)}${u}` : '',
  ].filter(Boolean).join(', ')
  return { pass: true, text: bounds ? `${name} ${v} is within range (${bounds}) ${w}` : `${name} ${v} (no threshold set) ${w}` }
}

export interface VerdictOptions {
  /** The analysis window shown in messages; defaults to the metric's interval. */
  readonly window?: string
  readonly time?: Date
}

export function metricVerdict(metric: CanaryMetric, outcome: QueryOutcome, options: VerdictOptions = {}): CheckRecord {
  const window = options.window ?? metric.interval ?? '1m'
  const range = effectiveRange(metric)
  const base = { name: metric.name, window, time: (options.time ?? new Date()).toISOString(), ...(range ? { range } : {}) }
  switch (outcome.kind) {
    case 'value': {
      // NaN reaching here (e.g. from another provider) is no data, never a silent pass.
      if (Number.isNaN(outcome.value)) return metricVerdict(metric, { kind: 'no-values' }, options)
      const { pass, text } = judge(metric.name, outcome.value, range, window)
      return { ...base, value: outcome.value, verdict: pass ? 'pass' : 'fail', message: text }
    }
    case 'no-values':
      return {
        ...base, value: null, verdict: 'no-data',
        message: `${metric.name}: no values (no traffic in the last ${window}, or the query matches no series): holding`,
      }
    case 'multiple-values':
      return { ...base, value: null, verdict: 'error', message: `${metric.name}: ${outcome.error.message}: holding` }
    case 'error':
      return { ...base, value: null, verdict: 'error', message: `${metric.name}: ${outcome.error.message}: holding` }
  }
}
