// The telemetry port: Prometheus metrics and the kubelet's probes, nothing else.
// Plain HTTP by default: it serves no secrets and accepts no writes, the kubelet probes over HTTP, and
// Prometheus scrapes pods by IP where a serving certificate could not name them anyway. A NetworkPolicy
// is the right guard; `tls` exists for clusters whose policy demands TLS on every port.
import Fastify, { LogController } from 'fastify'
import type { FastifyBaseLogger, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { AddressInfo } from 'node:net'
import { pino } from 'pino'
import type { Logger } from 'pino'
import type { Registry } from 'prom-client'

export interface TelemetryServerOptions {
  readonly host: string
  /** 0 picks a free port; the one bound is in the result. */
  readonly port: number
  readonly registry: Registry
  /** `/readyz`: 200 while true, else 503 with notReadyReason(). */
  readonly ready: () => boolean
  /** The short text a 503 from `/readyz` carries; "not ready" when absent. */
  readonly notReadyReason?: () => string
  /** `/healthz`: 503 when it returns false (the kubelet restarts the container); always healthy when absent. */
  readonly healthy?: () => boolean
  readonly logger?: Logger
  /** PEM certificate and key; plain HTTP when absent. */
  readonly tls?: { readonly cert: string; readonly key: string }
}

export interface TelemetryServer {
  readonly port: number
  close(): Promise<void>
}

// A scrape or a probe is small and quick: 30 s bounds a stalled client without cutting a slow scrape, and
// keep-alive outlasts a 60 s scrape interval so that Prometheus reuses its connection.
const REQUEST_TIMEOUT_MS = 30_000
const KEEP_ALIVE_TIMEOUT_MS = 65_000

// A probe that throws is a failed probe, with the error as its reason, never a 500 with a stack.
function probe(check: () => boolean, log: FastifyBaseLogger, what: string): { ok: boolean; reason?: string } {
  try {
    return { ok: check() }
  } catch (err) {
    log.warn({ err }, `${what} check threw`)
    return { ok: false, reason: err instanceof Error ? err.message : String(err) }
  }
}

function text(reply: FastifyReply, code: number, body: string): FastifyReply {
  return reply.code(code).type('text/plain; charset=utf-8').send(`${body}\n`)
}

function routes(opts: TelemetryServerOptions) {
  return (app: FastifyInstance, _opts: unknown, done: (err?: Error) => void): void => {
    app.get('/metrics', async (req: FastifyRequest, reply: FastifyReply) => {
      try {
        const body = await opts.registry.metrics()
        return reply.type(opts.registry.contentType).send(body)
      } catch (err) {
        req.log.error({ err }, 'collecting metrics failed')
        return text(reply, 500, 'collecting metrics failed')
      }
    })
    app.get('/healthz', (req, reply) => {
      const result = opts.healthy === undefined ? { ok: true } : probe(opts.healthy, req.log, 'health')
      return result.ok ? text(reply, 200, 'ok') : text(reply, 503, result.reason ?? 'unhealthy')
    })
    app.get('/readyz', (req, reply) => {
      const result = probe(opts.ready, req.log, 'readiness')
      if (result.ok) return text(reply, 200, 'ok')
      return text(reply, 503, result.reason ?? opts.notReadyReason?.() ?? 'not ready')
    })
    done()
  }
}

export async function startTelemetryServer(opts: TelemetryServerOptions): Promise<TelemetryServer> {
  const common = {
    loggerInstance: opts.logger ?? pino({ level: 'info' }),
    // Probes every few seconds and scrapes every interval would drown the controller's own lines.
    logController: new LogController({ disableRequestLogging: true }),
    requestTimeout: REQUEST_TIMEOUT_MS,
    keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
  }
  // Both server flavours get the same routes; fastify types them apart, the routes do not care.
  const app = (opts.tls === undefined
    ? Fastify(common)
    : Fastify({ ...common, https: { cert: opts.tls.cert, key: opts.tls.key, minVersion: 'TLSv1.2' } })) as unknown as FastifyInstance
  await app.register(routes(opts))
  try {
    // fastify logs the bound address itself; this names which of sluice's servers it is.
    await app.listen({ host: opts.host, port: opts.port, listenTextResolver: address => `telemetry server listening at ${address}` })
  } catch (err) {
    await app.close()
    throw err
  }
  const { port } = app.server.address() as AddressInfo
  return { port, async close() { await app.close() } }
}
