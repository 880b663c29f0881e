// Linkerd in the simulator: the canary's share under the linkerd router's objects (its TrafficSplit, or the
// HTTPRoute of its Gateway API path), and the inbound metrics each side's Linkerd proxy exports as Linkerd's
// Prometheus (linkerd-viz) scrapes them: response_total and response_latency_ms, with the namespace and
// deployment labels its scrape config adds from the pod.
import type { SidecarMetrics } from './exposition.ts'
import { httpRouteCanaryShare, type SideNames } from './routing.ts'

interface TrafficSplitBackend { service?: string; weight?: number }

/** The canary's share under a stored TrafficSplit spec: its weight over the two sides' (0 without weights). */
export function trafficSplitCanaryShare(spec: unknown, names: SideNames): number {
  const backends = (spec as { backends?: TrafficSplitBackend[] } | undefined)?.backends ?? []
  const weightOf = (name: string): number => backends.filter(b => b.service === name).reduce((n, b) => n + Math.max(0, b.weight ?? 0), 0)
  const canary = weightOf(names.canary)
  const total = canary + weightOf(names.primary)
  return total > 0 ? canary / total : 0
}

/**
 * The canary's share under the linkerd router: the HTTPRoute when there is one (the router keeps only the
 * object of the path in use), else the TrafficSplit.
 */
export function linkerdCanaryShare(route: { spec?: unknown } | undefined, split: { spec?: unknown } | undefined, names: SideNames, abFraction: number): number {
  return route ? httpRouteCanaryShare(route.spec, names, abFraction) : trafficSplitCanaryShare(split?.spec, names)
}

// Linkerd counts a 5xx as a failure; the latency histogram carries the response's labels but no classification.
export const LINKERD: SidecarMetrics = {
  counter: 'response_total', histogram: 'response_latency_ms', series: a => a.linkerd,
  labels: (namespace, deployment, outcome, status, counter) => [
    ['namespace', namespace], ['deployment', deployment], ['direction', 'inbound'],
    ...(counter ? [['classification', outcome === 'ok' ? 'success' : 'failure'] as const] : []), ['status_code', status],
  ],
}
