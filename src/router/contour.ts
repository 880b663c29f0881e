// Contour: an HTTPProxy `<svc>` (projectcontour.io/v1) whose routes split between the `<svc>-primary` and
// `<svc>-canary` Services by weight, as Flagger writes it: no virtualhost, so it is not a root proxy; the user's
// root HTTPProxy (the one with the fqdn) includes it. For A/B, the first routes carry analysis.match as
// conditions (one route per match, merged with service.match) and the last ones send everything else to the
// primary. An HTTPProxy with this name that sluice did not create for this Canary is refused, never overwritten.
import type { Canary, HttpMatch, HttpRetry } from '../api/types.ts'
import { generatedMeta, namespaceOf, type GeneratedMeta } from '../kube/generated.ts'
import { cookieRegex } from './cookies.ts'
import { canaryServiceName, primaryServiceName, serviceName } from './services.ts'
import type { Router, RouteWeights } from './router.ts'
import { deleteGenerated, refuseForeign, refusingForeign } from './foreign.ts'
import type { KubeObject, ObjectRef, ApplyClient } from '../kube/apply.ts'

export const CONTOUR_API_VERSION = 'projectcontour.io/v1'

export interface ContourService { name: string; port: number; weight?: number; mirror?: true }
/** Contour's HeaderMatchCondition and QueryParameterMatchCondition, as far as sluice writes them. */
export interface ContourStringCondition { name: string; exact?: string; prefix?: string; suffix?: string; regex?: string }
export interface ContourCondition { prefix?: string; exact?: string; regex?: string; header?: ContourStringCondition; queryParameter?: ContourStringCondition }
export interface ContourRetryPolicy { count?: number; perTryTimeout?: string; retryOn?: string[]; retriableStatusCodes?: number[] }
export interface ContourRoute {
  conditions: ContourCondition[]
  services: ContourService[]
  timeoutPolicy?: { response: string; idle: string }
  retryPolicy?: ContourRetryPolicy
}
export interface HTTPProxyObject {
  apiVersion: typeof CONTOUR_API_VERSION
  kind: 'HTTPProxy'
  metadata: GeneratedMeta
  spec: { routes: ContourRoute[] }
  [key: string]: unknown
}

export const httpProxyRef = (c: Canary): ObjectRef =>
  ({ apiVersion: CONTOUR_API_VERSION, kind: 'HTTPProxy', namespace: namespaceOf(c), name: serviceName(c) })

const escapeRegex = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

/**
 * An Istio-style string match as Contour's header condition. Envoy matches a header regex against the whole
 * value, so a prefix is `<prefix>.*`; a `cookie` header with an exact value names a cookie that routes when it
 * is "always", as on the other routers.
 */
function headerCondition(name: string, m: Record<string, unknown>): ContourStringCondition | undefined {
  if (name.toLowerCase() === 'cookie' && typeof m.exact === 'string') return { name, regex: cookieRegex(m.exact) }
  if (typeof m.exact === 'string') return { name, exact: m.exact }
  if (typeof m.regex === 'string') return { name, regex: m.regex }
  if (typeof m.prefix === 'string') return { name, regex: `${escapeRegex(m.prefix)}.*` }
  if (typeof m.suffix === 'string') return { name, regex: `.*${escapeRegex(m.suffix)}` }
  return undefined
}

/** An Istio-style query parameter match: Contour's queryParameter condition has the same operators. */
function queryCondition(name: string, m: Record<string, unknown>): ContourStringCondition | undefined {
  for (const op of ['exact', 'prefix', 'suffix', 'regex'] as const) {
    if (typeof m[op] === 'string') return { name, [op]: m[op] }
  }
  return undefined
}

function entries<T>(obj: unknown, f: (name: string, m: Record<string, unknown>) => T | undefined): T[] {
  return Object.entries((obj ?? {}) as Record<string, Record<string, unknown> | undefined>).flatMap(([n, m]) => f(n, m ?? {}) ?? [])
}

/** The path condition of a match: its uri (prefix, exact or regex), else the prefix `/` Flagger writes. */
function pathCondition(m: HttpMatch | undefined): ContourCondition {
  const uri = m?.uri as Record<string, unknown> | undefined
  for (const op of ['prefix', 'exact', 'regex'] as const) {
    if (typeof uri?.[op] === 'string') return { [op]: uri[op] }
  }
  return { prefix: '/' }
}

/**
 * The conditions (ANDed by Contour) of one Istio-shaped match: one path condition (Contour allows one per
 * route), then a header condition per header (`method` as the `:method` pseudo-header), then query parameters.
 */
export function contourConditions(m: HttpMatch | undefined): ContourCondition[] {
  const out: ContourCondition[] = [pathCondition(m)]
  const method = (m?.method as Record<string, unknown> | undefined)?.exact
  if (typeof method === 'string') out.push({ header: { name: ':method', exact: method.toUpperCase() } })
  for (const header of entries(m?.headers, headerCondition)) out.push({ header })
  for (const queryParameter of entries(m?.queryParams, queryCondition)) out.push({ queryParameter })
  return out
}

/**
 * service.retries as Contour's retryPolicy, as Flagger maps it (attempts → count, perTryTimeout), and retryOn's
 * comma-separated Envoy conditions as a list; a status code in it goes to retriableStatusCodes, which Contour
 * applies under the `retriable-status-codes` condition.
 */
export function retryPolicy(r: HttpRetry): ContourRetryPolicy {
  const p: ContourRetryPolicy = {}
  if (r.attempts !== undefined) p.count = r.attempts
  if (r.perTryTimeout) p.perTryTimeout = r.perTryTimeout
  const tokens = (r.retryOn ?? '').split(',').map(s => s.trim()).filter(Boolean)
  const codes = tokens.filter(s => /^\d{3}$/.test(s)).map(Number)
  const on = tokens.filter(s => !/^\d{3}$/.test(s))
  if (codes.length && !on.includes('retriable-status-codes')) on.push('retriable-status-codes')
  if (on.length) p.retryOn = on
  if (codes.length) p.retriableStatusCodes = codes
  return p
}

function route(c: Canary, conditions: ContourCondition[], services: ContourService[]): ContourRoute {
  const s = c.spec.service
  const r: ContourRoute = { conditions, services }
  // Flagger's mapping: the response timeout, and the idle timeout at Envoy's stream default of 5m.
  if (s.timeout) r.timeoutPolicy = { response: s.timeout, idle: '5m' }
  if (s.retries) r.retryPolicy = retryPolicy(s.retries)
  return r
}

/** The weighted services of a split; while mirroring (canary at 0) the canary is the route's mirror instead. */
function split(c: Canary, w: RouteWeights): ContourService[] {
  const port = c.spec.service.port
  const out: ContourService[] = [{ name: primaryServiceName(c), port, weight: w.primary }]
  if (!(w.mirror && w.canary === 0)) out.push({ name: canaryServiceName(c), port, weight: w.canary })
  if (w.mirror) {
    const pct = c.spec.analysis?.mirrorWeight
    // Contour mirrors the share in the mirror's weight (1-100); without one, every request.
    out.push({ name: canaryServiceName(c), port, mirror: true, ...(pct !== undefined && { weight: pct }) })
  }
  return out
}

/** Each service match with each analysis match: the analysis match's fields added to the service's. */
function mergedMatches(service: readonly HttpMatch[] | undefined, analysis: readonly HttpMatch[]): HttpMatch[] {
  const base = service?.length ? service : [{}]
  return base.flatMap(s => analysis.map(a => ({
    ...s, ...a,
    headers: { ...(s.headers as object | undefined), ...(a.headers as object | undefined) },
    queryParams: { ...(s.queryParams as object | undefined), ...(a.queryParams as object | undefined) },
  })))
}

/** The HTTPProxy `<svc>` for weights `w`. */
export function httpProxy(c: Canary, w: RouteWeights): HTTPProxyObject {
  const s = c.spec.service
  const base: (HttpMatch | undefined)[] = s.match?.length ? s.match : [undefined]
  const ab = c.spec.analysis?.match
  const routes = ab?.length
    ? [
        ...mergedMatches(s.match, ab).map(m => route(c, contourConditions(m), split(c, w))),
        ...base.map(m => route(c, contourConditions(m), [{ name: primaryServiceName(c), port: s.port, weight: 100 }])),
      ]
    : base.map(m => route(c, contourConditions(m), split(c, w)))
  return {
    apiVersion: CONTOUR_API_VERSION, kind: 'HTTPProxy',
    metadata: generatedMeta(c, serviceName(c), s.apex ?? {}),
    spec: { routes },
  }
}

/** Weights from a stored HTTPProxy: routes[0]'s primary and canary services (a missing weight is 0). */
export function httpProxyWeights(c: Canary, proxy: KubeObject): RouteWeights {
  const routes = (proxy.spec as { routes?: { services?: { name?: string; weight?: number; mirror?: boolean }[] }[] } | undefined)?.routes
  const services = routes?.[0]?.services ?? []
  const weightOf = (name: string): number | undefined => {
    const found = services.find(x => x.name === name && x.mirror !== true)
    return found ? (found.weight ?? 0) : undefined
  }
  const mirror = services.some(x => x.name === canaryServiceName(c) && x.mirror === true)
  const primary = weightOf(primaryServiceName(c))
  const canary = weightOf(canaryServiceName(c)) ?? (mirror ? 0 : undefined)
  if (primary === undefined || canary === undefined) {
    throw new Error(`HTTPProxy ${namespaceOf(c)}/${serviceName(c)}: routes[0] does not route to both ${primaryServiceName(c)} and ${canaryServiceName(c)}`)
  }
  return mirror ? { primary, canary, mirror } : { primary, canary }
}

/** The stored HTTPProxy of `c`, or undefined; throws when it exists and sluice did not create it for `c`. */
async function ownProxy(kube: ApplyClient, c: Canary): Promise<KubeObject | undefined> {
  const o = await kube.get(httpProxyRef(c))
  refuseForeign(c, o, 'HTTPProxy with this name (include it from your root HTTPProxy)')
  return o
}

/** The contour router: the Services and the HTTPProxy, refusing a foreign HTTPProxy before anything is written. */
export function contourRouter(kube: ApplyClient): Router {
  const stored = async (c: Canary): Promise<KubeObject> => await ownProxy(kube, c) ??
    Promise.reject(new Error(`Canary ${namespaceOf(c)}/${c.metadata.name ?? ''}: HTTPProxy ${serviceName(c)} not found; reconcile first`))
  const proxy: Router = {
    // Keep the weights already routed: a reconcile between steps must not reset traffic.
    reconcile: async c => proxy.setRoutes(c, (await ownProxy(kube, c)) ? await proxy.getRoutes(c) : { primary: 100, canary: 0 }),
    setRoutes: async (c, w) => { await ownProxy(kube, c); await kube.apply(httpProxy(c, w)) },
    getRoutes: async c => httpProxyWeights(c, await stored(c)),
    finalize: c => deleteGenerated(kube, c, httpProxyRef(c)),
  }
  return refusingForeign(kube, proxy, async c => { await ownProxy(kube, c) })
}
