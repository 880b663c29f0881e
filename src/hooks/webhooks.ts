// Analysis webhooks and gates (flagger-semantics §7): POST Flagger's payload to each hook of one type, in
// order, and turn each answer into a HookOutcome. HTTP 200, 201 or 202 passes (an open gate), as Flagger's
// `StatusCode > 202` test; any other status, a timeout or a connection error fails (a closed gate), with a
// message that says which and never shows the URL's credentials or query string.
//
// disableTLS (Flagger: InsecureSkipVerify) sends that hook's calls through a dispatcher of their own that does
// not verify the server's certificate; every other call, of sluice or of another hook, still verifies.
import { createHash } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { Agent } from 'undici'
import { DEFAULTS, hooksOfType } from '../api/defaults.ts'
import { formatDuration, parseDuration } from '../util/duration.ts'
import { backoffDelay } from '../util/backoff.ts'
import type { Canary, CanaryWebhook, HookType } from '../api/types.ts'
import { bodySnippet, discardBody, parseTarget, transportFailure, UrlError } from '../util/http.ts'
import type { Target } from '../util/http.ts'

/** One webhook call of this tick. Hooks of a type run in order and stop at the first failure. */
export interface HookOutcome {
  readonly kind: 'hook'
  readonly type: HookType
  readonly name: string
  readonly verdict: 'pass' | 'fail'
  readonly message?: string
}

export interface HookOptions {
  readonly fetch?: typeof fetch
  /** The phase sent in the payload; default the Canary's status.phase. */
  readonly phase?: string
  /** The checksum sent in the payload; default canaryChecksum(canary). */
  readonly checksum?: string
  /** Pause before the first retry; it doubles for each further retry, up to 30s. Default 1s. */
  readonly retryDelayMs?: number
}

export interface HookLogger {
  warn(obj: object, msg: string): void
}

export interface EventOptions extends HookOptions {
  readonly logger?: HookLogger
}

export interface CanaryEvent {
  readonly type: 'Normal' | 'Warning'
  readonly reason: string
  readonly message: string
}

/** Flagger's CanaryWebhookPayload. */
export interface HookPayload {
  readonly name: string
  readonly namespace: string
  readonly phase: string
  readonly checksum: string
  readonly metadata: Readonly<Record<string, string>>
}

/** The result of calling one hook: ok is an answer of 200, 201 or 202. */
export interface CallResult {
  readonly ok: boolean
  readonly message: string
}

const DEFAULT_TIMEOUT_MS = parseDuration(DEFAULTS.webhookTimeout) ?? 10_000
const MAX_RETRY_DELAY_MS = 30_000

/** The per-attempt timeout: the hook's own, or 10s when absent, unreadable or zero. */
export function hookTimeoutMs(w: CanaryWebhook): number {
  const ms = w.timeout === undefined ? undefined : parseDuration(w.timeout)
  return ms !== undefined && ms > 0 ? ms : DEFAULT_TIMEOUT_MS
}

/**
 * Flagger's checksum: a hash of the applied revision and the tracked configs, so that a receiver (the
 * load tester) can tell one rollout from the next. Keys are sorted so the value does not depend on order.
 */
export function canaryChecksum(canary: Canary): string {
  const configs = Object.entries(canary.status?.trackedConfigs ?? {}).sort(([a], [b]) => a.localeCompare(b))
  const text = JSON.stringify({ trackedConfigs: configs, lastAppliedSpec: canary.status?.lastAppliedSpec ?? '' })
  return createHash('sha256').update(text).digest('hex').slice(0, 10)
}

export function hookPayload(canary: Canary, w: CanaryWebhook, options: HookOptions = {}): HookPayload {
  return {
    name: canary.metadata.name ?? '',
    namespace: canary.metadata.namespace ?? '',
    phase: options.phase ?? canary.status?.phase ?? '',
    checksum: options.checksum ?? canaryChecksum(canary),
    metadata: { ...w.metadata },
  }
}

interface Attempt {
  readonly ok: boolean
  /** Worth another attempt: no answer, 5xx or 429 (as go-retryablehttp, which Flagger uses). */
  readonly retry: boolean
  readonly head: string
  readonly detail?: string
}

function redirect(res: Response, target: Target): Attempt {
  let where = 'elsewhere'
  const location = res.headers.get('location')
  if (location) {
    try {
      where = `to ${parseTarget(new URL(location, target.url).toString(), 'location').display}`
    } catch {
      where = 'elsewhere'
    }
  }
  return {
    ok: false, retry: false, head: `answered HTTP ${res.status}`,
    detail: `a redirect ${where}; sluice does not follow redirects, so give the hook its final URL`,
  }
}

/** Flagger passes a hook on any status up to 202 (1xx never reaches a client). */
const LAST_PASSING_STATUS = 202

async function answer(res: Response, target: Target): Promise<Attempt> {
  if (res.status >= 200 && res.status <= LAST_PASSING_STATUS) {
    await discardBody(res)
    return { ok: true, retry: false, head: `answered HTTP ${res.status}` }
  }
  if (res.status < 300) {
    await discardBody(res)
    return { ok: false, retry: false, head: `answered HTTP ${res.status}`, detail: 'only 200, 201 and 202 pass (as in Flagger)' }
  }
  if (res.status >= 300 && res.status < 400) {
    await discardBody(res)
    return redirect(res, target)
  }
  const snippet = await bodySnippet(res)
  return {
    ok: false, retry: res.status >= 500 || res.status === 429, head: `answered HTTP ${res.status}`,
    ...(snippet && { detail: snippet }),
  }
}

function noAnswer(e: unknown, timeoutMs: number): Attempt {
  const failure = transportFailure(e)
  if (failure.kind === 'timeout') return { ok: false, retry: true, head: `timed out after ${formatDuration(timeoutMs)}` }
  const tls = failure.kind === 'tls'
    ? '; give the hook a certificate from a CA in NODE_EXTRA_CA_CERTS, or set disableTLS: true to skip verification for this hook'
    : ''
  // As go-retryablehttp (Flagger's client): a certificate that was refused is refused again, so no retry.
  return { ok: false, retry: failure.kind !== 'tls', head: 'got no answer', detail: `${failure.reason}${tls}` }
}

type Dispatcher = NonNullable<RequestInit['dispatcher']>

let insecure: Dispatcher | undefined

/**
 * The dispatcher of disableTLS hooks: one for the process, so that their connections are pooled. Node's
 * fetch accepts it because the undici dependency is pinned to the version Node bundles; the cast only
 * bridges its types and Node's copy of them (undici-types), which are released apart.
 */
export function insecureDispatcher(): Dispatcher {
  insecure ??= new Agent({ connect: { rejectUnauthorized: false } }) as unknown as Dispatcher
  return insecure
}

/** fetch's options for one attempt; only a disableTLS hook gets the dispatcher that skips verification. */
export function requestInit(target: Target, body: string, w: CanaryWebhook, timeoutMs: number): RequestInit {
  return {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json, text/plain, */*', ...target.headers },
    body,
    signal: AbortSignal.timeout(timeoutMs),
    redirect: 'manual',
    ...(w.disableTLS === true && { dispatcher: insecureDispatcher() }),
  }
}

async function attempt(target: Target, body: string, w: CanaryWebhook, options: HookOptions): Promise<Attempt> {
  const timeoutMs = hookTimeoutMs(w)
  const doFetch = options.fetch ?? fetch
  try {
    const res = await doFetch(target.url, requestInit(target, body, w, timeoutMs))
    return await answer(res, target)
  } catch (e) {
    return noAnswer(e, timeoutMs)
  }
}

function describeAttempt(target: Target, a: Attempt, attempts: number): string {
  const tries = attempts > 1 ? ` (${attempts} attempts)` : ''
  return `POST ${target.display} ${a.head}${tries}${a.detail ? `: ${a.detail}` : ''}`
}

/** Calls one webhook with its timeout and retries; never throws. */
export async function callWebhook(w: CanaryWebhook, payload: HookPayload, options: HookOptions = {}): Promise<CallResult> {
  let target: Target
  try {
    target = parseTarget(w.url, 'url')
  } catch (e) {
    return { ok: false, message: e instanceof UrlError ? e.message : 'url is not usable' }
  }
  const body = JSON.stringify(payload)
  const attempts = 1 + Math.max(0, Math.floor(w.retries ?? DEFAULTS.webhookRetries))
  const baseDelay = options.retryDelayMs ?? 1000
  for (let n = 1; ; n++) {
    const a = await attempt(target, body, w, options)
    if (a.ok || !a.retry || n >= attempts) return { ok: a.ok, message: describeAttempt(target, a, n) }
    await sleep(backoffDelay({ initialMs: baseDelay, factor: 2, maxMs: MAX_RETRY_DELAY_MS }, n))
  }
}

/**
 * Runs the webhooks of one type in order. Every type stops at its first failure (a closed gate, a failed
 * rollout check), except `rollback`, which stops at its first pass: one open rollback gate is enough to roll
 * back, and a closed one must not hide the next. Returns the outcomes of the hooks called.
 */
export async function runHooks(canary: Canary, type: HookType, options: HookOptions = {}): Promise<HookOutcome[]> {
  const outcomes: HookOutcome[] = []
  const stopOn = type === 'rollback' ? 'pass' : 'fail'
  for (const w of hooksOfType(canary.spec.analysis?.webhooks, type)) {
    const result = await callWebhook(w, hookPayload(canary, w, options), options)
    const verdict = result.ok ? 'pass' : 'fail'
    outcomes.push({ kind: 'hook', type, name: w.name, verdict, message: result.message })
    if (verdict === stopOn) break
  }
  return outcomes
}

/** Flagger's event payload: the canary's payload with the event in metadata, whose keys win over the hook's. */
export function eventPayload(canary: Canary, w: CanaryWebhook, event: CanaryEvent, options: HookOptions = {}): HookPayload {
  const base = hookPayload(canary, w, options)
  return {
    ...base,
    metadata: {
      ...base.metadata,
      eventMessage: event.message,
      eventType: event.type,
      eventReason: event.reason,
      timestamp: String(Date.now()),
    },
  }
}

/**
 * Posts a Kubernetes event to every `event` webhook at once. Never throws and never rejects: a failure is
 * only logged (hook name and printable URL), since an event receiver must not hold up a rollout.
 */
export async function postEvent(canary: Canary, event: CanaryEvent, options: EventOptions = {}): Promise<void> {
  try {
    await Promise.all(hooksOfType(canary.spec.analysis?.webhooks, 'event').map(w => postOneEvent(canary, w, event, options)))
  } catch {
    // Only a malformed Canary gets here; an event is never worth an exception in the caller.
  }
}

async function postOneEvent(canary: Canary, w: CanaryWebhook, event: CanaryEvent, options: EventOptions): Promise<void> {
  try {
    const result = await callWebhook(w, eventPayload(canary, w, event, options), options)
    if (!result.ok) {
      const name = `${canary.metadata.namespace}/${canary.metadata.name}`
      options.logger?.warn({ canary: name, webhook: w.name, error: result.message }, 'event webhook failed')
    }
  } catch {
    // callWebhook does not throw; this guards against a logger that does.
  }
}
