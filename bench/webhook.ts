// `make bench-webhook`: how fast the Deployment interception answers.
//
//  1. Where one review's time goes without HTTP (parse, decode, decide, serialize), in this process.
//  2. One webhook server process (bench/server.ts: the real server and handler, in-memory caches) on
//     127.0.0.1 over HTTPS, loaded with keep-alive POSTs of an UPDATE review of a ~33 KB Deployment from a
//     second process (bench/load.ts): closed loop for the maximum rate, then fixed open-loop rates; the target
//     rate split over two server processes at once, as the install's two replicas take it; then
//     rounds of three short closed loops each, one after the other: the new image again, the same template
//     re-applied (no revision to hash), and the do-nothing webhook (bench/floor.ts), for the CPU floor per
//     review, and that webhook alone at the target rate. Each round's ratios to the floor are taken within
//     the round, where the machine is the same for all three, and the report gives their median (a phase's
//     CPU per review moved by a quarter with its place in the run alone: the heap's growth, the other
//     phases' load).
//  3. The API server's view: a local cluster with sluice installed and its webhook started, Deployment
//     creates one at a time and in a burst, and the API server's webhook latency histogram before and
//     after each, beside the same writes through a bare webhook (bench/floor.ts) for comparison.
//
// Prints a report and writes it to .cache/bench/webhook.json. Timings are reported against the targets,
// never asserted; the run fails (exit 1) only when requests fail.
//
// Knobs (environment): BENCH_SKIP_CLUSTER=1, BENCH_SKIP_LOAD=1, BENCH_RATES=250,500,1000,2000, BENCH_RATE_SECONDS=8,
// BENCH_CLOSED_SECONDS=8, BENCH_ROUNDS=5, BENCH_ROUND_SECONDS=4, BENCH_CONNECTIONS=4, BENCH_WRITES=500, BENCH_WRITE_CONCURRENCY=25, BENCH_WEBHOOK_NODE_ARGS (the server's
// and the floor's Node flags; by default those of the webhook container in manifests/deployment.yaml).
import type { ChildProcess } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import { availableParallelism, cpus, loadavg } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { createCA, createLeaf } from '../src/certs/pki.ts'
import { manifestCommand, nodeFlagsOf } from '../test/helpers/image-command.ts'
import { envWords } from './args.ts'
import { measureBreakdown } from './breakdown.ts'
import { median } from './stats.ts'
import type { Breakdown } from './breakdown.ts'
import { next, startChild } from './children.ts'
import { rssBytes } from './controller/procs.ts'
import { clusterPhase } from './cluster.ts'
import type { ClusterResult } from './cluster.ts'
import { updateReview } from './fixture.ts'
import type { LoadMessage, LoadResult, ServerMessage, ToLoad } from './ipc.ts'
import { machineBusyUs } from './machine.ts'
import { formatReport } from './report.ts'
import type { BenchReport, LoadPhase, Target } from './report.ts'

const root = resolve(import.meta.dirname, '..')
const OUT = join(root, '.cache/bench/webhook.json')
const log = (m: string): void => { process.stderr.write(`bench: ${m}\n`) }
const NEW_PHASE = 'new image'
const FLOOR_PHASE = 'floor closed'
const SAME_PHASE = 'same template'
/** The rate the latency target is set at (p99 ≤ 5 ms). */
const TARGET_RATE = 1000
const REPLICAS_PHASE = 'two replicas, open'
const FLOOR_OPEN_PHASE = `floor open ${TARGET_RATE}/s`

function envNumber(name: string, fallback: number): number {
  const v = process.env[name]
  if (v === undefined || v === '') return fallback
  const n = Number(v)
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name}: "${v}" is not a positive number`)
  return n
}

const settings = {
  rates: (process.env.BENCH_RATES ?? '250,500,1000,2000').split(',').map(Number).filter(n => n > 0),
  rateSeconds: envNumber('BENCH_RATE_SECONDS', 8),
  closedSeconds: envNumber('BENCH_CLOSED_SECONDS', 8),
  rounds: envNumber('BENCH_ROUNDS', 5),
  roundSeconds: envNumber('BENCH_ROUND_SECONDS', 4),
  connections: envNumber('BENCH_CONNECTIONS', 4),
  writes: envNumber('BENCH_WRITES', 500),
  writeConcurrency: envNumber('BENCH_WRITE_CONCURRENCY', 25),
  skipCluster: process.env.BENCH_SKIP_CLUSTER === '1',
  skipLoad: process.env.BENCH_SKIP_LOAD === '1',
  // The webhook's Node flags as the manifests run it, for the server and the floor alike.
  nodeFlags: process.env.BENCH_WEBHOOK_NODE_ARGS === undefined ? nodeFlagsOf('webhook', manifestCommand('webhook')) : envWords('BENCH_WEBHOOK_NODE_ARGS'),
}

// ---- cleanup, on every exit path -----------------------------------------------------------------

const cleanups: { what: string; fn: () => Promise<void> }[] = []
let cleaning: Promise<void> | undefined

function onCleanup(what: string, fn: () => Promise<void>): void {
  cleanups.push({ what, fn })
}

/** Runs the registered steps once, newest first; a failing step does not stop the others. */
function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    for (const { what, fn } of cleanups.reverse()) {
      try {
        await fn()
      } catch (e) {
        log(`cleanup of ${what} failed: ${e instanceof Error ? e.message : String(e)}`)
      }
    }
  })()
  return cleaning
}

for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.once(sig, () => {
    log(`${sig}: stopping`)
    void cleanup().finally(() => process.exit(130))
  })
}

// ---- the server under test and the load generator --------------------------------------------

async function serverCpu(server: ChildProcess): Promise<{ usage: NodeJS.CpuUsage; at: number }> {
  const answer = next<Extract<ServerMessage, { type: 'cpu' }>>(server, ['cpu'])
  server.send({ type: 'cpu' })
  const m = await answer
  return { usage: m.usage, at: m.at }
}

const mb = (bytes: number | undefined): number | undefined => bytes === undefined ? undefined : bytes / 1024 / 1024

async function runLoad(load: ChildProcess, server: ChildProcess, command: Exclude<ToLoad, { type: 'stop' }>, name: string): Promise<LoadPhase> {
  const cpu0 = await serverCpu(server)
  const busy0 = machineBusyUs()
  const answer = next<LoadMessage>(load, ['result', 'failed'])
  load.send(command)
  const m = await answer
  const busy1 = machineBusyUs()
  const cpu1 = await serverCpu(server)
  if (m.type === 'failed') throw new Error(`load phase ${name}: ${m.message}`)
  if (m.type !== 'result') throw new Error(`load phase ${name}: unexpected ${m.type}`)
  const r: LoadResult = m.result
  const cpuUs = cpu1.usage.user - cpu0.usage.user + cpu1.usage.system - cpu0.usage.system
  const wallMs = cpu1.at - cpu0.at
  return {
    name, ...r, serverRssMB: mb(rssBytes(server.pid)),
    serverCpuPercent: cpuUs / 1000 / wallMs * 100,
    serverCpuUsPerReview: cpuUs / r.sent,
    reviewsPerServerCpuSecond: r.sent / (cpuUs / 1e6),
    clientCpuPercent: r.clientCpuUs / 1000 / r.measuredMs * 100,
    otherCpuCores: busy0 === undefined || busy1 === undefined ? undefined
      : Math.max(0, (busy1 - busy0 - cpuUs - (r.clientCpuPhaseUs ?? r.clientCpuUs)) / 1000 / wallMs),
  }
}

// ---- the HTTPS load ------------------------------------------------------------------------------

interface Served { readonly server: ChildProcess; readonly load: ChildProcess }

/** A load generator sending one kind of review to the server on `port`. */
async function startLoad(port: number, caPem: string, env: Record<string, string>): Promise<ChildProcess> {
  const load = startChild('load.ts', { BENCH_PORT: String(port), BENCH_CA_PEM: caPem, ...env }, onCleanup)
  await next<LoadMessage>(load, ['ready'])
  return load
}

/** Starts one server child (bench/server.ts or bench/floor.ts) and a load generator pointed at it. */
async function serve(file: 'server.ts' | 'floor.ts', leaf: { certPem: string; keyPem: string }, caPem: string, env: Record<string, string> = {}): Promise<Served & { port: number }> {
  const server = startChild(file, { BENCH_CERT_PEM: leaf.certPem, BENCH_KEY_PEM: leaf.keyPem, ...env }, onCleanup, settings.nodeFlags)
  const { port } = await next<Extract<ServerMessage, { type: 'listening' }>>(server, ['listening'])
  log(`${file} on https://127.0.0.1:${port} (pid ${server.pid}${settings.nodeFlags.length > 0 ? `, node ${settings.nodeFlags.join(' ')}` : ''})`)
  return { server, load: await startLoad(port, caPem, { BENCH_FLOOR: file === 'floor.ts' ? '1' : '0' }), port }
}

async function closedLoop({ server, load }: Served, connections: number, ms: number, name: string): Promise<LoadPhase> {
  return runLoad(load, server, { type: 'closed', connections, warmupMs: 0, durationMs: ms }, name)
}

/** An open loop at `rate` after a pause, so that a saturated phase's leftovers never run into this one. */
async function openLoop({ server, load }: Served, rate: number, name: string): Promise<LoadPhase> {
  await new Promise(r => setTimeout(r, 500))
  return runLoad(load, server, { type: 'open', rate, warmupMs: 1000, durationMs: settings.rateSeconds * 1000, maxConnections: 64 }, name)
}

async function loadPhases(): Promise<LoadPhase[]> {
  log('certificates for the server under test')
  const ca = createCA('sluice-bench-ca', 3600)
  const leaf = createLeaf(ca, { commonName: '127.0.0.1', dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'], usage: 'server', lifetimeSeconds: 3600 })
  mkdirSync(dirname(OUT), { recursive: true })
  const sluice = await serve('server.ts', leaf, ca.certPem, { BENCH_SERVER_LOG: join(dirname(OUT), 'server.log') })

  const phases: LoadPhase[] = []
  const c = settings.connections
  log(`warm-up: closed loop, ${c} connections, 3 s`)
  await closedLoop(sluice, c, 3000, 'warm-up')
  log('latency floor: closed loop, 1 connection, 3 s')
  phases.push(await closedLoop(sluice, 1, 3000, 'closed ×1'))
  log(`max throughput: closed loop, ${c} connections, ${settings.closedSeconds} s`)
  phases.push(await closedLoop(sluice, c, settings.closedSeconds * 1000, `closed ×${c}`))
  for (const rate of settings.rates) {
    log(`open loop: ${rate} reviews/s, 1 s warm-up + ${settings.rateSeconds} s`)
    phases.push(await openLoop(sluice, rate, `open ${rate}/s`))
  }
  // The install runs two webhook replicas behind one Service: the target rate split over two server processes,
  // each with its own load generator, at once.
  const second = await serve('server.ts', leaf, ca.certPem, { BENCH_SERVER_LOG: join(dirname(OUT), 'server-2.log') })
  log(`second replica: warm-up, closed loop, ${c} connections, 3 s`)
  await closedLoop(second, c, 3000, 'second replica warm-up')
  const half = TARGET_RATE / 2
  log(`the install's two replicas: ${half} reviews/s each at once, 1 s warm-up + ${settings.rateSeconds} s`)
  phases.push(...await Promise.all([sluice, second].map((replica, i) => openLoop(replica, half, `${REPLICAS_PHASE} ${half}/s #${i + 1}`))))
  // The common write of a GitOps re-sync: the template as stored, so no revision to hash.
  const same = { server: sluice.server, load: await startLoad(sluice.port, ca.certPem, { BENCH_REVIEW: 'same-template' }) }
  log(`same template re-applied: warm-up, closed loop, ${c} connections, 2 s`)
  await closedLoop(same, c, 2000, 'same-template warm-up')
  // The do-nothing webhook under the same closed loop: its CPU per review is the floor sluice is measured against.
  const floor = await serve('floor.ts', leaf, ca.certPem)
  log(`floor webhook: warm-up, closed loop, ${c} connections, 3 s`)
  await closedLoop(floor, c, 3000, 'floor warm-up')
  // The do-nothing webhook at the target rate on one process: what this machine allows any webhook there.
  log(`floor webhook: open loop, ${TARGET_RATE} reviews/s, 1 s warm-up + ${settings.rateSeconds} s`)
  phases.push(await openLoop(floor, TARGET_RATE, FLOOR_OPEN_PHASE))
  const ms = settings.roundSeconds * 1000
  for (let round = 1; round <= settings.rounds; round++) {
    log(`round ${round} of ${settings.rounds}: a new image, the same template, the floor; closed loop, ${c} connections, ${settings.roundSeconds} s each`)
    phases.push(await closedLoop(sluice, c, ms, `${NEW_PHASE} ×${c} #${round}`))
    phases.push(await closedLoop(same, c, ms, `${SAME_PHASE} ×${c} #${round}`))
    phases.push(await closedLoop(floor, c, ms, `${FLOOR_PHASE} ×${c} #${round}`))
  }
  return phases
}

// ---- targets -------------------------------------------------------------------------------------

/** Each round's phase named `name` beside the floor of the same round; rounds missing either are left out. */
function rounds(phases: readonly LoadPhase[], name: string): { phase: LoadPhase; floor: LoadPhase }[] {
  const round = (p: LoadPhase): string => p.name.slice(p.name.lastIndexOf('#'))
  return phases.filter(p => p.name.startsWith(name)).flatMap(phase => {
    const floor = phases.find(f => f.name.startsWith(FLOOR_PHASE) && round(f) === round(phase))
    return floor ? [{ phase, floor }] : []
  })
}

function floorTarget(phases: readonly LoadPhase[], name: string, what: string): Target | undefined {
  const pairs = rounds(phases, name)
  if (pairs.length === 0) return undefined
  const ratios = pairs.map(({ phase, floor }) => phase.serverCpuUsPerReview / floor.serverCpuUsPerReview)
  const ratio = median(ratios)
  const us = median(pairs.map(p => p.phase.serverCpuUsPerReview))
  const floorUs = median(pairs.map(p => p.floor.serverCpuUsPerReview))
  return {
    name: `CPU per review against the floor (${what})`, goal: '≤ 1.5×',
    reached: `${ratio.toFixed(2)}×, median of ${ratios.length} rounds (${ratios.map(r => r.toFixed(2)).join(', ')}); ${Math.round(us)} µs against ${Math.round(floorUs)} µs`,
    met: ratio <= 1.5,
  }
}

// What the do-nothing webhook answers per CPU-second: the most any webhook parsing this review can do here.
function floorPerSecond(phases: readonly LoadPhase[]): string {
  const floors = phases.filter(p => p.name.startsWith(FLOOR_PHASE))
  return floors.length === 0 ? '' : `; the floor answers ${Math.round(median(floors.map(f => f.reviewsPerServerCpuSecond)))}`
}

/** An open loop's p99, or that it saturated. */
function p99Text(p: LoadPhase): string {
  return p.saturatedAfterMs !== undefined ? `saturated (${Math.round(p.achievedRate)}/s answered, backlog growing)` : `${p.latency.p99Ms.toFixed(2)} ms`
}

const withinP99 = (p: LoadPhase): boolean => p.saturatedAfterMs === undefined && p.timeouts === 0 && p.latency.p99Ms <= 5

function targets(closed: LoadPhase | undefined, phases: readonly LoadPhase[], cluster: ClusterResult | undefined): Target[] {
  const at1000 = phases.find(p => p.name === `open ${TARGET_RATE}/s`)
  const floorAt1000 = phases.find(p => p.name === FLOOR_OPEN_PHASE)
  const replicas = phases.filter(p => p.name.startsWith(REPLICAS_PHASE))
  const out: Target[] = []
  for (const [name, what] of [[NEW_PHASE, 'a new image'], [SAME_PHASE, 'the same template']] as const) {
    const target = floorTarget(phases, name, what)
    if (target) out.push(target)
  }

  if (closed) {
    out.push({
      name: 'reviews/s on one core', goal: '≥ 3000',
      reached: `${Math.round(closed.reviewsPerServerCpuSecond)} per server CPU-second (${Math.round(closed.achievedRate)}/s achieved, server at ${Math.round(closed.serverCpuPercent)}% CPU)${floorPerSecond(phases)}`,
      met: closed.reviewsPerServerCpuSecond >= 3000,
    })
  }
  if (at1000) {
    out.push({
      name: `p99 at ${TARGET_RATE} reviews/s, one process`, goal: '≤ 5 ms',
      reached: `${p99Text(at1000)}${floorAt1000 ? `; the do-nothing webhook: ${p99Text(floorAt1000)}` : ''}`,
      met: withinP99(at1000),
    })
  }
  if (replicas.length === 2) {
    // No review is in both loops, so the union's p99 is at most the larger of the two.
    out.push({
      name: `p99 at ${TARGET_RATE} reviews/s, the install's two replicas`, goal: '≤ 5 ms',
      reached: `${replicas.map(p99Text).join(' and ')} (the whole at most the larger; machine ${replicas.map(p => p.otherCpuCores === undefined ? '–' : (p.otherCpuCores + (p.serverCpuPercent + p.clientCpuPercent) / 100).toFixed(2)).join(' / ')} cores busy)`,
      met: replicas.every(withinP99),
    })
  }
  if (cluster) {
    const p99 = cluster.sluice.burst.apiServerObserved.p99Ms
    out.push({ name: 'API-server-observed p99', goal: '≤ 25 ms', reached: `${p99.toFixed(1)} ms (bucket resolution)`, met: p99 <= 25 })
  }
  return out
}

function requestErrors(phases: readonly LoadPhase[], cluster: ClusterResult | undefined): string[] {
  const out = phases.filter(p => p.errors > 0).map(p => `${p.name}: ${p.errors} failed requests (${p.errorSamples.join('; ')})`)
  if (cluster && cluster.createErrors > 0) out.push(`cluster: ${cluster.createErrors} creates failed (${cluster.errorSamples.join('; ')})`)
  if (cluster && cluster.webhookRejections > 0) out.push(`cluster: the API server counted ${cluster.webhookRejections} rejections of sluice's webhook (errors or timeouts)`)
  return out
}

async function main(): Promise<number> {
  const started = performance.now()
  const loadAtStart = loadavg()[0] ?? 0
  const sizes = updateReview()
  log(`review: UPDATE of a ${(sizes.objectBytes / 1024).toFixed(1)} KiB Deployment, ${(sizes.reviewBytes / 1024).toFixed(1)} KiB with oldObject`)
  log('handler breakdown (no HTTP)')
  const breakdown: Breakdown = measureBreakdown()
  let phases: LoadPhase[] = []
  let cluster: ClusterResult | undefined
  let failure: string | undefined
  try {
    if (!settings.skipLoad) phases = await loadPhases()
    await cleanup()
    cleanups.length = 0
    cleaning = undefined
    if (!settings.skipCluster) {
      cluster = await clusterPhase({
        dir: join(root, '.cache/bench-cluster'), writes: settings.writes, concurrency: settings.writeConcurrency,
        warmupWrites: 100, sequentialWrites: 50, log, onCleanup,
      })
    }
  } catch (e) {
    failure = e instanceof Error ? e.message : String(e)
  } finally {
    log('stopping what the benchmark started')
    await cleanup()
  }
  const closed = phases.find(p => p.name === `closed ×${settings.connections}`)
  const report: BenchReport = {
    when: new Date().toISOString(),
    machine: { node: [process.version, ...settings.nodeFlags].join(' '), cpus: availableParallelism(), cpuModel: cpus()[0]?.model ?? '', loadavg1mAtStart: loadAtStart, loadavg1mAtEnd: loadavg()[0] ?? 0 },
    review: { operation: 'UPDATE', objectBytes: sizes.objectBytes, reviewBytes: sizes.reviewBytes, answerBytes: breakdown.answerBytes },
    breakdown,
    load: phases,
    ...(closed && { throughputPhase: closed.name }),
    cluster: cluster ?? (settings.skipCluster ? 'skipped (BENCH_SKIP_CLUSTER=1)' : 'not run'),
    targets: targets(closed, phases, cluster),
    errors: [...requestErrors(phases, cluster), ...(failure ? [failure] : [])],
    runtimeSeconds: (performance.now() - started) / 1000,
  }
  mkdirSync(dirname(OUT), { recursive: true })
  writeFileSync(OUT, `${JSON.stringify(report, null, 2)}\n`)
  process.stdout.write(formatReport(report))
  process.stdout.write(`\nwritten to ${OUT}\n`)
  return report.errors.length > 0 ? 1 : 0
}

main().then(code => { process.exitCode = code }, (e: unknown) => {
  log(e instanceof Error ? e.stack ?? e.message : String(e))
  void cleanup().finally(() => { process.exitCode = 1 })
})
