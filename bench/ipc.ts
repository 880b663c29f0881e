// Messages between bench/webhook.ts and its two children (the server under test and the load generator).

export type ToServer = { readonly type: 'cpu' } | { readonly type: 'stop' }

export type ServerMessage =
  | { readonly type: 'listening'; readonly port: number }
  | { readonly type: 'cpu'; readonly usage: NodeJS.CpuUsage; readonly at: number }

/** Closed loop: `connections` requests in flight at all times, each sent as soon as the previous answered. */
export interface ClosedLoop {
  readonly type: 'closed'
  readonly connections: number
  readonly warmupMs: number
  readonly durationMs: number
}

/** Open loop: requests at fixed intervals whatever the answers do; latency counts from the scheduled time. */
export interface OpenLoop {
  readonly type: 'open'
  readonly rate: number
  readonly warmupMs: number
  readonly durationMs: number
  readonly maxConnections: number
}

export type ToLoad = ClosedLoop | OpenLoop | { readonly type: 'stop' }

export interface LatencySummary {
  readonly count: number
  readonly meanMs: number
  readonly p50Ms: number
  readonly p90Ms: number
  readonly p99Ms: number
  readonly p999Ms: number
  readonly maxMs: number
}

export interface LoadResult {
  readonly kind: 'closed' | 'open'
  readonly connections: number
  /** Requested rate (open loop only). */
  readonly targetRate?: number
  /** Requests sent in the whole phase, warm-up included. */
  readonly sent: number
  /** Answers counted in the measured window (after warm-up). */
  readonly completed: number
  /** Wrong answers, HTTP errors, connection errors: these fail the run. */
  readonly errors: number
  /** No answer within the API server's 5 s webhook timeout: a timing result, reported, not failed on. */
  readonly timeouts: number
  /** Requests dropped when an open loop was stopped as saturated. */
  readonly abandoned: number
  /** Up to 5 distinct error descriptions. */
  readonly errorSamples: readonly string[]
  readonly measuredMs: number
  readonly achievedRate: number
  /** From the scheduled send time (open loop) or the actual send time (closed loop). */
  readonly latency: LatencySummary
  /** Open loop only: from the actual send time, excluding the generator's own lateness. */
  readonly serviceLatency?: LatencySummary
  /** Open loop only: the largest delay between a request's scheduled and actual send. */
  readonly maxSendLagMs?: number
  /** Open loop only: the backlog passed a second of requests this long after the start, and the phase stopped. */
  readonly saturatedAfterMs?: number
  /** Sockets the generator opened during the phase. */
  readonly socketsOpened: number
  /** The generator's CPU over the measured window, and over the whole phase. */
  readonly clientCpuUs: number
  readonly clientCpuPhaseUs?: number
}

export type LoadMessage =
  | { readonly type: 'ready' }
  | { readonly type: 'result'; readonly result: LoadResult }
  | { readonly type: 'failed'; readonly message: string }
