// One contender at one size N, on a fresh cluster: N apps created and Initialized, an idle baseline, a good
// new version for all N at once (until each Succeeded), a later good one (until each Succeeded), then a bad one
// for all N (until each Failed). The first release after a start pays for compiling the controller's code on a
// JIT runtime, the later one shows the controller as it runs for weeks. The bad one comes last: its failed
// requests stay in the analysis's 1-minute window and would fail a good release right after it.
// Whatever stage it stops at, it returns what it measured.
import { summarize } from '../stats.ts'
import type { LatencySummary } from '../ipc.ts'
import { clients, createNamespaces, keyOf, layout, pool, waitAdmitted } from '../controller/apps.ts'
import type { AppRef, Clients } from '../controller/apps.ts'
import type { BaseOptions } from '../controller/env.ts'
import { startSampler, usage } from '../controller/sampler.ts'
import type { Sampler, Usage } from '../controller/sampler.ts'
import { phaseText, waitInitialized, waitUntil } from '../controller/size.ts'
import { apiRequestRates, scrapeApiServer, tallyEvents } from '../controller/telemetry.ts'
import type { ApiRequestRate } from '../controller/telemetry.ts'
import { ANALYSIS, createPeerApp, release, type ReleaseKind } from './apps.ts'
import { startPeerEnv } from './env.ts'
import type { Contender, PeerEnv } from './env.ts'
import { watchReleases } from './watch.ts'
import type { Release, ReleaseWatch } from './watch.ts'

export interface RunOptions extends Omit<BaseOptions, 'dir'> {
  readonly clusterDir: string
  readonly idleSeconds: number
  readonly writeConcurrency: number
}

/** All N releases of one version, from the writes' answers. */
export interface Wave {
  readonly applied: number
  readonly writeErrors: readonly string[]
  readonly toProgressing: LatencySummary
  readonly toFirstWeight: LatencySummary
  readonly toSucceeded: LatencySummary
  readonly progressingToSucceeded: LatencySummary
  readonly toFailed: LatencySummary
  readonly progressingToFailed: LatencySummary
  readonly succeeded: number
  readonly failed: number
  /** Each weight step's gap from the one before (Progressing before the first) minus the interval. */
  readonly drift: LatencySummary
  readonly steps: number
  readonly controller?: Usage
  /**
   * The API server's requests (every client but the benchmark's writes; watches not counted): per second, and per
   * weight step above the idle rate (one controller per cluster, so the rest is the control plane's own background).
   */
  readonly api: { readonly perSecond: number; readonly perStepOverIdle: number; readonly top: readonly ApiRequestRate[] }
  /**
   * The controller's own writes per release, the part of the API requests no other client makes: the Canary's
   * status, and the Events it created (by reason; a repeat that raised an Event's count is not a new one).
   */
  readonly perRelease: { readonly statusWrites: number; readonly events: number; readonly eventsByReason: Readonly<Record<string, number>> }
  readonly seconds: number
  readonly failure?: string
}

export interface PeerResult {
  readonly controller: string
  readonly args: readonly string[]
  readonly n: number
  /** Which of --repeat's rounds, from 0; absent in a report written before rounds. */
  readonly round?: number
  readonly reached: string
  readonly failure?: string
  readonly setup: { clusterSeconds: number; created?: number; createErrors: string[]; initialized?: number; initializeSeconds?: number }
  readonly idle?: Usage & { readonly apiPerSecond: number }
  readonly good?: Wave
  readonly bad?: Wave
  /** A good release after the first one; absent in a report written before it. */
  readonly later?: Wave
  readonly seconds: number
}

const sleep = (ms: number): Promise<void> => new Promise(r => setTimeout(r, ms))

interface Ctx {
  readonly c: Contender
  readonly o: RunOptions
  readonly n: number
  readonly e: PeerEnv
  readonly w: ReleaseWatch
  readonly s: Sampler
  readonly k: Clients
  readonly apps: readonly AppRef[]
}

async function createAll(x: Ctx, namespaces: readonly string[], setup: PeerResult['setup']): Promise<string | undefined> {
  const { o, w, k, apps } = x
  await createNamespaces(k, namespaces)
  if (x.c.kind === 'sluice') await waitAdmitted(k, apps[0]!, ANALYSIS, 60_000)
  const start = Date.now()
  setup.createErrors = await pool(apps, o.writeConcurrency, app => createPeerApp(x.c.kind, x.e.admin, k, app, ANALYSIS))
  const created = setup.created = apps.length - setup.createErrors.length
  if (setup.createErrors.length > 0) o.log(`${setup.createErrors.length} creates failed, e.g. ${setup.createErrors[0]}`)
  const failure = await waitInitialized(w, created, x.n, o.log)
  setup.initializeSeconds = (Date.now() - start) / 1000
  setup.initialized = w.count('Initialized')
  return failure
}

const apiSamples = (e: PeerEnv): ReturnType<typeof scrapeApiServer> => scrapeApiServer(e.state.apiPort, e.state.caPem, e.state.adminToken)

const span = (rs: readonly Release[], f: (r: Release) => number | undefined): LatencySummary =>
  summarize(rs.flatMap(r => { const v = f(r); return v === undefined ? [] : [Math.max(0, v)] }))

function driftOf(rs: readonly Release[], intervalMs: number): number[] {
  return rs.flatMap(r => {
    const times = r.progressingAt === undefined ? [] : [r.progressingAt, ...r.stepsAt]
    return times.slice(1).map((t, i) => t - times[i]! - intervalMs)
  })
}

/** The releases of a run, in order: the bad one last (see above). */
const RELEASES: readonly ReleaseKind[] = ['good', 'later', 'bad']

/** A new version for every app at once; waits until each release ended (Succeeded or Failed). */
async function wave(x: Ctx, kind: ReleaseKind, timeoutMs: number, idleApiPerSecond: number): Promise<Wave> {
  const { o, w, k, e, apps } = x
  const releases: Release[] = []
  const start = Date.now()
  const writeErrors = await pool(apps, o.writeConcurrency, async app => {
    const r = w.arm(keyOf(app))
    await release(k, app, kind)
    r.appliedAt = Date.now()
    releases.push(r)
  })
  const api0 = await apiSamples(e)
  const afterWrites = Date.now()
  const ended = (): number => releases.filter(r => r.succeededAt !== undefined || r.failedAt !== undefined).length
  const failure = await waitUntil({
    what: `waiting for the ${kind} releases to end`, log: o.log,
    done: () => ended() >= releases.length || e.controller.exited(), count: ended,
    progress: () => `ended ${ended()}/${releases.length} (${phaseText(w)})`,
    timeoutMs, stallMs: Math.max(120_000, timeoutMs / 2), everyMs: 10_000,
  })
  const end = Date.now()
  const seconds = (end - afterWrites) / 1000
  const rates = apiRequestRates(api0, await apiSamples(e), seconds)
  const perSecond = rates.reduce((t, a) => t + a.perSecond, 0)
  const steps = releases.reduce((t, r) => t + r.stepsAt.length, 0)
  const controller = usage(x.s.points, start, end)
  const perRelease = (count: number): number => releases.length > 0 ? count / releases.length : Number.NaN
  const statusWrites = rates.filter(a => a.resource === 'canaries/status').reduce((t, a) => t + a.perSecond * seconds, 0)
  // The tally gives rates over [start, end]; back to counts, per reason.
  const eventCounts = tallyEvents((await k.core.listEventForAllNamespaces()).items, start, end)
    .filter(e => e.component === x.c.kind).map(e => ({ reason: e.reason, count: e.perSecond * (end - start) / 1000 }))
  return {
    applied: releases.length, writeErrors,
    toProgressing: span(releases, r => r.progressingAt === undefined ? undefined : r.progressingAt - r.appliedAt),
    toFirstWeight: span(releases, r => r.firstWeightAt === undefined ? undefined : r.firstWeightAt - r.appliedAt),
    toSucceeded: span(releases, r => r.succeededAt === undefined ? undefined : r.succeededAt - r.appliedAt),
    progressingToSucceeded: span(releases, r => r.succeededAt === undefined || r.progressingAt === undefined ? undefined : r.succeededAt - r.progressingAt),
    toFailed: span(releases, r => r.failedAt === undefined ? undefined : r.failedAt - r.appliedAt),
    progressingToFailed: span(releases, r => r.failedAt === undefined || r.progressingAt === undefined ? undefined : r.failedAt - r.progressingAt),
    succeeded: releases.filter(r => r.succeededAt !== undefined).length,
    failed: releases.filter(r => r.failedAt !== undefined).length,
    drift: summarize(driftOf(releases, ANALYSIS.intervalSeconds * 1000)),
    steps,
    ...(controller && { controller }),
    api: { perSecond, perStepOverIdle: steps > 0 ? (perSecond - idleApiPerSecond) * seconds / steps : Number.NaN, top: rates.slice(0, 10) },
    perRelease: {
      statusWrites: perRelease(statusWrites),
      events: perRelease(eventCounts.reduce((t, e) => t + e.count, 0)),
      eventsByReason: Object.fromEntries(eventCounts.map(e => [e.reason, perRelease(e.count)])),
    },
    seconds: (end - start) / 1000,
    ...(failure !== undefined && { failure }),
  }
}

function waveLine(name: string, v: Wave): string {
  const s = (l: LatencySummary): string => l.count > 0 ? `${(l.p50Ms / 1000).toFixed(1)}/${(l.p99Ms / 1000).toFixed(1)} s` : '–'
  return `${name}: Progressing ${s(v.toProgressing)}, first weight ${s(v.toFirstWeight)}, Succeeded ${v.succeeded} ${s(v.toSucceeded)}, Failed ${v.failed} ${s(v.toFailed)}, ` +
    `drift ${s(v.drift)}, ${v.api.perSecond.toFixed(1)} API requests/s, ${v.api.perStepOverIdle.toFixed(1)} per step over idle`
}

/** N Initialized canaries and nothing else, after the last inits settle: the controller and the API server at rest. */
async function idle(x: Ctx): Promise<PeerResult['idle']> {
  await sleep(10_000)
  const start = Date.now()
  const api0 = await apiSamples(x.e)
  await sleep(x.o.idleSeconds * 1000)
  const seconds = (Date.now() - start) / 1000
  const apiPerSecond = apiRequestRates(api0, await apiSamples(x.e), seconds).reduce((t, a) => t + a.perSecond, 0)
  const u = usage(x.s.points, start, Date.now())
  return u && { ...u, apiPerSecond }
}

/** The run's releases in order, each kept in `waves`; where the run stopped. */
async function releaseAll(x: Ctx, waves: { [kind in ReleaseKind]?: Wave }, idleApi: number): Promise<{ reached: string; failure?: string | undefined }> {
  // The plan's Succeeded is 5 intervals after Progressing; a controller late by more than a few minutes is a finding, not a hang.
  const timeoutMs = (180 + x.n * 0.6) * 1000
  for (const kind of RELEASES) {
    const v = waves[kind] = await wave(x, kind, timeoutMs, idleApi)
    x.o.log(waveLine(kind, v))
    // Releases still running would be measured as part of the next wave: a wave that did not end stops the run.
    if (kind !== 'bad' && v.succeeded + v.failed < v.applied) return { reached: kind, failure: v.failure }
  }
  return { reached: 'measured', failure: waves.bad?.failure }
}

export async function runPeer(c: Contender, n: number, o: RunOptions): Promise<PeerResult> {
  const t0 = Date.now()
  const { namespaces, apps } = layout(n)
  const setup: PeerResult['setup'] = { clusterSeconds: 0, createErrors: [] }
  const partial: { idle?: PeerResult['idle'] } & { [kind in ReleaseKind]?: Wave } = {}
  const result = (reached: string, failure?: string): PeerResult => ({
    controller: c.name, args: c.args, n, reached, ...(failure !== undefined && { failure }), setup, ...partial, seconds: (Date.now() - t0) / 1000,
  })
  let sampler: Sampler | undefined
  let watch: ReleaseWatch | undefined
  try {
    const e = await startPeerEnv(c, { ...o, dir: o.clusterDir })
    setup.clusterSeconds = (Date.now() - t0) / 1000
    sampler = startSampler(e.controller.pid, e.controller.port)
    watch = await watchReleases(e.admin, c.kind === 'sluice' ? 'sluice.dev' : 'flagger.app', err => { o.log(`canary watch: ${String(err)}`) })
    const x: Ctx = { c, o, n, e, w: watch, s: sampler, k: clients(e.admin), apps }
    o.log(`creating ${n} apps for ${c.name}`)
    const initFailure = await createAll(x, namespaces, setup)
    o.log(`initialized ${setup.initialized}/${n} in ${setup.initializeSeconds?.toFixed(0)} s`)
    if (initFailure) return result('created', initFailure)
    partial.idle = await idle(x)
    const idleApi = partial.idle?.apiPerSecond ?? 0
    const end = await releaseAll(x, partial, idleApi)
    return result(end.reached, end.failure)
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err)
    o.log(`${c.name} N=${n} stopped: ${message}`)
    const done = RELEASES.findLast(kind => partial[kind] !== undefined)
    return result(done ?? (setup.initialized !== undefined ? 'initialized' : 'setup'), message)
  } finally {
    sampler?.stop()
    watch?.stop()
  }
}
