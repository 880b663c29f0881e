// Per-tick request accounting: each app's requests split between its sides, each side's between
// its ready pods, and errors by the side's error rate. Deterministic: fractional requests and errors
// carry over to the next tick instead of being drawn at random, and every count only grows.
import { servedShares } from './routing.ts'

/** The Prometheus client libraries' default histogram buckets, in seconds (+Inf is implied). */
export const DEFAULT_BUCKETS: readonly number[] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

export const OK_STATUS = '200'
export const ERROR_STATUS = '500'

export type Side = 'primary' | 'canary'
export const SIDES: readonly Side[] = ['primary', 'canary']

export interface PodInput {
  readonly name: string
  readonly ready: boolean
}

export interface SideInput {
  /** Every existing pod of the side; only ready ones serve, the others keep their series. */
  readonly pods: readonly PodInput[]
  /** Fraction of requests answered 5xx, 0…1. */
  readonly errorRate: number
  readonly latencySeconds: number
}

export interface AppInput {
  readonly namespace: string
  readonly name: string
  /** The canary's routed share, 0…1, before readiness is applied. */
  readonly canaryShare: number
  /** The fraction of all requests the router also copies to the canary (mirroring), 0…1; the copies' answers are dropped. */
  readonly mirrorShare?: number
  readonly primary: SideInput
  readonly canary: SideInput
  /** Set for apps behind nginx: the user's Ingress and the canary Service the controller labels requests with. */
  readonly nginx?: { readonly ingress: string; readonly canaryService: string }
  /** Set for apps behind istio: each side's sidecar reports its workload's requests. */
  readonly istio?: true
  /** Set for apps behind traefik: the `service` label of each side's Service in Traefik's metrics. */
  readonly traefik?: Readonly<Record<Side, string>>
  /** Set for apps behind contour: Envoy's cluster of each side's Service (envoy_cluster_name). */
  readonly contour?: { readonly clusters: Record<Side, string> }
  /** Set for apps behind linkerd: each side's proxy reports its inbound responses. */
  readonly linkerd?: true
}

/** One histogram; `buckets[i]` is cumulative, the count of observations ≤ bounds[i] (+Inf is `count`). */
export interface Histogram {
  readonly buckets: number[]
  count: number
  sum: number
}

/** The requests of one pod or one nginx upstream, by outcome. */
export interface Outcomes {
  readonly ok: Histogram
  readonly error: Histogram
}

export interface NginxSeries {
  readonly ingress: string
  readonly canaryService: string
  readonly primary: Outcomes
  readonly canary: Outcomes
}

interface SideState {
  requests: number          // fractional requests not yet served
  errors: number            // fractional errors not yet answered
  okCursor: number          // next pod to take a remainder request
  errorCursor: number
}

export interface AppState {
  readonly namespace: string
  readonly name: string
  readonly sides: Record<Side, SideState>
  /** By pod name; a pod's series goes when the pod does. */
  readonly pods: Map<string, Outcomes>
  nginx: NginxSeries | undefined
  /** The requests each side's workload received, as its sidecar counts them (reporter="destination"). */
  istio: Record<Side, Outcomes> | undefined
  /** The requests Traefik sent each side's Service, with that Service's `service` label. */
  traefik: { readonly labels: Readonly<Record<Side, string>>; readonly primary: Outcomes; readonly canary: Outcomes } | undefined
  /** The requests Envoy sent each side's cluster. */
  contour: (Record<Side, Outcomes> & { readonly clusters: Record<Side, string> }) | undefined
  /** The responses each side's Linkerd proxy counted (direction="inbound"). */
  linkerd: Record<Side, Outcomes> | undefined
}

/** Keyed `namespace/name`. */
export type TrafficState = Map<string, AppState>

export interface TickOptions {
  readonly requestsPerSecond: number
  readonly bounds?: readonly number[]
}

// Keeps 49.999999… from losing a whole request to floating point.
const EPSILON = 1e-9

export function newHistogram(bounds: readonly number[]): Histogram {
  return { buckets: bounds.map(() => 0), count: 0, sum: 0 }
}

function newOutcomes(bounds: readonly number[]): Outcomes {
  return { ok: newHistogram(bounds), error: newHistogram(bounds) }
}

/** `n` observations of `seconds` each: they land in every bucket whose bound is ≥ seconds. */
export function observe(h: Histogram, bounds: readonly number[], seconds: number, n: number): void {
  if (n <= 0) return
  for (let i = 0; i < bounds.length; i++) if (seconds <= bounds[i]!) h.buckets[i]! += n
  h.count += n
  h.sum += n * seconds
}

/** `n` over `k` slots: an equal part each, the remainder round-robin from `cursor`; returns the next cursor. */
export function spread(n: number, k: number, cursor: number): { counts: number[]; cursor: number } {
  if (k <= 0) return { counts: [], cursor: 0 }
  const base = Math.floor(n / k)
  const rest = n - base * k
  const counts = new Array<number>(k).fill(base)
  const start = cursor % k
  for (let i = 0; i < rest; i++) counts[(start + i) % k]! += 1
  return { counts, cursor: (start + rest) % k }
}

/** Takes the whole part out of an accumulator; the fraction stays for the next tick. */
function whole(acc: number): [taken: number, left: number] {
  const taken = Math.floor(acc + EPSILON)
  return [taken, Math.max(0, acc - taken)]
}

function appState(state: TrafficState, key: string, app: AppInput): AppState {
  let s = state.get(key)
  if (!s) {
    const side = (): SideState => ({ requests: 0, errors: 0, okCursor: 0, errorCursor: 0 })
    s = { namespace: app.namespace, name: app.name, sides: { primary: side(), canary: side() }, pods: new Map(), nginx: undefined, istio: undefined, linkerd: undefined, traefik: undefined, contour: undefined }
    state.set(key, s)
  }
  return s
}

// Series exist at zero from the start, so the first requests already show up in rate().
function syncSeries(s: AppState, app: AppInput, bounds: readonly number[]): void {
  const alive = new Set<string>()
  for (const side of SIDES) {
    for (const pod of app[side].pods) {
      alive.add(pod.name)
      if (!s.pods.has(pod.name)) s.pods.set(pod.name, newOutcomes(bounds))
    }
  }
  for (const name of s.pods.keys()) if (!alive.has(name)) s.pods.delete(name)
  const n = app.nginx
  if (!n) s.nginx = undefined
  else if (s.nginx?.ingress !== n.ingress || s.nginx.canaryService !== n.canaryService) {
    s.nginx = { ingress: n.ingress, canaryService: n.canaryService, primary: newOutcomes(bounds), canary: newOutcomes(bounds) }
  }
  syncMeshes(s, app, bounds)
  syncTraefik(s, app, bounds)
}

// The sidecar and Envoy series: kept while the app stays behind that provider.
function syncMeshes(s: AppState, app: AppInput, bounds: readonly number[]): void {
  const sides = (): Record<Side, Outcomes> => ({ primary: newOutcomes(bounds), canary: newOutcomes(bounds) })
  s.istio = app.istio ? s.istio ?? sides() : undefined
  s.linkerd = app.linkerd ? s.linkerd ?? sides() : undefined
  s.contour = app.contour ? s.contour ?? { clusters: app.contour.clusters, ...sides() } : undefined
}

// New series when a side's Service label changes (another Service name or port).
function syncTraefik(s: AppState, app: AppInput, bounds: readonly number[]): void {
  const tr = app.traefik
  if (!tr) s.traefik = undefined
  else if (s.traefik?.labels.primary !== tr.primary || s.traefik.labels.canary !== tr.canary) {
    s.traefik = { labels: { ...tr }, primary: newOutcomes(bounds), canary: newOutcomes(bounds) }
  }
}

function serve(s: AppState, side: Side, input: SideInput, requests: number, bounds: readonly number[]): void {
  const st = s.sides[side]
  const [served, requestsLeft] = whole(st.requests + requests)
  const [errors, errorsLeft] = whole(st.errors + served * Math.min(1, Math.max(0, input.errorRate)))
  st.requests = requestsLeft
  st.errors = errorsLeft
  const ok = served - errors
  const latency = input.latencySeconds
  for (const sideSeries of [s.nginx?.[side], s.istio?.[side], s.linkerd?.[side], s.traefik?.[side], s.contour?.[side]]) {
    if (!sideSeries) continue
    observe(sideSeries.ok, bounds, latency, ok)
    observe(sideSeries.error, bounds, latency, errors)
  }
  const pods = input.pods.filter(p => p.ready).map(p => p.name).sort()
  const okSpread = spread(ok, pods.length, st.okCursor)
  const errorSpread = spread(errors, pods.length, st.errorCursor)
  st.okCursor = okSpread.cursor
  st.errorCursor = errorSpread.cursor
  pods.forEach((name, i) => {
    const series = s.pods.get(name)
    if (!series) return
    observe(series.ok, bounds, latency, okSpread.counts[i]!)
    observe(series.error, bounds, latency, errorSpread.counts[i]!)
  })
}

/** Advances every app by `seconds`; apps missing from `apps` are dropped with their series. */
export function tick(state: TrafficState, apps: readonly AppInput[], seconds: number, opts: TickOptions): void {
  const bounds = opts.bounds ?? DEFAULT_BUCKETS
  const seen = new Set<string>()
  const total = Math.max(0, opts.requestsPerSecond * seconds)
  for (const app of apps) {
    const key = `${app.namespace}/${app.name}`
    seen.add(key)
    const s = appState(state, key, app)
    syncSeries(s, app, bounds)
    const shares = servedShares(app.canaryShare, {
      primary: app.primary.pods.some(p => p.ready), canary: app.canary.pods.some(p => p.ready),
    })
    const canaryReady = app.canary.pods.some(p => p.ready)
    // Mirrored copies reach only ready canary pods, on top of what the split sends there.
    const mirrored = canaryReady ? total * Math.min(1, Math.max(0, app.mirrorShare ?? 0)) : 0
    serve(s, 'primary', app.primary, total * shares.primary, bounds)
    serve(s, 'canary', app.canary, total * shares.canary + mirrored, bounds)
  }
  for (const key of state.keys()) if (!seen.has(key)) state.delete(key)
}
