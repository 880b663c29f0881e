// Optimistic-concurrency retry, as client-go's retry.RetryOnConflict with retry.DefaultBackoff.
import { setTimeout as sleepFor } from 'node:timers/promises'
import { isConflict } from './errors.ts'

export interface Backoff {
  /** Attempts in total, the first included. */
  readonly steps: number
  readonly initialMs: number
  readonly factor: number
  /** Each wait is lengthened by up to this fraction of itself, so replicas do not retry in lockstep. */
  readonly jitter: number
}

// client-go retry.DefaultBackoff: waits of about 10 ms, 50 ms and 250 ms between four attempts.
export const DEFAULT_BACKOFF: Backoff = { steps: 4, initialMs: 10, factor: 5, jitter: 0.1 }

export interface RetryOptions {
  readonly backoff?: Backoff
  readonly sleep?: (ms: number) => Promise<unknown>
  readonly random?: () => number
}

/** The waits between attempts, before jitter. */
export function backoffDelays(b: Backoff): number[] {
  const delays: number[] = []
  for (let i = 0, d = b.initialMs; i < b.steps - 1; i++, d *= b.factor) delays.push(d)
  return delays
}

/** Runs `fn` until it does not fail with `retriable`, at most `backoff.steps` times; the last error is thrown. */
export async function retryOn<T>(retriable: (err: unknown) => boolean, fn: () => Promise<T>, opts: RetryOptions = {}): Promise<T> {
  const backoff = opts.backoff ?? DEFAULT_BACKOFF
  const sleep = opts.sleep ?? sleepFor
  const random = opts.random ?? Math.random
  const delays = backoffDelays(backoff)
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn()
    } catch (err) {
      const delay = delays[attempt]
      if (!retriable(err) || delay === undefined) throw err
      await sleep(delay * (1 + backoff.jitter * random()))
    }
  }
}

/** Re-runs a read-modify-write while the API server answers 409 Conflict. */
export function retryOnConflict<T>(fn: () => Promise<T>, opts: RetryOptions = {}): Promise<T> {
  return retryOn(isConflict, fn, opts)
}
