// Samples the controller every second (CPU time and RSS from /proc) and its work-queue depth from its
// telemetry every few seconds, for the whole run, so that a size that never reaches its measurement
// window still reports what the controller did.
import { processCpuMs, rssBytes } from './procs.ts'
import { scrapeTelemetry, value } from './telemetry.ts'

export interface Point {
  readonly at: number
  readonly cpuMs: number
  readonly rssBytes: number
}

export interface DepthPoint {
  readonly at: number
  readonly depth: number
}

export interface Sampler {
  readonly points: readonly Point[]
  readonly depths: readonly DepthPoint[]
  stop(): void
}

export function startSampler(pid: number, telemetryPort: number, depthEveryMs = 5000): Sampler {
  const points: Point[] = []
  const depths: DepthPoint[] = []
  const sample = (): void => {
    const cpu = processCpuMs(pid)
    const rss = rssBytes(pid)
    if (cpu !== undefined && rss !== undefined) points.push({ at: Date.now(), cpuMs: cpu, rssBytes: rss })
  }
  let scraping = false
  const depth = (): void => {
    if (scraping) return
    scraping = true
    scrapeTelemetry(telemetryPort)
      .then(s => { const d = value(s, 'sluice_workqueue_depth'); if (d !== undefined) depths.push({ at: Date.now(), depth: d }) })
      .catch(() => { /* a busy or stopped controller: the gap shows in the series */ })
      .finally(() => { scraping = false })
  }
  sample()
  const a = setInterval(sample, 1000)
  const b = setInterval(depth, depthEveryMs)
  return { points, depths, stop() { clearInterval(a); clearInterval(b) } }
}

export interface Usage {
  readonly seconds: number
  /** CPU time over wall time (1 = one core). */
  readonly cpuCores: number
  /** The busiest 10 s within the span. */
  readonly cpuPeak10sCores: number
  readonly rssMeanMB: number
  readonly rssMaxMB: number
  readonly rssEndMB: number
}

const MB = 1024 * 1024

export function usage(points: readonly Point[], from: number, to: number): Usage | undefined {
  const span = points.filter(p => p.at >= from && p.at <= to)
  if (span.length < 2) return undefined
  const first = span[0]!
  const last = span.at(-1)!
  let peak = 0
  for (let i = 0, j = 0; i < span.length; i++) {
    while (span[i]!.at - span[j]!.at > 10_000) j++
    const dt = span[i]!.at - span[j]!.at
    if (dt >= 9_000) peak = Math.max(peak, (span[i]!.cpuMs - span[j]!.cpuMs) / dt)
  }
  const rss = span.map(p => p.rssBytes)
  return {
    seconds: (last.at - first.at) / 1000,
    cpuCores: (last.cpuMs - first.cpuMs) / (last.at - first.at),
    cpuPeak10sCores: peak,
    rssMeanMB: rss.reduce((s, v) => s + v, 0) / rss.length / MB,
    rssMaxMB: Math.max(...rss) / MB,
    rssEndMB: last.rssBytes / MB,
  }
}

export function depthStats(depths: readonly DepthPoint[], from: number, to: number): { mean: number; max: number; samples: number } {
  const d = depths.filter(p => p.at >= from && p.at <= to).map(p => p.depth)
  return { mean: d.length ? d.reduce((s, v) => s + v, 0) / d.length : Number.NaN, max: d.length ? Math.max(...d) : Number.NaN, samples: d.length }
}
