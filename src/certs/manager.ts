// The certificate manager: keeps the stored set current (creating, renewing, adopting another
// replica's), writes the caBundle where the API server reads it, and hands new serving certificates
// to the server. The decisions are in rotation.ts; this file only sequences the I/O.
import { pino } from 'pino'
import type { Logger } from 'pino'
import { describeError } from '../kube/errors.ts'
import { retryOnConflict } from '../kube/retry.ts'
import type { RetryOptions } from '../kube/retry.ts'
import { parseCertificate, joinPemBundle } from './inspect.ts'
import { advanceCertificates } from './issue.ts'
import type { SubjectNames } from './names.ts'
import type { KeyPairPem } from './pki.ts'
import { DEFAULT_ROTATION_POLICY, policyProblems } from './rotation.ts'
import type { CertificateSet, RotationPolicy } from './rotation.ts'
import type { CertificateStore } from './store.ts'
import type { CaBundleSink } from './webhooks.ts'

export const DEFAULT_CHECK_INTERVAL_MS = 60_000

export interface CertificateManagerOptions {
  readonly store: CertificateStore
  /** Where the caBundle goes; none for a webhook that is registered some other way. */
  readonly sink?: CaBundleSink
  readonly names: SubjectNames
  readonly policy?: RotationPolicy
  /** Called with each serving certificate that differs from the previous sync's (typically reloadCertificate). */
  readonly onServingChange?: (serving: KeyPairPem) => void
  readonly logger?: Logger
  readonly now?: () => Date
  /** Also how soon a replica picks up a set another replica stored; keep it below the policy's overlap. */
  readonly checkIntervalMs?: number
  readonly retry?: RetryOptions
}

export interface CertificateManager {
  /** Brings the stored set up to date and returns it. The first call's serving certificate is the baseline for onServingChange. */
  sync(): Promise<CertificateSet>
  /** Syncs every check interval until stop(); failures are logged and retried at the next check. */
  start(): void
  stop(): void
  current(): CertificateSet | undefined
}

function fingerprint(pem: string): string {
  return parseCertificate(pem)?.fingerprint256 ?? pem
}

export function createCertificateManager(opts: CertificateManagerOptions): CertificateManager {
  const policy = opts.policy ?? DEFAULT_ROTATION_POLICY
  const problems = policyProblems(policy)
  if (problems.length > 0) throw new Error(`certificate rotation policy: ${problems.join('; ')}`)
  const log = opts.logger ?? pino({ level: 'info' })
  const now = opts.now ?? (() => new Date())
  const interval = opts.checkIntervalMs ?? DEFAULT_CHECK_INTERVAL_MS
  let current: CertificateSet | undefined
  let queue: Promise<unknown> = Promise.resolve()
  let timer: NodeJS.Timeout | undefined
  let running = false

  // Another replica may have stored a newer set, or a save may lose a race: each attempt starts from a fresh read.
  async function storeCurrent(): Promise<CertificateSet> {
    return retryOnConflict(async () => {
      const stored = await opts.store.load()
      const { set, steps } = advanceCertificates(stored?.set, opts.names, now(), policy)
      if (steps.length > 0) {
        await opts.store.save(set, stored?.resourceVersion)
        log.info({ steps: steps.map(s => ({ action: s.action, reason: s.reason })) }, 'webhook certificates renewed')
      }
      return set
    }, opts.retry)
  }

  function notify(set: CertificateSet): void {
    const changed = current !== undefined && fingerprint(current.serving.certPem) !== fingerprint(set.serving.certPem)
    current = set
    if (!changed || !opts.onServingChange) return
    try {
      opts.onServingChange(set.serving)
    } catch (err) {
      log.error({ error: describeError(err) }, 'the new serving certificate was not loaded; the previous one stays in use')
    }
  }

  async function syncOnce(): Promise<CertificateSet> {
    const set = await storeCurrent()
    // The bundle goes out before the server presents a certificate that may depend on it.
    if (opts.sink) {
      const written = await opts.sink.write(joinPemBundle(set.trusted))
      if (written.updated.length > 0) log.info({ configurations: written.updated }, 'caBundle written')
      if (written.missing.length > 0) log.warn({ configurations: written.missing }, 'webhook configurations not found; their caBundle is written once they exist')
    }
    notify(set)
    return set
  }

  function sync(): Promise<CertificateSet> {
    const run = queue.then(syncOnce)
    queue = run.catch(() => undefined)
    return run
  }

  function schedule(): void {
    if (!running) return
    timer = setTimeout(() => {
      void sync()
        .catch(err => log.error({ error: describeError(err) }, 'certificate check failed; retrying at the next check'))
        .finally(schedule)
    }, interval)
    timer.unref()
  }

  return {
    sync,
    start() {
      if (running) return
      running = true
      schedule()
    },
    stop() {
      running = false
      if (timer) clearTimeout(timer)
    },
    current: () => current,
  }
}
