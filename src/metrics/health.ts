// Is each metrics server a Canary uses online? Asked before the analysis (Flagger's IsOnline, a `vector(1)`
// query), with a short timeout, and remembered per server for a few seconds: a thousand canaries on one
// Prometheus ask it once, not a thousand times, and concurrent askers share the answer in flight.
import type { Canary } from '../api/types.ts'
import { metricServers, providerOf, queryTimeoutMs, serverKey, type AnalysisDeps } from './analysis.ts'
import { displayAddress } from './provider.ts'

/** How long an answer stands for every canary on that server. */
export const HEALTH_TTL_MS = 5000
/** Longest a health query may take (Flagger's Prometheus timeout); shorter for short intervals. */
export const HEALTH_TIMEOUT_MS = 5000

export interface MetricsHealth {
  /** false when any server did not answer. */
  readonly online: boolean
  /** The servers that did not answer, as scheme://host/path: never credentials or a query string. */
  readonly offline: readonly string[]
}

export interface HealthCheck {
  /** undefined when the canary's metrics need no server (none, or none that resolves). */
  check(canary: Canary, deps: AnalysisDeps): Promise<MetricsHealth | undefined>
}

export interface HealthOptions {
  readonly ttlMs?: number
  /** Milliseconds, for the cache; tests move it. */
  readonly now?: () => number
}

interface Entry { readonly at: number; readonly online: Promise<boolean> }

function printable(address: string): string {
  try {
    return displayAddress(new URL(address))
  } catch {
    return '(an unusable address)'
  }
}

export function createHealthCheck(o: HealthOptions = {}): HealthCheck {
  const ttlMs = o.ttlMs ?? HEALTH_TTL_MS
  const now = o.now ?? Date.now
  const cache = new Map<string, Entry>()

  function prune(at: number): void {
    for (const [key, entry] of cache) if (at - entry.at >= ttlMs) cache.delete(key)
  }

  return {
    async check(canary, deps) {
      const timeoutMs = Math.min(queryTimeoutMs(canary), HEALTH_TIMEOUT_MS)
      const servers = await metricServers(canary, deps, timeoutMs)
      if (servers.length === 0) return undefined
      const at = now()
      prune(at)
      const answers = await Promise.all(servers.map(async spec => {
        const key = serverKey(spec)
        let entry = cache.get(key)
        if (!entry) {
          let online: Promise<boolean>
          try {
            // isOnline never throws; the catch guards an injected provider that does.
            online = providerOf(spec, deps).isOnline().catch(() => false)
          } catch {
            // A spec the provider refuses (its address, its Secret) is not a server that is down: the metric's
            // own check says what is wrong.
            return undefined
          }
          entry = { at, online }
          cache.set(key, entry)
        }
        return { address: printable(spec.address), online: await entry.online }
      }))
      const asked = answers.filter(a => a !== undefined)
      if (asked.length === 0) return undefined
      const offline = [...new Set(asked.filter(a => !a.online).map(a => a.address))]
      return { online: offline.length === 0, offline }
    },
  }
}
