// The HTTPS admission server: decodes reviews, runs the route's handler, answers with a review that
// echoes the uid. Built by a function so that tests call app.inject() without a port.
import Fastify, { LogController } from 'fastify'
import type { FastifyBaseLogger, FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { STATUS_CODES } from 'node:http'
import type { Server as HttpsServer } from 'node:https'
import { X509Certificate } from 'node:crypto'
import { createSecureContext } from 'node:tls'
import type { SecureContextOptions } from 'node:tls'
import { pino } from 'pino'
import type { Logger } from 'pino'
import type { KeyPairPem } from '../certs/pki.ts'
import { runHandler } from './handle.ts'
import type { AdmissionHandler, AdmissionRoute, Outcome } from './handle.ts'
import { noMetrics } from './admission-metrics.ts'
import type { AdmissionMetrics, ReviewResult } from './admission-metrics.ts'
import { allow, decodeAdmissionReview, toAdmissionReview } from './review.ts'
import type { AdmissionRequest } from './review.ts'

export const MUTATE_DEPLOYMENTS_PATH = '/mutate/deployments'
export const VALIDATE_GUARD_PATH = '/validate/guard'
export const VALIDATE_RESOURCES_PATH = '/validate/resources'

// The API server accepts 3 MiB objects, and an UPDATE review carries object and oldObject.
export const DEFAULT_BODY_LIMIT = 8 * 1024 * 1024
// The API server's webhook client drops idle connections after 90 s; staying open a little longer
// means the client always closes first, so it never writes into a socket the server just closed.
export const DEFAULT_KEEP_ALIVE_TIMEOUT_MS = 95_000
// A webhook call never outlives timeoutSeconds (at most 30 s); this bounds slow or stalled clients.
const REQUEST_TIMEOUT_MS = 30_000
const MIN_TLS_VERSION = 'TLSv1.2'

export interface AdmissionServerOptions {
  /** The serving certificate at start; later ones arrive through reloadCertificate. */
  readonly tls: KeyPairPem
  readonly logger?: Logger
  /** `POST /mutate/deployments`, for apps/v1 Deployments; admits unchanged when absent. */
  readonly mutateDeployments?: AdmissionHandler
  /** `POST /validate/guard`, for any kind; admits when absent. */
  readonly validateGuard?: AdmissionHandler
  /** More webhook endpoints. */
  readonly routes?: readonly AdmissionRoute[]
  readonly bodyLimit?: number
  readonly keepAliveTimeoutMs?: number
  readonly metrics?: AdmissionMetrics
}

export interface AdmissionControls {
  /** New handshakes get the new certificate; open connections keep theirs. Throws, keeping the old one, on a bad pair. */
  reloadCertificate(certPem: string, keyPem: string): void
  /** /readyz answers 200 only once the informer caches the handlers read are synced. */
  setCachesSynced(synced: boolean): void
  /**
   * Sends each review `rounds` times through its route in process (no socket), outside the metrics and the log, so that
   * V8 has compiled the request path before the first real review; what the answers were, by result.
   */
  warmUp(reviews: readonly WarmUpReview[], rounds: number): Promise<WarmUpResult>
}

/** A review the server decides before it says ready (warm-up.ts has the samples). */
export interface WarmUpReview {
  readonly path: string
  /** The AdmissionReview as the API server sends it (JSON text). */
  readonly body: string
}

export interface WarmUpResult {
  readonly reviews: number
  readonly ms: number
  /** Answers by kind: allowed, patched, denied, or `HTTP <code>`. */
  readonly results: Readonly<Record<string, number>>
}

export type AdmissionServer = FastifyInstance<HttpsServer> & AdmissionControls

function secureContextOptions(certPem: string, keyPem: string): SecureContextOptions {
  return { cert: certPem, key: keyPem, minVersion: MIN_TLS_VERSION }
}

function certificateSummary(certPem: string): { fingerprint256: string; validTo: string } {
  const cert = new X509Certificate(certPem)
  return { fingerprint256: cert.fingerprint256, validTo: cert.validTo }
}

function standardRoutes(opts: AdmissionServerOptions): AdmissionRoute[] {
  return [
    {
      path: MUTATE_DEPLOYMENTS_PATH, type: 'mutating',
      accepts: [{ group: 'apps', kind: 'Deployment' }],
      handler: opts.mutateDeployments ?? (() => allow()),
    },
    { path: VALIDATE_GUARD_PATH, type: 'validating', handler: opts.validateGuard ?? (() => allow()) },
    ...(opts.routes ?? []),
  ]
}

function resultOf(outcome: Outcome): ReviewResult {
  if (outcome.kind !== 'decided') return outcome.kind
  if (!outcome.verdict.allowed) return 'denied'
  return outcome.verdict.patch === undefined ? 'allowed' : 'patched'
}

// Identifies the request in logs without any of the object's contents.
function requestFields(path: string, r: AdmissionRequest): Record<string, unknown> {
  return {
    path, uid: r.uid, operation: r.operation, kind: `${r.kind.group}/${r.kind.version}/${r.kind.kind}`,
    namespace: r.namespace, name: r.name, user: r.userInfo.username, dryRun: r.dryRun,
  }
}

function logOutcome(log: FastifyBaseLogger, fields: Record<string, unknown>, outcome: Outcome): void {
  const result = resultOf(outcome)
  if (outcome.kind === 'failed') {
    log.error({ ...fields, result, err: outcome.error }, 'admission handler failed; the request is denied')
  } else if (result === 'denied') {
    log.info({ ...fields, result, message: outcome.verdict.status?.message }, 'admission denied')
  } else {
    log.debug({ ...fields, result, warnings: outcome.verdict.warnings?.length ?? 0 }, 'admission decided')
  }
}

function badRequest(reply: FastifyReply, message: string): FastifyReply {
  return reply.code(400).send({ statusCode: 400, error: 'Bad Request', message })
}

// While the server warms up, its sample reviews are neither counted nor logged: a cluster policy may deny them.
function registerAdmissionRoute(app: FastifyInstance<HttpsServer>, route: AdmissionRoute, metrics: AdmissionMetrics, warming: () => boolean): void {
  app.post(route.path, async (req: FastifyRequest, reply: FastifyReply) => {
    const started = performance.now()
    const decoded = decodeAdmissionReview(typeof req.body === 'string' ? req.body : '')
    if (!decoded.ok) {
      metrics.observe(route.path, 'invalid', (performance.now() - started) / 1000)
      req.log.warn({ path: route.path, reason: decoded.reason }, 'malformed AdmissionReview')
      return badRequest(reply, decoded.reason)
    }
    const outcome = await runHandler(route, decoded.request)
    if (!warming()) {
      metrics.observe(route.path, resultOf(outcome), (performance.now() - started) / 1000)
      logOutcome(req.log, requestFields(route.path, decoded.request), outcome)
    }
    return toAdmissionReview(decoded.request.uid, outcome.verdict)
  })
}

function admissionRoutes(routes: readonly AdmissionRoute[], metrics: AdmissionMetrics, warming: () => boolean) {
  return (app: FastifyInstance<HttpsServer>, _opts: unknown, done: (err?: Error) => void): void => {
    // The raw text goes to decodeAdmissionReview: fastify's JSON parser would refuse "__proto__" keys,
    // which are legal in Kubernetes objects (a ConfigMap data key, say), with a 400 the user cannot act on.
    app.removeContentTypeParser('application/json')
    app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => done(null, body))
    for (const route of routes) registerAdmissionRoute(app, route, metrics, warming)
    done()
  }
}

// Client errors keep fastify's message (413 body too large, 415 content type); anything else is
// logged and answered without details, never with a stack.
function handleError(err: FastifyError, req: FastifyRequest, reply: FastifyReply): FastifyReply {
  const code = typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500
  if (code >= 500) req.log.error({ err, url: req.url }, 'request failed')
  else req.log.warn({ url: req.url, code, reason: err.message }, 'request refused')
  const message = code >= 500 ? 'internal error' : err.message
  return reply.code(code).send({ statusCode: code, error: STATUS_CODES[code] ?? 'Error', message })
}

export function buildAdmissionServer(opts: AdmissionServerOptions): AdmissionServer {
  const log: FastifyBaseLogger = opts.logger ?? pino({ level: 'info' })
  const app = Fastify({
    https: secureContextOptions(opts.tls.certPem, opts.tls.keyPem),
    bodyLimit: opts.bodyLimit ?? DEFAULT_BODY_LIMIT,
    keepAliveTimeout: opts.keepAliveTimeoutMs ?? DEFAULT_KEEP_ALIVE_TIMEOUT_MS,
    requestTimeout: REQUEST_TIMEOUT_MS,
    loggerInstance: log,
    // One line per decision is written by the routes; fastify's per-request lines would double it.
    logController: new LogController({ disableRequestLogging: true }),
  })
  let cachesSynced = false
  let warming = false

  app.setErrorHandler(handleError)
  app.get('/healthz', (_req, reply) => reply.send({ status: 'ok' }))
  app.get('/readyz', (_req, reply) => cachesSynced
    ? reply.send({ status: 'ready' })
    : reply.code(503).send({ status: 'not ready', reason: 'informer caches are not synced' }))
  void app.register(admissionRoutes(standardRoutes(opts), opts.metrics ?? noMetrics, () => warming))

  const controls: AdmissionControls = {
    reloadCertificate(certPem, keyPem) {
      const options = secureContextOptions(certPem, keyPem)
      // setSecureContext updates the server's fields before building the context; building it first
      // means a bad pair throws here and leaves the running certificate untouched.
      createSecureContext(options)
      app.server.setSecureContext(options)
      log.info(certificateSummary(certPem), 'serving certificate reloaded')
    },
    setCachesSynced(synced) {
      cachesSynced = synced
    },
    async warmUp(reviews, rounds) {
      const started = performance.now()
      const results: Record<string, number> = {}
      warming = true
      try {
        for (let i = 0; i < rounds; i++) {
          for (const review of reviews) {
            const r = await app.inject({ method: 'POST', url: review.path, headers: { 'content-type': 'application/json' }, payload: review.body })
            const answer = r.statusCode === 200 ? r.json<{ response?: { allowed?: boolean; patch?: string } }>().response : undefined
            const key = r.statusCode !== 200 ? `HTTP ${r.statusCode}` : answer?.allowed !== true ? 'denied' : answer.patch !== undefined ? 'patched' : 'allowed'
            results[key] = (results[key] ?? 0) + 1
          }
        }
      } finally {
        warming = false
      }
      return { reviews: rounds * reviews.length, ms: performance.now() - started, results }
    },
  }
  return Object.assign(app, controls)
}
