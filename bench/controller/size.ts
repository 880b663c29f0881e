// One size of the benchmark, end to end: environment, N apps created and Initialized, an idle baseline, a
// new revision for all but a few (the burst), then a measurement window while they analyse, with the
// held-back apps given new revisions one at a time. Whatever stage it stops at, it returns what it measured.
import type { LatencySummary } from '../ipc.ts'
import { summarize } from '../stats.ts'
import { clients, createApp, createNamespaces, keyOf, layout, newRevision, pool, waitAdmitted } from './apps.ts'
import type { AnalysisShape, AppRef, Clients } from './apps.ts'
import { startEnv } from './env.ts'
import { soak } from './soak.ts'
import type { Env, EnvOptions } from './env.ts'
import { coresBetween, cpuSnapshot, machineBusyUs } from './procs.ts'
import type { SizeResult, TimelinePoint } from './result.ts'
import { depthStats, startSampler, usage } from './sampler.ts'
import type { Sampler } from './sampler.ts'
import { apiRequestRates, histogramDelta, scrapeApiServer, scrapeTelemetry, tallyEvents, value } from './telemetry.ts'
import type { Sample } from './telemetry.ts'
import { watchCanaries } from './watch.ts'
import type { CanaryWatch, PhaseCounts } from './watch.ts'

export interface SizeOptions extends Omit<EnvOptions, 'dir'> {
  readonly n: number
  readonly clusterDir: string
  readonly analysis: AnalysisShape
  readonly windowSeconds: number
  readonly idleSeconds: number
  readonly probes: number
  readonly writeConcurrency: number
  /** Seconds of canaries cycling after the window, to watch memory for growth; 0 for none. */
  readonly soakSeconds: number
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] }
type Window = NonNullable<SizeResult['window']>
type Burst = NonNullable<SizeResult['burst']>

const MB = 1024 * 1024
const sleep = (ms: number): Promise<void> => new Promise(r => setTimeout(r, ms))

/** What every stage works with. */
interface Run {
  readonly o: SizeOptions
  readonly e: Env
  readonly s: Sampler
  readonly w: CanaryWatch
  readonly c: Clients
  readonly apps: readonly AppRef[]
  readonly namespaces: readonly string[]
  readonly setup: Mutable<SizeResult['setup']>
  stage: string
}

/** Polls `done` every second, printing progress every `everyMs`; gives up after `timeoutMs` or a stall of `stallMs`. */
export async function waitUntil(o: {
  what: string; done: () => boolean; progress: () => string; count: () => number; timeoutMs: number; stallMs: number; everyMs?: number; log: (m: string) => void
}): Promise<string | undefined> {
  const start = Date.now()
  let lastPrint = start
  let lastCount = o.count()
  let lastChange = start
  while (!o.done()) {
    await sleep(1000)
    const now = Date.now()
    if (o.count() !== lastCount) { lastCount = o.count(); lastChange = now }
    if (now - lastPrint >= (o.everyMs ?? 5000)) { o.log(o.progress()); lastPrint = now }
    if (now - start > o.timeoutMs) return `${o.what}: timed out after ${Math.round((now - start) / 1000)} s at ${o.progress()}`
    if (now - lastChange > o.stallMs) return `${o.what}: no progress for ${Math.round(o.stallMs / 1000)} s at ${o.progress()}`
  }
  return undefined
}

/**
 * Waits until `created` Canaries are Initialized; a failure text when they are not. A canary is Initialized once
 * its primary is ready, and the cluster's controller manager creates every primary's ReplicaSet and pod at its
 * own client rate (20 requests/s by default): at N=1,000 no canary turns for about two minutes after the
 * creates, whatever sluice does, so the stall allowed grows with N.
 */
export function waitInitialized(w: PhaseCounts, created: number, n: number, log: (m: string) => void): Promise<string | undefined> {
  return waitUntil({
    what: 'waiting for Initialized', log,
    done: () => w.count('Initialized') >= created,
    count: () => w.count('Initialized'),
    progress: () => `initialized ${w.count('Initialized')}/${created} (${phaseText(w)})`,
    timeoutMs: (120 + n * 1.5) * 1000, stallMs: Math.max(120_000, n * 240),
  })
}

export const phaseText = (w: PhaseCounts): string => [...w.phases().entries()].map(([p, k]) => `${p} ${k}`).join(', ')

/** Every 5 s: the controller's cores and RSS over the last 5 s, the machine's busy cores, the phases. */
function timeline(sampler: Sampler, watch: () => CanaryWatch | undefined, stage: () => string, t0: number): { points: TimelinePoint[]; stop(): void } {
  const points: TimelinePoint[] = []
  let busy = machineBusyUs()
  let at = Date.now()
  const timer = setInterval(() => {
    const now = Date.now()
    const b = machineBusyUs()
    const recent = sampler.points.filter(p => p.at >= now - 5500)
    const first = recent[0]
    const last = recent.at(-1)
    const w = watch()
    points.push({
      t: Math.round((now - t0) / 1000), stage: stage(),
      controllerCores: first && last && last.at > first.at ? (last.cpuMs - first.cpuMs) / (last.at - first.at) : Number.NaN,
      controllerRssMB: last ? last.rssBytes / MB : Number.NaN,
      machineBusyCores: b !== undefined && busy !== undefined ? (b - busy) / 1000 / (now - at) : undefined,
      phases: w ? Object.fromEntries([...w.phases().entries()].sort()) : {},
    })
    busy = b
    at = now
  }, 5000)
  return { points, stop: () => { clearInterval(timer) } }
}

/** What of the RSS is V8 heap in use, heap reserved, and memory outside the heap (buffers, TLS). */
function heapOf(t: readonly Sample[]): Window['heapAtEnd'] {
  return {
    usedMB: (value(t, 'nodejs_heap_size_used_bytes') ?? Number.NaN) / MB,
    totalMB: (value(t, 'nodejs_heap_size_total_bytes') ?? Number.NaN) / MB,
    externalMB: (value(t, 'nodejs_external_memory_bytes') ?? Number.NaN) / MB,
  }
}

// ---- the stages ------------------------------------------------------------------------------------

/** Creates the apps and waits for their Canaries to be Initialized; a failure text when they are not. */
async function createAndInitialize(r: Run): Promise<string | undefined> {
  const { o, w, c, apps, setup } = r
  r.stage = 'create'
  await createNamespaces(c, r.namespaces)
  await waitAdmitted(c, apps[0]!, o.analysis, 60_000)
  o.log(`creating ${o.n} apps (Ingress + annotated Deployment) in ${r.namespaces.length} namespace(s), ${o.writeConcurrency} at a time`)
  const start = Date.now()
  let lastPrint = start
  setup.createErrors = await pool(apps, o.writeConcurrency, app => createApp(c, app, o.analysis), done => {
    if (Date.now() - lastPrint < 5000) return
    lastPrint = Date.now()
    o.log(`created ${done}/${o.n}, initialized ${w.count('Initialized')}/${o.n}`)
  })
  setup.createSeconds = (Date.now() - start) / 1000
  const created = setup.created = o.n - setup.createErrors.length
  if (setup.createErrors.length > 0) o.log(`${setup.createErrors.length} creates failed, e.g. ${setup.createErrors[0]}`)
  r.stage = 'initialize'
  const failure = await waitInitialized(w, created, o.n, o.log)
  setup.initializeSeconds = (Date.now() - start) / 1000
  setup.initialized = w.count('Initialized')
  const during = usage(r.s.points, start, Date.now())
  if (during) setup.controllerDuringInit = during
  o.log(`initialized ${setup.initialized}/${o.n} in ${setup.initializeSeconds.toFixed(0)} s`)
  return failure
}

/** N Initialized canaries and nothing else: what they cost at rest. */
async function idleBaseline(r: Run): Promise<SizeResult['idle']> {
  r.stage = 'idle'
  // The controller's settle reconciles (0.5 s after acting) and the Events of the last inits pass first.
  await sleep(10_000)
  const start = Date.now()
  const before = await scrapeTelemetry(r.e.controller.telemetryPort)
  r.o.log(`idle baseline: ${r.o.idleSeconds} s with ${r.setup.initialized} Initialized canaries`)
  await sleep(r.o.idleSeconds * 1000)
  const after = await scrapeTelemetry(r.e.controller.telemetryPort)
  const u = usage(r.s.points, start, Date.now())
  return u && { ...u, reconcilesPerSecond: histogramDelta(before, after, 'sluice_reconcile_duration_seconds').count / u.seconds }
}

/** A new revision for every app of `list` at once; the first Progressing of each, from the write's answer and from its sending. */
async function burst(r: Run, list: readonly AppRef[]): Promise<{ burst: Burst; failure: string | undefined }> {
  const { o, w, c } = r
  r.stage = 'burst'
  const sent = new Map<string, number>()
  const answered = new Map<string, number>()
  const start = Date.now()
  const writeErrors = await pool(list, o.writeConcurrency, async app => {
    const key = keyOf(app)
    w.arm(key)
    sent.set(key, Date.now())
    await newRevision(c, app)
    answered.set(key, Date.now())
  })
  const writeSeconds = (Date.now() - start) / 1000
  const progressing = (): number => list.filter(a => w.progressingAt(keyOf(a)) !== undefined).length
  const failure = await waitUntil({
    what: 'waiting for Progressing after the burst', log: o.log,
    done: () => progressing() >= answered.size, count: progressing,
    progress: () => `progressing ${progressing()}/${answered.size}`,
    timeoutMs: (60 + o.n * 0.5) * 1000, stallMs: 60_000, everyMs: 2000,
  })
  const end = Date.now()
  const latencies = (from: Map<string, number>, clip: boolean): number[] => [...answered.keys()].flatMap(k => {
    const p = w.progressingAt(k)
    const f = from.get(k)
    return p === undefined || f === undefined ? [] : [clip ? Math.max(0, p - f) : p - f]
  })
  const during = usage(r.s.points, start, end)
  return {
    failure,
    burst: {
      applied: answered.size, writeErrors, writeSeconds, progressing: progressing(),
      ...(failure === undefined && { allProgressingSeconds: (end - start) / 1000 }),
      applyToProgressing: summarize(latencies(answered, true)),
      sendToProgressing: summarize(latencies(sent, false)),
      ...(during && { controllerDuringBurst: during }),
    },
  }
}

/** New revisions of the held-back apps, one at a time and evenly spread over the window. */
async function probeApplies(r: Run, probes: readonly AppRef[]): Promise<LatencySummary> {
  const gap = r.o.windowSeconds * 1000 / (probes.length + 1)
  const latencies: number[] = []
  const runs = probes.map(async (app, i) => {
    await sleep(gap * (i + 1))
    const key = keyOf(app)
    r.w.arm(key)
    await newRevision(r.c, app)
    const done = Date.now()
    const deadline = done + 60_000
    while (r.w.progressingAt(key) === undefined && Date.now() < deadline) await sleep(20)
    const p = r.w.progressingAt(key)
    if (p !== undefined) latencies.push(Math.max(0, p - done))
  })
  const failed = (await Promise.allSettled(runs)).filter(x => x.status === 'rejected').length
  if (failed > 0) r.o.log(`${failed} single applies failed`)
  return summarize(latencies)
}

/** The measurement window: N canaries analysing, sampled from /proc, the telemetry, the API server and the watch. */
async function measureWindow(r: Run, probes: readonly AppRef[]): Promise<Window> {
  const { o, e, s, w } = r
  r.stage = 'window'
  const start = Date.now()
  const end = start + o.windowSeconds * 1000
  const api = (): Promise<Sample[]> => scrapeApiServer(e.state.apiPort, e.state.caPem, e.state.adminToken)
  const [cpu0, busy0, tel0, api0] = [cpuSnapshot(e.pids), machineBusyUs(), await scrapeTelemetry(e.controller.telemetryPort), await api()]
  const stepsBefore = w.steps.length
  const holdsBefore = w.holds.length
  const rollbacks0 = w.rollbacks()
  const analysingAtStart = w.count('Progressing')
  o.log(`measuring for ${o.windowSeconds} s with ${analysingAtStart} canaries analysing`)
  const probed = probeApplies(r, probes)
  while (Date.now() < end) {
    await sleep(Math.min(15_000, end - Date.now()))
    if (e.controller.exited()) throw new Error(`the controller exited during the window; see ${e.controller.log}`)
    const u = usage(s.points, start, Date.now())
    o.log(`window ${Math.round((Date.now() - start) / 1000)}/${o.windowSeconds} s: ${w.steps.length - stepsBefore} steps, ` +
      `${w.count('Progressing')} analysing, controller ${u ? `${u.cpuCores.toFixed(2)} cores, ${u.rssEndMB.toFixed(0)} MB` : '–'}`)
  }
  const [tel1, api1, cpu1, busy1] = [await scrapeTelemetry(e.controller.telemetryPort), await api(), cpuSnapshot(e.pids), machineBusyUs()]
  const wallMs = Date.now() - start
  const steps = w.steps.slice(stepsBefore).filter(x => x.seenAt <= end)
  const holds: Record<string, number> = {}
  for (const h of w.holds.slice(holdsBefore).filter(x => x.seenAt <= end)) {
    const k = h.verdicts.length ? [...new Set(h.verdicts)].sort().join('+') : '(no record)'
    holds[k] = (holds[k] ?? 0) + 1
  }
  const byProcess = coresBetween(cpu0, cpu1, wallMs)
  const busyCores = busy0 !== undefined && busy1 !== undefined ? (busy1 - busy0) / 1000 / wallMs : undefined
  const ours = Object.values(byProcess).reduce((a, b) => a + b, 0)
  const reconcile = histogramDelta(tel0, tel1, 'sluice_reconcile_duration_seconds')
  return {
    seconds: wallMs / 1000,
    analysingAtStart,
    analysingAtEnd: w.count('Progressing'),
    controller: usage(s.points, start, start + wallMs),
    reconcile: {
      ...reconcile, perSecond: reconcile.count / (wallMs / 1000),
      errors: (value(tel1, 'sluice_reconcile_errors_total') ?? 0) - (value(tel0, 'sluice_reconcile_errors_total') ?? 0),
    },
    queueDepth: depthStats(s.depths, start, start + wallMs),
    queueWait: {
      urgent: histogramDelta(tel0, tel1, 'sluice_workqueue_wait_seconds', { lane: 'urgent' }),
      routine: histogramDelta(tel0, tel1, 'sluice_workqueue_wait_seconds', { lane: 'routine' }),
    },
    drift: {
      steps: steps.length,
      observed: summarize(steps.map(x => x.seenAt - x.plannedAt)),
      statusClock: summarize(steps.map(x => x.tickAt - x.plannedAt)),
      // The first ticks after the burst come due together; the second half shows the steady state.
      secondHalf: summarize(steps.filter(x => x.seenAt >= start + wallMs / 2).map(x => x.seenAt - x.plannedAt)),
      holds,
    },
    probes: await probed,
    rollbacks: w.rollbacks() - rollbacks0,
    machine: { busyCores, byProcess, otherCores: busyCores === undefined ? undefined : Math.max(0, busyCores - ours) },
    apiServer: apiRequestRates(api0, api1, wallMs / 1000).slice(0, 15),
    eventsCreated: tallyEvents((await r.c.core.listEventForAllNamespaces()).items, start, start + wallMs).slice(0, 10),
    heapAtEnd: heapOf(tel1),
  }
}

// ---- one size --------------------------------------------------------------------------------------

export async function runSize(o: SizeOptions): Promise<SizeResult> {
  const t0 = Date.now()
  const { namespaces, apps } = layout(o.n)
  const probes = apps.slice(apps.length - Math.min(o.probes, Math.floor(o.n / 10)))
  const burstApps = apps.slice(0, apps.length - probes.length)
  const setup: Mutable<SizeResult['setup']> = { clusterSeconds: 0, createErrors: [] }
  // What the stages measured, kept for a result that stops short.
  const partial: Mutable<Partial<SizeResult>> = {}
  let run: Run | undefined
  let tl: { points: TimelinePoint[]; stop(): void } | undefined
  let sampler: Sampler | undefined
  let watch: CanaryWatch | undefined
  const result = (reached: string, failure?: string): SizeResult => ({
    n: o.n, command: o.command, namespaces: namespaces.length, probes: probes.length, analysis: o.analysis, controllerArgs: o.controllerArgs,
    controllerBin: o.controllerBin ?? 'bin/sluice.ts', controllerNodeArgs: o.controllerNodeArgs,
    scrapeInterval: o.scrapeInterval, reached, ...(failure !== undefined && { failure }), setup, ...partial,
    timeline: tl?.points ?? [], seconds: (Date.now() - t0) / 1000,
  })
  try {
    const e = await startEnv({ ...o, dir: o.clusterDir })
    setup.clusterSeconds = (Date.now() - t0) / 1000
    sampler = startSampler(e.controller.pid, e.controller.telemetryPort)
    watch = await watchCanaries(e.admin, err => { o.log(`canary watch: ${String(err)}`) })
    const r: Run = run = { o, e, s: sampler, w: watch, c: clients(e.admin), apps, namespaces, setup, stage: 'starting' }
    tl = timeline(sampler, () => watch, () => r.stage, t0)

    const initFailure = await createAndInitialize(r)
    if (initFailure) return result('created', initFailure)
    partial.idle = await idleBaseline(r)
    o.log(`new revision for ${burstApps.length} apps at once (${o.writeConcurrency} writes at a time); ${probes.length} held back for single applies during the window`)
    const b = await burst(r, burstApps)
    partial.burst = b.burst
    o.log(`burst: ${b.burst.progressing}/${b.burst.applied} Progressing, apply → Progressing p50 ${b.burst.applyToProgressing.p50Ms.toFixed(0)} ms, p99 ${b.burst.applyToProgressing.p99Ms.toFixed(0)} ms`)
    if (b.burst.progressing === 0) return result('initialized', b.failure ?? 'no canary reached Progressing')
    partial.window = await measureWindow(r, probes)
    if (o.soakSeconds > 0) {
      r.stage = 'soak'
      partial.soak = await soak({
        seconds: o.soakSeconds, apps, clients: r.c, watch, sampler, telemetryPort: e.controller.telemetryPort,
        writeConcurrency: o.writeConcurrency, exited: () => e.controller.exited(), log: o.log,
      })
    }
    r.stage = 'done'
    return result('measured', b.failure)
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err)
    o.log(`size ${o.n} stopped: ${message}`)
    const reached = partial.burst ? 'progressing' : setup.initialized !== undefined ? 'initialized' : setup.created !== undefined ? 'created' : 'setup'
    return result(reached, message)
  } finally {
    if (run) run.stage = 'stopped'
    tl?.stop()
    sampler?.stop()
    watch?.stop()
  }
}
