// Kept: client-node 2.0.1 ships no leader elector (only the generated Lease API, CoordinationV1Api), and @codedependant/kubernetes-leader-election 1.0.1 would bring in a second client-node (it depends on ^1.3.0).
// Leader election through a coordination.k8s.io/v1 Lease, as client-go's leaderelection package does:
// read the Lease, decide (a pure function), write it back guarded by resourceVersion. A leader that
// cannot renew within renewDeadline, or sees another holder, stops at once and for good: the caller
// exits the process, because a Node process cannot reliably cancel every timer and promise it started.
import { CoordinationV1Api, V1MicroTime } from '@kubernetes/client-node'
import type { KubeConfig, V1Lease } from '@kubernetes/client-node'
import type { Logger } from 'pino'
import { describeError, isConflict, isNotFound } from '../kube/errors.ts'
import { withTimeout } from '../kube/timeout.ts'
import { MANAGED_BY_LABEL, MANAGED_BY_VALUE } from '../api/resolve.ts'

/** What the decision reads from a stored Lease's spec. Times may arrive as strings (client-node leaves MicroTime undecoded). */
export interface LeaseRecord {
  readonly holderIdentity?: string | null
  readonly leaseDurationSeconds?: number | null
  readonly acquireTime?: Date | string | null
  readonly renewTime?: Date | string | null
  readonly leaseTransitions?: number | null
}

export interface LeaseInput {
  /** The stored Lease's spec; undefined when there is no Lease. */
  readonly lease: LeaseRecord | undefined
  readonly now: Date
  readonly identity: string
  readonly leaseDurationMs: number
  /** Whether this elector currently acts as the leader. */
  readonly leading: boolean
  /**
   * Local time at which this elector first saw the stored record as it is now. Expiry counts from the
   * later of this and renewTime (client-go's observedTime), so a candidate whose clock runs ahead of
   * the holder's cannot take a live lease.
   */
  readonly observedAt?: Date
}

/** The spec this elector writes when it acquires or renews. */
export interface LeaseSpecOut {
  readonly holderIdentity: string
  readonly leaseDurationSeconds: number
  readonly acquireTime: Date
  readonly renewTime: Date
  readonly leaseTransitions: number
}

export type LeaseDecision =
  | { readonly action: 'acquire'; readonly spec: LeaseSpecOut; readonly takeover: boolean }
  | { readonly action: 'renew'; readonly spec: LeaseSpecOut }
  | { readonly action: 'wait'; readonly holder: string; readonly expiresAt: Date }
  | { readonly action: 'lost'; readonly reason: string }

function toTime(v: Date | string | null | undefined): Date | undefined {
  if (v === null || v === undefined || v === '') return undefined
  const d = v instanceof Date ? v : new Date(v)
  return Number.isNaN(d.getTime()) ? undefined : d
}

/** Lease durations are whole seconds; round up so the lease never claims less than was asked for. */
export function leaseSeconds(ms: number): number {
  return Math.max(1, Math.ceil(ms / 1000))
}

/** When the stored lease stops protecting its holder, as judged by this elector. */
export function leaseExpiry(lease: LeaseRecord, leaseDurationMs: number, observedAt?: Date): Date {
  const stored = lease.leaseDurationSeconds ?? 0
  const durationMs = stored > 0 ? stored * 1000 : leaseDurationMs
  const renewed = toTime(lease.renewTime) ?? toTime(lease.acquireTime)
  const from = Math.max(renewed?.getTime() ?? 0, observedAt?.getTime() ?? 0)
  return new Date(from + durationMs)
}

/** Given the stored Lease, the time and who we are: acquire, renew, wait for the holder, or leadership is lost. */
export function decide(input: LeaseInput): LeaseDecision {
  const { lease, now, identity, leaseDurationMs, leading } = input
  const holder = lease?.holderIdentity ?? ''
  if (leading) {
    // A leader never re-creates or takes back its lease: someone else changed it, and acting on would risk two leaders.
    if (!lease) return { action: 'lost', reason: 'the Lease was deleted' }
    if (holder !== identity) return { action: 'lost', reason: holder === '' ? 'the Lease was released by someone else' : `the Lease is now held by ${holder}` }
    return { action: 'renew', spec: specFor(lease, input, false) }
  }
  if (!lease) return { action: 'acquire', spec: specFor(undefined, input, false), takeover: false }
  if (holder === identity) return { action: 'acquire', spec: specFor(lease, input, false), takeover: false }
  if (holder === '') return { action: 'acquire', spec: specFor(lease, input, true), takeover: true }
  const expiresAt = leaseExpiry(lease, leaseDurationMs, input.observedAt)
  if (expiresAt.getTime() > now.getTime()) return { action: 'wait', holder, expiresAt }
  return { action: 'acquire', spec: specFor(lease, input, true), takeover: true }
}

function specFor(lease: LeaseRecord | undefined, input: LeaseInput, takeover: boolean): LeaseSpecOut {
  const transitions = lease?.leaseTransitions ?? 0
  const keepAcquired = lease !== undefined && !takeover
  return {
    holderIdentity: input.identity,
    leaseDurationSeconds: leaseSeconds(input.leaseDurationMs),
    acquireTime: (keepAcquired ? toTime(lease.acquireTime) : undefined) ?? input.now,
    renewTime: input.now,
    leaseTransitions: takeover ? transitions + 1 : transitions,
  }
}

export interface Timings {
  readonly leaseDurationMs: number
  readonly renewDeadlineMs: number
  readonly retryPeriodMs: number
}

/** The ordering client-go insists on: a leader must give up before its lease can expire, and retry a few times first. */
export function checkTimings(t: Timings): void {
  for (const [name, v] of Object.entries(t)) {
    if (!Number.isFinite(v) || v <= 0) throw new Error(`leader election: ${name} must be a positive number of milliseconds (got ${v})`)
  }
  if (t.leaseDurationMs <= t.renewDeadlineMs) {
    throw new Error(`leader election: leaseDuration (${t.leaseDurationMs} ms) must be longer than renewDeadline (${t.renewDeadlineMs} ms), or a successor could start before the old leader stops`)
  }
  if (t.renewDeadlineMs <= t.retryPeriodMs) {
    throw new Error(`leader election: renewDeadline (${t.renewDeadlineMs} ms) must be longer than retryPeriod (${t.retryPeriodMs} ms), or a single failed renewal loses the lease`)
  }
}

export interface LeaderElectorOptions {
  readonly kc: KubeConfig
  readonly namespace: string
  readonly name: string
  /** Unique per process (e.g. pod name plus a random suffix): a restarted process with the same identity resumes at once. */
  readonly identity: string
  readonly leaseDurationMs?: number
  readonly renewDeadlineMs?: number
  readonly retryPeriodMs?: number
  readonly logger: Logger
  onStartedLeading(): void
  /** Called once, on an involuntary loss; never by stop(). The caller is expected to exit. */
  onStoppedLeading(): void
  readonly now?: () => Date
}

export interface LeaderElector {
  start(): void
  /** Stop acting as leader before calling this: the lease is released so a successor starts at once. */
  stop(): Promise<void>
  isLeader(): boolean
}

type State = 'idle' | 'candidate' | 'leading' | 'lost' | 'stopped'

/** The timings with client-go's defaults, checked. */
function timingsOf(o: Pick<LeaderElectorOptions, 'leaseDurationMs' | 'renewDeadlineMs' | 'retryPeriodMs'>): Timings {
  const timings = { leaseDurationMs: o.leaseDurationMs ?? 15_000, renewDeadlineMs: o.renewDeadlineMs ?? 10_000, retryPeriodMs: o.retryPeriodMs ?? 2_000 }
  checkTimings(timings)
  return timings
}

/**
 * When this elector first saw the stored Lease as it is now (client-go's observedTime), for the expiry; a
 * change of holder is logged once.
 */
function leaseObserver(identity: string, log: Logger): (lease: V1Lease | undefined, at: Date) => Date | undefined {
  let observed: { version: string; at: Date } | undefined
  let lastHolder: string | undefined
  return (lease, at) => {
    if (!lease) { observed = undefined; return undefined }
    const version = lease.metadata?.resourceVersion ?? ''
    if (observed?.version !== version) observed = { version, at }
    const holder = lease.spec?.holderIdentity ?? ''
    if (holder !== lastHolder) {
      if (holder !== identity) log.info({ holder: holder || undefined }, holder ? 'lease held by another replica' : 'lease is free')
      lastHolder = holder
    }
    return observed.at
  }
}

/** Reads, writes and releases the one Lease, every write guarded by the resourceVersion it was read at. */
function leaseClient(api: CoordinationV1Api, namespace: string, name: string, callOptions: ReturnType<typeof withTimeout>, log: Logger) {
  return {
    async read(): Promise<V1Lease | undefined> {
      try {
        return await api.readNamespacedLease({ name, namespace }, callOptions)
      } catch (err) {
        if (isNotFound(err)) return undefined
        throw err
      }
    },
    write(stored: V1Lease | undefined, spec: LeaseSpecOut): Promise<V1Lease> {
      // managedFields are the server's bookkeeping; sending them back would only risk overwriting them.
      const { managedFields: _managed, ...meta } = stored?.metadata ?? {}
      const body: V1Lease = {
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata: stored ? { ...meta, name, namespace } : { name, namespace, labels: { [MANAGED_BY_LABEL]: MANAGED_BY_VALUE } },
        spec: {
          ...stored?.spec,
          holderIdentity: spec.holderIdentity,
          leaseDurationSeconds: spec.leaseDurationSeconds,
          acquireTime: new V1MicroTime(spec.acquireTime.getTime()),
          renewTime: new V1MicroTime(spec.renewTime.getTime()),
          leaseTransitions: spec.leaseTransitions,
        },
      }
      // A replace carries the read resourceVersion: if anyone wrote in between, the API server answers 409.
      return stored
        ? api.replaceNamespacedLease({ name, namespace, body }, callOptions)
        : api.createNamespacedLease({ namespace, body }, callOptions)
    },
    /** client-go's release: no holder and a 1 s duration, so the next candidate acquires on its next round. */
    async release(written: V1Lease, now: Date): Promise<void> {
      if (!written.spec) return
      const at = new V1MicroTime(now.getTime())
      const body: V1Lease = { ...written, spec: { ...written.spec, holderIdentity: '', leaseDurationSeconds: 1, acquireTime: at, renewTime: at } }
      try {
        await api.replaceNamespacedLease({ name, namespace, body }, callOptions)
        log.info('lease released')
      } catch (err) {
        // A conflict means someone else already wrote the Lease: there is nothing of ours left to release.
        if (!isConflict(err)) log.warn({ err: describeError(err) }, 'lease release failed; a successor waits for it to expire')
      }
    },
  }
}

export function createLeaderElector(options: LeaderElectorOptions): LeaderElector {
  const timings = timingsOf(options)
  const { namespace, name, identity } = options
  const now = options.now ?? ((): Date => new Date())
  const log = options.logger.child({ lease: `${namespace}/${name}`, identity })
  // Half the renew deadline per request, as kube-controller-manager configures its election client.
  const lease = leaseClient(options.kc.makeApiClient(CoordinationV1Api), namespace, name, withTimeout(Math.max(500, Math.floor(timings.renewDeadlineMs / 2))), log)

  let state: State = 'idle'
  let timer: NodeJS.Timeout | undefined
  let deadline: NodeJS.Timeout | undefined
  let inflight: Promise<void> | undefined
  let stopping: Promise<void> | undefined
  // The Lease as our last successful write left it; `held` says whether that write made us the holder.
  let written: V1Lease | undefined
  let held = false

  const active = (): boolean => state === 'candidate' || state === 'leading'

  const observe = leaseObserver(identity, log)

  const lose = (reason: string): void => {
    if (state !== 'leading') return
    state = 'lost'
    held = false
    clearTimeout(timer)
    clearTimeout(deadline)
    log.error({ reason }, 'leadership lost: stopping at once')
    try { options.onStoppedLeading() } catch (err) { log.error({ err: describeError(err) }, 'onStoppedLeading threw') }
  }

  const armDeadline = (attemptStartedMs: number): void => {
    clearTimeout(deadline)
    // Counted from when the renewal was sent: that is the renewTime others judge expiry by.
    const left = attemptStartedMs + timings.renewDeadlineMs - Date.now()
    deadline = setTimeout(() => lose(`no renewal for ${timings.renewDeadlineMs} ms`), Math.max(0, left))
  }

  /** One read-decide-write round; returns true when a conflict while leading calls for an immediate re-read. */
  const attempt = async (): Promise<boolean> => {
    const startedMs = Date.now()
    const stored = await lease.read()
    if (!active()) return false
    const at = now()
    const decision = decide({
      lease: stored?.spec, now: at, identity, leaseDurationMs: timings.leaseDurationMs,
      leading: state === 'leading', observedAt: observe(stored, at),
    })
    if (decision.action === 'lost') { lose(decision.reason); return false }
    if (decision.action === 'wait') return false
    const result = await lease.write(stored, decision.spec).catch((err: unknown) => { if (isConflict(err)) return undefined; throw err })
    if (!result) {
      // Someone else wrote the Lease first. A candidate has simply lost this round; a leader looks again now.
      log.debug('lease write conflicted')
      return state === 'leading'
    }
    written = result
    held = true
    if (state === 'stopped') return false            // stop() is waiting for us and will release
    if (!active()) { held = false; return false }    // lost while the write was in flight: never act again
    armDeadline(startedMs)
    if (state === 'candidate') {
      state = 'leading'
      log.info({ takeover: decision.action === 'acquire' && decision.takeover, transitions: decision.spec.leaseTransitions }, 'became leader')
      try { options.onStartedLeading() } catch (err) { log.error({ err: describeError(err) }, 'onStartedLeading threw') }
    }
    return false
  }

  const tick = async (): Promise<void> => {
    try {
      if (await attempt() && active()) await attempt()
    } catch (err) {
      if (active()) log.warn({ err: describeError(err), leading: state === 'leading' }, 'lease read or write failed')
    }
  }

  const schedule = (ms: number): void => {
    timer = setTimeout(() => {
      timer = undefined
      const run = tick().finally(() => {
        if (inflight === run) inflight = undefined
        if (active()) schedule(timings.retryPeriodMs)
      })
      inflight = run
    }, ms)
  }

  return {
    start(): void {
      if (state !== 'idle') return
      state = 'candidate'
      log.info({ ...timings }, 'leader election started')
      schedule(0)
    },
    stop(): Promise<void> {
      stopping ??= (async (): Promise<void> => {
        const wasLost = state === 'lost'
        state = 'stopped'
        clearTimeout(timer)
        clearTimeout(deadline)
        if (inflight) await inflight
        // After a loss the Lease is not ours to touch, whatever our last write said.
        if (!wasLost && held && written) {
          held = false
          await lease.release(written, now())
        }
      })()
      return stopping
    },
    isLeader(): boolean {
      return state === 'leading'
    },
  }
}
