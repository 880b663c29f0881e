// The load tester's HTTP API, Flagger's paths and answers: `POST /` runs a hook's command; the gates answer
// 200 "Approved" when open and 403 "Forbidden" when closed, and 202 to open or close one; /gate/approve is
// always 200 and /gate/halt always 403; /healthz and /metrics. Built by a function so that tests call
// app.inject() without a port.
import Fastify, { LogController } from 'fastify'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { Logger } from 'pino'
import type { BlockingAnswer, Jobs } from './jobs.ts'
import type { GateKind, LoadTesterMetrics } from './metrics.ts'
import { canaryKey, decodePayload, RUN_ENDED, type Payload } from './payload.ts'
import { planTask, type Task, type TaskPolicy } from './task.ts'
import { gateKey, type GateStore } from './gates.ts'

export interface LoadTesterServerOptions {
  readonly logger: Logger
  readonly jobs: Jobs
  readonly store: GateStore
  readonly policy: TaskPolicy
  readonly metrics: LoadTesterMetrics
}

const BODY_LIMIT = 1024 * 1024
// Longer than any hook timeout a Canary sets; a blocking command's own limit is --max-duration.
const KEEP_ALIVE_TIMEOUT_MS = 65_000

function text(reply: FastifyReply, code: number, body: string): FastifyReply {
  return reply.code(code).type('text/plain; charset=utf-8').send(body)
}

function bodyOf(req: FastifyRequest): string {
  return typeof req.body === 'string' ? req.body : ''
}

/** A request whose phase says its canary's run is over stops that canary's background jobs first. */
function noteRunEnd(o: LoadTesterServerOptions, req: FastifyRequest, p: Payload): void {
  if (!RUN_ENDED.has(p.phase)) return
  const stopped = o.jobs.stopCanary(canaryKey(p), 'run-ended')
  if (stopped > 0) req.log.info({ canary: canaryKey(p), phase: p.phase, stopped }, 'the canary\'s run is over: its background commands are stopped')
}

function blockingReply(reply: FastifyReply, task: Task, answer: Exclude<BlockingAnswer, { kind: 'busy' }>): FastifyReply {
  const { result, failure } = answer
  const dropped = result.droppedBytes > 0 ? `[… ${result.droppedBytes} bytes of output dropped …]\n` : ''
  if (failure === undefined) return text(reply, 200, task.returnOutput ? dropped + result.output : '')
  const output = result.output.trim() === '' ? '' : `:\n${dropped}${result.output}`
  return text(reply, 500, `command ${task.argv[0] ?? ''} ${failure}${output}`)
}

async function runTask(o: LoadTesterServerOptions, req: FastifyRequest, reply: FastifyReply, task: Task): Promise<FastifyReply> {
  if (!task.blocking) {
    const a = o.jobs.background(task)
    if (a.kind === 'busy') { o.metrics.refused('busy'); return text(reply, 429, a.message) }
    const verb = a.kind === 'started' ? 'started' : 'already running, not started again'
    return text(reply, 202, `${task.argv[0] ?? ''} ${verb} (job ${a.job.id}, pid ${a.job.pid ?? '?'})`)
  }
  // The hook's caller gave up (its timeout): the answer would go nowhere, so the command is stopped.
  const gone = new AbortController()
  const onClose = (): void => { if (!reply.raw.writableFinished) gone.abort() }
  reply.raw.once('close', onClose)
  const answer = await o.jobs.blocking(task, gone.signal)
  reply.raw.off('close', onClose)
  if (answer.kind === 'busy') { o.metrics.refused('busy'); return text(reply, 429, answer.message) }
  return blockingReply(reply, task, answer)
}

function taskRoute(o: LoadTesterServerOptions) {
  return async (req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
    const decoded = decodePayload(bodyOf(req))
    if (!decoded.ok) { o.metrics.refused('bad-payload'); return text(reply, 400, decoded.message) }
    noteRunEnd(o, req, decoded.payload)
    const planned = planTask(decoded.payload, o.policy)
    if (!planned.ok) {
      o.metrics.refused(planned.reason)
      req.log.warn({ canary: canaryKey(decoded.payload), reason: planned.reason, message: planned.message }, 'command refused')
      return text(reply, 400, planned.message)
    }
    return runTask(o, req, reply, planned.task)
  }
}

type GateAction = 'check' | 'open' | 'close'

function gateRoute(o: LoadTesterServerOptions, kind: GateKind, action: GateAction) {
  return async (req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
    const decoded = decodePayload(bodyOf(req))
    if (!decoded.ok) { o.metrics.refused('bad-payload'); return text(reply, 400, decoded.message) }
    const p = decoded.payload
    noteRunEnd(o, req, p)
    if (gateKey(kind, p) === undefined) return text(reply, 400, `${canaryKey(p)}: the name is too long for a gate key`)
    try {
      if (action === 'check') {
        const open = await o.store.isOpen(kind, p)
        o.metrics.gateChecked(kind, open)
        req.log.debug({ canary: canaryKey(p), gate: kind, open }, 'gate checked')
        return open ? text(reply, 200, 'Approved') : text(reply, 403, 'Forbidden')
      }
      await o.store.set(kind, p, action === 'open')
      o.metrics.gateChanged(kind, action === 'open')
      req.log.info({ canary: canaryKey(p), gate: kind, action }, `${kind} ${action === 'open' ? 'opened' : 'closed'}`)
      return text(reply, 202, `${kind} ${action === 'open' ? 'opened' : 'closed'} for ${canaryKey(p)}`)
    } catch (e) {
      // A gate that cannot be read is closed for the caller (the hook fails), and says why.
      const message = e instanceof Error ? e.message : String(e)
      req.log.error({ canary: canaryKey(p), gate: kind, action, err: message }, 'gate store failed')
      return text(reply, 500, `gate store: ${message}`)
    }
  }
}

/** Any content type is read as text, and the routes read it as JSON (see payload.ts). */
function readBodiesAsText(app: FastifyInstance): void {
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => { done(null, body) })
}

export function buildLoadTesterServer(o: LoadTesterServerOptions): FastifyInstance {
  const app = Fastify({
    loggerInstance: o.logger,
    bodyLimit: BODY_LIMIT,
    keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
    // Each route writes the lines worth having; fastify's per-request ones would repeat every gate check.
    logController: new LogController({ disableRequestLogging: true }),
  }) as unknown as FastifyInstance
  readBodiesAsText(app)
  app.post('/', taskRoute(o))
  for (const kind of ['gate', 'rollback'] as const) {
    for (const action of ['check', 'open', 'close'] as const) app.all(`/${kind}/${action}`, gateRoute(o, kind, action))
  }
  // Flagger's fixed answers, for a gate that should always pass or always hold.
  app.all('/gate/approve', (_req, reply) => text(reply, 200, 'OK'))
  app.all('/gate/halt', (_req, reply) => text(reply, 403, 'Forbidden'))
  app.get('/healthz', (_req, reply) => text(reply, 200, 'OK'))
  app.get('/metrics', async (_req, reply) => reply.type(o.metrics.registry.contentType).send(await o.metrics.registry.metrics()))
  return app
}
