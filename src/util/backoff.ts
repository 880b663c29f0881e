// The one exponential backoff: the API-conflict retry, the work queue, the informer's reconnects and the
// webhook retries each keep their own numbers but compute the wait here.

export interface Backoff {
  /** The wait before the first retry. */
  readonly initialMs: number
  readonly factor: number
  /** No wait is longer than this (before jitter); absent means no cap. */
  readonly maxMs?: number
  /** Each wait is lengthened by up to this fraction of itself, so replicas do not retry in lockstep. */
  readonly jitter?: number
}

/** The wait before retry `n` (1 is the first): initialMs × factor^(n−1), at most maxMs, then jittered. */
export function backoffDelay(b: Backoff, n: number, random: () => number = Math.random): number {
  const delay = Math.min(b.initialMs * b.factor ** (n - 1), b.maxMs ?? Infinity)
  return b.jitter ? delay * (1 + b.jitter * random()) : delay
}
