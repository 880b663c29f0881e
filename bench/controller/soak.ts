// The soak: after the window, the same canaries keep cycling for a long while — each one that ends
// (Succeeded or Failed) gets the next revision — so that the controller's memory can be watched for growth
// with rollouts starting, stepping and ending all the time. Reports the RSS and V8 heap over time and the
// least-squares slope of each, over the whole soak and over its second half (past the first collections).
import { IMAGE_V1, IMAGE_V2, keyOf, newRevision, pool } from './apps.ts'
import type { AppRef, Clients } from './apps.ts'
import { usage } from './sampler.ts'
import type { Sampler, Usage } from './sampler.ts'
import { scrapeTelemetry, value } from './telemetry.ts'
import type { CanaryWatch } from './watch.ts'
import { slope } from '../stats.ts'

export interface SoakPoint {
  /** Seconds since the soak started. */
  readonly t: number
  readonly rssMB: number
  readonly heapUsedMB: number
}

export interface SoakResult {
  readonly seconds: number
  readonly revisions: number
  readonly writeErrors: readonly string[]
  readonly promotions: number
  readonly rollbacks: number
  readonly controller: Usage | undefined
  /** One point a minute (RSS from /proc, heap used from the controller's telemetry). */
  readonly points: readonly SoakPoint[]
  /** Least-squares slopes in MB per hour. */
  readonly rssSlopeMBPerHour: number
  readonly rssSlopeSecondHalfMBPerHour: number
  readonly heapSlopeMBPerHour: number
  readonly heapSlopeSecondHalfMBPerHour: number
}

export interface SoakOptions {
  readonly seconds: number
  readonly apps: readonly AppRef[]
  readonly clients: Clients
  readonly watch: CanaryWatch
  readonly sampler: Sampler
  readonly telemetryPort: number
  readonly writeConcurrency: number
  readonly exited: () => boolean
  readonly log: (m: string) => void
}

const MB = 1024 * 1024
const sleep = (ms: number): Promise<void> => new Promise(r => setTimeout(r, ms))
// A revision just written may still show the phase it ended with; it is not given another until this passes.
const REISSUE_AFTER_MS = 60_000

const perHour = (points: readonly SoakPoint[], y: (p: SoakPoint) => number): number =>
  slope(points.filter(p => Number.isFinite(y(p))).map(p => ({ x: p.t / 3600, y: y(p) })))

export async function soak(o: SoakOptions): Promise<SoakResult> {
  const start = Date.now()
  const end = start + o.seconds * 1000
  const promotions0 = o.watch.promotions()
  const rollbacks0 = o.watch.rollbacks()
  // The burst and the probes left every app on IMAGE_V2; the next revision flips it.
  const image = new Map(o.apps.map(a => [keyOf(a), IMAGE_V2]))
  const issuedAt = new Map<string, number>()
  const writeErrors: string[] = []
  const points: SoakPoint[] = []
  let revisions = 0
  let nextPoint = start
  o.log(`soak: ${o.seconds} s with the ${o.apps.length} canaries cycling (each that ends gets the next revision)`)
  while (Date.now() < end) {
    if (o.exited()) throw new Error('the controller exited during the soak')
    const now = Date.now()
    if (now >= nextPoint) {
      const heap = await scrapeTelemetry(o.telemetryPort).then(s => value(s, 'nodejs_heap_size_used_bytes'), () => undefined)
      const rss = o.sampler.points.at(-1)?.rssBytes
      points.push({ t: Math.round((now - start) / 1000), rssMB: rss === undefined ? Number.NaN : rss / MB, heapUsedMB: heap === undefined ? Number.NaN : heap / MB })
      const p = points.at(-1)!
      o.log(`soak ${p.t}/${o.seconds} s: RSS ${p.rssMB.toFixed(0)} MB, heap used ${p.heapUsedMB.toFixed(0)} MB, ` +
        `${revisions} revisions, ${o.watch.promotions() - promotions0} promoted, ${o.watch.rollbacks() - rollbacks0} rolled back`)
      nextPoint += 60_000
    }
    const ended = o.apps.filter(a => {
      const phase = o.watch.phaseOf(keyOf(a))
      return (phase === 'Succeeded' || phase === 'Failed') && now - (issuedAt.get(keyOf(a)) ?? 0) > REISSUE_AFTER_MS
    })
    writeErrors.push(...await pool(ended, o.writeConcurrency, async app => {
      const key = keyOf(app)
      const next = image.get(key) === IMAGE_V2 ? IMAGE_V1 : IMAGE_V2
      issuedAt.set(key, Date.now())
      await newRevision(o.clients, app, next)
      image.set(key, next)
      revisions++
    }))
    await sleep(Math.min(2000, Math.max(0, end - Date.now())))
  }
  const second = points.filter(p => p.t >= o.seconds / 2)
  return {
    seconds: (Date.now() - start) / 1000,
    revisions, writeErrors: writeErrors.slice(0, 20),
    promotions: o.watch.promotions() - promotions0,
    rollbacks: o.watch.rollbacks() - rollbacks0,
    controller: usage(o.sampler.points, start, Date.now()),
    points,
    rssSlopeMBPerHour: perHour(points, p => p.rssMB),
    rssSlopeSecondHalfMBPerHour: perHour(second, p => p.rssMB),
    heapSlopeMBPerHour: perHour(points, p => p.heapUsedMB),
    heapSlopeSecondHalfMBPerHour: perHour(second, p => p.heapUsedMB),
  }
}
