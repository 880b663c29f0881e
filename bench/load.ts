// The load generator, as a child process of bench/webhook.ts (so that it never shares an event loop or a
// core's worth of JavaScript with the server): HTTPS keep-alive POSTs of the benchmark's AdmissionReview,
// each with a fresh uid, every answer checked (200, uid echoed, allowed, a patch and warnings).
// Commands arrive over IPC (see ipc.ts); the process exits on {type: 'stop'} or when the parent goes away.
import { randomUUID } from 'node:crypto'
import { Agent, request } from 'node:https'
import type { ClientRequest } from 'node:http'
import { MUTATE_DEPLOYMENTS_PATH } from '../src/admission/server.ts'
import { PLACEHOLDER_UID, updateReview } from './fixture.ts'
import type { ClosedLoop, LoadMessage, LoadResult, OpenLoop, ToLoad } from './ipc.ts'
import { summarize } from './stats.ts'

// The API server gives up on a webhook call after timeoutSeconds (sluice registers 5 s) and, with
// failurePolicy Fail, rejects the write: an answer later than this is counted as a timeout, not a latency.
const REQUEST_DEADLINE_MS = 5000
// An open loop whose backlog (scheduled, unanswered) exceeds this many seconds of requests is beyond
// capacity: it is stopped there, instead of queueing for tens of seconds.
const SATURATION_BACKLOG_SECONDS = 1

const port = Number(process.env.BENCH_PORT)
const ca = process.env.BENCH_CA_PEM
const send = (m: LoadMessage): void => { process.send?.(m) }

// Which review is sent: a new image (a new revision, the default) or the stored template re-applied.
const CHANGE = process.env.BENCH_REVIEW === 'same-template' ? 'same-template' : 'new-image'
const text = JSON.stringify(updateReview(CHANGE).review)
const at = text.indexOf(PLACEHOLDER_UID)
const prefix = Buffer.from(text.slice(0, at))
const suffix = Buffer.from(text.slice(at + PLACEHOLDER_UID.length))

type Outcome =
  | { readonly kind: 'ok' }
  | { readonly kind: 'error'; readonly reason: string }
  | { readonly kind: 'timeout' }
  | { readonly kind: 'abandoned' }

// The floor webhook answers the patch alone; sluice's answer to a new revision carries the plan warning too.
const WARNING_EXPECTED = process.env.BENCH_FLOOR !== '1' && CHANGE === 'new-image'

function check(uid: string, status: number | undefined, body: string): Outcome {
  if (status !== 200) return { kind: 'error', reason: `HTTP ${status}: ${body.slice(0, 200)}` }
  let review: { response?: { uid?: string; allowed?: boolean; patch?: string; warnings?: unknown[] } }
  try {
    review = JSON.parse(body) as typeof review
  } catch {
    return { kind: 'error', reason: 'answer is not JSON' }
  }
  const r = review.response
  if (r?.uid !== uid) return { kind: 'error', reason: 'uid not echoed' }
  if (r.allowed !== true) return { kind: 'error', reason: `denied: ${JSON.stringify(r).slice(0, 200)}` }
  if (!r.patch) return { kind: 'error', reason: 'no patch' }
  if (!r.warnings?.length && WARNING_EXPECTED) return { kind: 'error', reason: 'no plan warning' }
  return { kind: 'ok' }
}

// Sockets the generator opened: each is a TLS handshake the server paid for.
const seen = new WeakSet<object>()
let socketsOpened = 0

class Timeout extends Error {}
class Abandoned extends Error {}

/** One review, answered by `deadline` (a performance.now() time); resolves with the outcome, never rejects. */
function review(agent: Agent, deadline: number, active: Set<ClientRequest>): Promise<Outcome> {
  const uid = randomUUID()
  const body = Buffer.concat([prefix, Buffer.from(uid), suffix])
  return new Promise(resolveReview => {
    // Events arrive asynchronously, after timer and req below are set.
    const settle = (o: Outcome): void => {
      clearTimeout(timer)
      active.delete(req)
      resolveReview(o)
    }
    const req = request({
      host: '127.0.0.1', port, path: MUTATE_DEPLOYMENTS_PATH, method: 'POST', agent, ca,
      headers: { 'Content-Type': 'application/json', 'Content-Length': body.length, Accept: 'application/json' },
    }, res => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => settle(check(uid, res.statusCode, Buffer.concat(chunks).toString('utf8'))))
      res.on('error', err => settle({ kind: 'error', reason: `response: ${err.message}` }))
    })
    active.add(req)
    req.on('socket', socket => {
      if (!seen.has(socket)) { seen.add(socket); socketsOpened++ }
    })
    req.on('error', err => {
      if (err instanceof Timeout) settle({ kind: 'timeout' })
      else if (err instanceof Abandoned) settle({ kind: 'abandoned' })
      else settle({ kind: 'error', reason: `request: ${err.message}` })
    })
    const timer = setTimeout(() => req.destroy(new Timeout()), Math.max(0, deadline - performance.now()))
    req.end(body)
  })
}

class Tally {
  readonly latencies: number[] = []
  readonly service: number[] = []
  errors = 0
  timeouts = 0
  abandoned = 0
  readonly samples = new Set<string>()
  maxLag = 0

  record(outcome: Outcome, latencyMs: number, serviceMs?: number): void {
    switch (outcome.kind) {
      case 'ok':
        this.latencies.push(latencyMs)
        if (serviceMs !== undefined) this.service.push(serviceMs)
        return
      case 'timeout':
        this.timeouts++
        return
      case 'abandoned':
        this.abandoned++
        return
      case 'error':
        this.errors++
        if (this.samples.size < 5) this.samples.add(outcome.reason)
    }
  }
}

function newAgent(maxSockets: number): { agent: Agent; opened: () => number } {
  const agent = new Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets, scheduling: 'lifo' })
  const before = socketsOpened
  return { agent, opened: () => socketsOpened - before }
}

interface Measured {
  readonly sent: number
  readonly connections: number
  readonly tally: Tally
  readonly measuredMs: number
  readonly cpu: NodeJS.CpuUsage
  readonly opened: number
}

function result(kind: LoadResult['kind'], m: Measured, extra: Partial<LoadResult> = {}): LoadResult {
  const t = m.tally
  return {
    kind, sent: m.sent, connections: m.connections, completed: t.latencies.length,
    errors: t.errors, timeouts: t.timeouts, abandoned: t.abandoned, errorSamples: [...t.samples],
    measuredMs: m.measuredMs, achievedRate: t.latencies.length / (m.measuredMs / 1000), latency: summarize(t.latencies),
    socketsOpened: m.opened, clientCpuUs: m.cpu.user + m.cpu.system, ...extra,
  }
}

async function closedLoop(c: ClosedLoop): Promise<LoadResult> {
  const { agent, opened } = newAgent(c.connections)
  const active = new Set<ClientRequest>()
  const start = performance.now()
  const measureFrom = start + c.warmupMs
  const end = measureFrom + c.durationMs
  const tally = new Tally()
  let cpu = process.cpuUsage()
  let cpuTaken = false
  let sent = 0
  const worker = async (): Promise<void> => {
    for (;;) {
      const t0 = performance.now()
      if (t0 >= end) return
      sent++
      if (!cpuTaken && t0 >= measureFrom) { cpu = process.cpuUsage(); cpuTaken = true }
      const outcome = await review(agent, t0 + REQUEST_DEADLINE_MS, active)
      if (t0 >= measureFrom) tally.record(outcome, performance.now() - t0)
    }
  }
  await Promise.all(Array.from({ length: c.connections }, worker))
  const measuredMs = performance.now() - measureFrom
  const used = process.cpuUsage(cpu)
  agent.destroy()
  return result('closed', { sent, connections: c.connections, tally, measuredMs, cpu: used, opened: opened() })
}

interface OpenSample {
  readonly i: number
  readonly outcome: Outcome
  readonly latencyMs: number
  readonly serviceMs: number
  readonly lagMs: number
}

async function openLoop(o: OpenLoop): Promise<LoadResult> {
  const { agent, opened } = newAgent(o.maxConnections)
  const active = new Set<ClientRequest>()
  const interval = 1000 / o.rate
  const warmupCount = Math.round(o.warmupMs / interval)
  const total = warmupCount + Math.round(o.durationMs / interval)
  const backlogLimit = Math.max(100, o.rate * SATURATION_BACKLOG_SECONDS)
  const start = performance.now()
  const cpuAtStart = process.cpuUsage()
  let cpuAtWarm = cpuAtStart
  let next = 0
  let answered = 0
  let saturatedAfterMs: number | undefined
  const samples: OpenSample[] = []
  const inflight = new Set<Promise<void>>()
  const fire = (i: number): void => {
    const scheduled = start + i * interval
    const sent = performance.now()
    const p = review(agent, scheduled + REQUEST_DEADLINE_MS, active).then(outcome => {
      const done = performance.now()
      answered++
      samples.push({ i, outcome, latencyMs: done - scheduled, serviceMs: done - sent, lagMs: sent - scheduled })
      inflight.delete(p)
    })
    inflight.add(p)
  }
  await new Promise<void>(resolveSchedule => {
    const tick = (): void => {
      const now = performance.now()
      if (next - answered > backlogLimit) {
        // Beyond capacity: every later answer would only measure the queue. Drop the queue.
        saturatedAfterMs = now - start
        for (const req of active) req.destroy(new Abandoned())
        resolveSchedule()
        return
      }
      const due = Math.min(total, Math.floor((now - start) / interval) + 1)
      while (next < due) {
        if (next === warmupCount) cpuAtWarm = process.cpuUsage()
        fire(next++)
      }
      if (next < total) setTimeout(tick, Math.max(0, Math.min(1, start + next * interval - performance.now())))
      else resolveSchedule()
    }
    tick()
  })
  while (inflight.size > 0) await Promise.all([...inflight])
  const end = performance.now()
  agent.destroy()
  // A saturated phase is summarized from its start (warm-up included): there is no steady state to keep.
  const firstMeasured = saturatedAfterMs === undefined ? warmupCount : 0
  const used = process.cpuUsage(saturatedAfterMs === undefined ? cpuAtWarm : cpuAtStart)
  const tally = new Tally()
  for (const s of samples) {
    if (s.i < firstMeasured) continue
    tally.record(s.outcome, s.latencyMs, s.serviceMs)
    tally.maxLag = Math.max(tally.maxLag, s.lagMs)
  }
  const measureFrom = start + firstMeasured * interval
  const measuredMs = saturatedAfterMs !== undefined ? saturatedAfterMs : Math.max(end - measureFrom, o.durationMs)
  return result('open', { sent: next, connections: o.maxConnections, tally, measuredMs, cpu: used, opened: opened() }, {
    targetRate: o.rate, serviceLatency: summarize(tally.service), maxSendLagMs: tally.maxLag,
    ...(saturatedAfterMs !== undefined && { saturatedAfterMs }),
  })
}

process.on('disconnect', () => process.exit(0))
process.on('message', (m: ToLoad) => {
  if (m.type === 'stop') process.exit(0)
  const cpu0 = process.cpuUsage()
  const run = m.type === 'closed' ? closedLoop(m) : openLoop(m)
  run.then(r => {
    const cpu = process.cpuUsage(cpu0)
    send({ type: 'result', result: { ...r, clientCpuPhaseUs: cpu.user + cpu.system } })
  }, (e: unknown) => send({ type: 'failed', message: e instanceof Error ? e.message : String(e) }))
})
if (!Number.isInteger(port) || !ca || !process.send) {
  process.stderr.write('bench/load.ts runs as a child of bench/webhook.ts\n')
  process.exit(1)
}
send({ type: 'ready' })
