// Optimistic-concurrency retry, as client-go's retry.RetryOnConflict with retry.DefaultBackoff.
import { setTimeout as sleepFor } from 'node:timers/promises'
import { isConflict } from './errors.ts'
import { backoffDelay, type Backoff } from '../util/backoff.ts'

/** The shared backoff with a jitter always given, and a number of attempts. */
export interface RetryBackoff extends Backoff {
  /** Attempts in total, the first included. */
  readonly steps: number
  readonly jitter: number
}

// client-go retry.DefaultBackoff: waits of about 10 ms, 50 ms and 250 ms between four attempts.
export const DEFAULT_BACKOFF: RetryBackoff = { steps: 4, initialMs: 10, factor: 5, jitter: 0.1 }

export interface RetryOptions {
  readonly backoff?: RetryBackoff
  readonly sleep?: (ms: number) => Promise<unknown>
  readonly random?: () => number
}

/** The waits between attempts, before jitter. */
export function backoffDelays(b: RetryBackoff): number[] {
  return Array.from({ length: Math.max(0, b.steps - 1) }, (_, i) => backoffDelay({ ...b, jitter: 0 }, i + 1))
}

/** Runs `fn` until it does not fail with `retriable`, at most `backoff.steps` times; the last error is thrown. */
export async function retryOn<T>(retriable: (err: unknown) => boolean, fn: () => Promise<T>, opts: RetryOptions = {}): Promise<T> {
  const backoff = opts.backoff ?? DEFAULT_BACKOFF
  const sleep = opts.sleep ?? sleepFor
  const random = opts.random ?? Math.random
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn()
    } catch (err) {
      if (!retriable(err) || attempt >= backoff.steps) throw err
      await sleep(backoffDelay(backoff, attempt, random))
    }
  }
}

/** Re-runs a read-modify-write while the API server answers 409 Conflict. */
export function retryOnConflict<T>(fn: () => Promise<T>, opts: RetryOptions = {}): Promise<T> {
  return retryOn(isConflict, fn, opts)
}
