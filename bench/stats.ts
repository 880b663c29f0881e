// Small statistics: latency summaries from samples, and quantiles from Prometheus histogram buckets.
import type { LatencySummary } from './ipc.ts'

/** The q-quantile of sorted samples, nearest rank. */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))
  return sorted[rank]!
}

/** The median of unsorted samples (nearest rank, as quantile). */
export function median(samples: readonly number[]): number {
  return quantile([...samples].sort((a, b) => a - b), 0.5)
}

export function summarize(samples: readonly number[]): LatencySummary {
  const sorted = Float64Array.from(samples).sort()
  const list = Array.from(sorted)
  const sum = list.reduce((a, b) => a + b, 0)
  return {
    count: list.length,
    meanMs: list.length > 0 ? sum / list.length : Number.NaN,
    p50Ms: quantile(list, 0.5),
    p90Ms: quantile(list, 0.9),
    p99Ms: quantile(list, 0.99),
    p999Ms: quantile(list, 0.999),
    maxMs: list.length > 0 ? list[list.length - 1]! : Number.NaN,
  }
}

/** One cumulative bucket: observations ≤ le (le is Infinity for +Inf). */
export interface Bucket {
  readonly le: number
  readonly count: number
}

/**
 * The q-quantile of a cumulative histogram, interpolated linearly within the bucket that holds it, as
 * Prometheus' histogram_quantile does (the first bucket starts at 0; a quantile in +Inf answers the
 * largest finite bound). Only as precise as the bucket bounds.
 */
export function histogramQuantile(buckets: readonly Bucket[], q: number): number {
  const sorted = [...buckets].sort((a, b) => a.le - b.le)
  const total = sorted.at(-1)?.count ?? 0
  if (total === 0) return Number.NaN
  const rank = q * total
  let lowerLe = 0
  let lowerCount = 0
  for (const b of sorted) {
    if (b.count >= rank) {
      if (b.le === Infinity) return lowerLe
      const inBucket = b.count - lowerCount
      return inBucket === 0 ? b.le : lowerLe + (b.le - lowerLe) * ((rank - lowerCount) / inBucket)
    }
    lowerLe = b.le
    lowerCount = b.count
  }
  return lowerLe
}

/** The least-squares slope of y over x; NaN with fewer than two distinct x. */
export function slope(points: readonly { readonly x: number; readonly y: number }[]): number {
  const n = points.length
  if (n < 2) return Number.NaN
  const mx = points.reduce((s, p) => s + p.x, 0) / n
  const my = points.reduce((s, p) => s + p.y, 0) / n
  let sxy = 0
  let sxx = 0
  for (const p of points) {
    sxy += (p.x - mx) * (p.y - my)
    sxx += (p.x - mx) ** 2
  }
  return sxx === 0 ? Number.NaN : sxy / sxx
}
