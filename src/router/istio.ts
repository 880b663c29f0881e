// Istio: a VirtualService `<svc>` whose http[0] splits between the `<svc>-primary` and `<svc>-canary`
// Services, and a DestinationRule for each (carrying service.trafficPolicy), as Flagger writes them. For A/B,
// http[0] carries analysis.match (merged with service.match) and http[1] sends everything else to the primary.
// Objects with these names that sluice did not create for this Canary are refused, never overwritten.
// A port whose service.appProtocol is tcp gets a weighted tcp route instead (validation refuses the HTTP-only
// options with it); service.delegation writes a delegate (no hosts, no gateways) for the user's root VirtualService.
import type { Canary, HttpMatch } from '../api/types.ts'
import { generatedMeta, namespaceOf, type GeneratedMeta } from '../kube/generated.ts'
import { cookieRegex } from './cookies.ts'
import { sessionCookies, type StickyCookie } from './cookies.ts'
import { canaryServiceName, primaryServiceName, serviceName } from './services.ts'
import type { Router, RouteWeights } from './router.ts'
import { deleteGenerated, refuseForeign, refusingForeign, storedWeights } from './foreign.ts'
import type { KubeObject, ObjectRef, ApplyClient } from '../kube/apply.ts'

export const ISTIO_API_VERSION = 'networking.istio.io/v1'

export interface IstioDestination { destination: { host: string; port: { number: number } }; weight: number; headers?: Record<string, unknown> }
export interface IstioHttpRoute {
  name?: string
  match?: HttpMatch[]
  route: IstioDestination[]
  timeout?: string
  retries?: Record<string, unknown>
  headers?: Record<string, unknown>
  corsPolicy?: Record<string, unknown>
  rewrite?: { uri?: string; authority?: string }
  mirror?: { host: string; port: { number: number } }
  mirrorPercentage?: { value: number }
}
export interface VirtualServiceObject {
  apiVersion: typeof ISTIO_API_VERSION
  kind: 'VirtualService'
  metadata: GeneratedMeta
  spec: { hosts?: string[]; gateways?: string[]; http: IstioHttpRoute[] }
  [key: string]: unknown
}
export interface TcpVirtualServiceObject extends Omit<VirtualServiceObject, 'spec'> {
  spec: { hosts?: string[]; gateways?: string[]; tcp: { route: IstioDestination[] }[] }
}
export interface DestinationRuleObject {
  apiVersion: typeof ISTIO_API_VERSION
  kind: 'DestinationRule'
  metadata: GeneratedMeta
  spec: { host: string; trafficPolicy?: Record<string, unknown> }
  [key: string]: unknown
}

const ref = (c: Canary, kind: 'VirtualService' | 'DestinationRule', name: string): ObjectRef =>
  ({ apiVersion: ISTIO_API_VERSION, kind, namespace: namespaceOf(c), name })

export const virtualServiceRef = (c: Canary): ObjectRef => ref(c, 'VirtualService', serviceName(c))
export const destinationRuleRefs = (c: Canary): ObjectRef[] =>
  [ref(c, 'DestinationRule', primaryServiceName(c)), ref(c, 'DestinationRule', canaryServiceName(c))]

/** The DestinationRule for one side's Service, with the Canary's trafficPolicy. */
export function destinationRule(c: Canary, host: string): DestinationRuleObject {
  const spec: DestinationRuleObject['spec'] = { host }
  if (c.spec.service.trafficPolicy) spec.trafficPolicy = structuredClone(c.spec.service.trafficPolicy)
  return { apiVersion: ISTIO_API_VERSION, kind: 'DestinationRule', metadata: generatedMeta(c, host), spec }
}

/**
 * An analysis match as Istio matches it. A `cookie` header with an exact value names a cookie that routes when
 * it is "always", as on the nginx and gatewayapi routers; every other condition is Istio's own and passes unchanged.
 */
export function istioMatch(m: HttpMatch): HttpMatch {
  const out = structuredClone(m)
  const headers = out.headers as Record<string, Record<string, unknown>> | undefined
  for (const [name, h] of Object.entries(headers ?? {})) {
    if (name.toLowerCase() === 'cookie' && typeof h?.exact === 'string') headers![name] = { regex: cookieRegex(h.exact) }
  }
  return out
}

function mergeMaps(a: unknown, b: unknown): Record<string, unknown> | undefined {
  return a || b ? { ...(a as Record<string, unknown> | undefined), ...(b as Record<string, unknown> | undefined) } : undefined
}

/**
 * Each analysis match combined with each service match: the analysis match's fields added to the service's
 * (headers and queryParams merged by name), so the A/B route only takes requests the service routes at all.
 */
export function mergeIstioMatches(service: readonly HttpMatch[] | undefined, analysis: readonly HttpMatch[]): HttpMatch[] {
  if (!service?.length) return analysis.map(istioMatch)
  const out: HttpMatch[] = []
  for (const s of service) {
    for (const a of analysis.map(istioMatch)) {
      const m: HttpMatch = structuredClone({ ...s, ...a })
      const headers = mergeMaps(s.headers, a.headers)
      if (headers) m.headers = structuredClone(headers)
      const query = mergeMaps(s.queryParams, a.queryParams)
      if (query) m.queryParams = structuredClone(query)
      out.push(m)
    }
  }
  return out
}

/** The options of service that every http route carries (timeout, retries, headers, corsPolicy, rewrite). */
function routeOptions(c: Canary): Omit<IstioHttpRoute, 'route' | 'match'> {
  const s = c.spec.service
  const o: Omit<IstioHttpRoute, 'route' | 'match'> = {}
  if (s.timeout) o.timeout = s.timeout
  if (s.retries) o.retries = structuredClone(s.retries) as Record<string, unknown>
  if (s.headers) o.headers = structuredClone(s.headers) as Record<string, unknown>
  if (s.corsPolicy) o.corsPolicy = structuredClone(s.corsPolicy)
  // rewrite.type names a Gateway API path modifier; Istio's rewrite.uri is the prefix replacement.
  if (s.rewrite?.uri || s.rewrite?.authority) {
    o.rewrite = {}
    if (s.rewrite.uri) o.rewrite.uri = s.rewrite.uri
    if (s.rewrite.authority) o.rewrite.authority = s.rewrite.authority
  }
  return o
}

function httpRoute(match: readonly HttpMatch[] | undefined, route: IstioDestination[], options: Omit<IstioHttpRoute, 'route' | 'match'>): IstioHttpRoute {
  const r: IstioHttpRoute = { ...structuredClone(options), route }
  if (match?.length) r.match = match.map(m => structuredClone(m))
  return r
}

/** The hosts of the VirtualService: service.hosts, and the apex Service so that mesh traffic to it is routed too. */
export function virtualServiceHosts(c: Canary): string[] {
  const hosts = [...(c.spec.service.hosts ?? [])]
  if (!hosts.includes(serviceName(c)) && !hosts.includes('*')) hosts.push(serviceName(c))
  return hosts
}

/** The names of the session-affinity routes, ahead of the weighted one (Istio takes the first route that matches). */
export const STICKY_ROUTES = { canary: 'sticky-canary', primary: 'sticky-primary', expired: 'sticky-expired' } as const
const STICKY_NAMES: ReadonlySet<string | undefined> = new Set(Object.values(STICKY_ROUTES))

const addSetCookie = (headers: Record<string, unknown> | undefined, value: string): Record<string, unknown> => {
  const response = (headers?.response ?? {}) as { add?: Record<string, string> }
  return { ...headers, response: { ...response, add: { ...response.add, 'Set-Cookie': value } } }
}

/**
 * Session affinity (cookies.ts): the split's destinations hand out the release's cookies (each destination's
 * own response headers), and a named route per cookie, ahead of the split, routes the requests that carry it.
 */
function stickyRoutes(c: Canary, split: IstioDestination[], options: Omit<IstioHttpRoute, 'route' | 'match'>): { split: IstioDestination[]; routes: IstioHttpRoute[] } {
  const cookies = sessionCookies(c)
  if (!cookies) return { split, routes: [] }
  const [primary, canary] = split as [IstioDestination, IstioDestination]
  const route = (name: string, k: StickyCookie, to: IstioDestination[], extra = options): IstioHttpRoute =>
    ({ name, ...httpRoute(mergeIstioMatches(c.spec.service.match, [{ headers: { Cookie: { regex: k.match } } }]), to, extra) })
  const routes: IstioHttpRoute[] = []
  if (cookies.canary) routes.push(route(STICKY_ROUTES.canary, cookies.canary, [{ ...canary, weight: 100 }]))
  if (cookies.primary) routes.push(route(STICKY_ROUTES.primary, cookies.primary, [{ ...primary, weight: 100 }]))
  if (cookies.expired) {
    routes.push(route(STICKY_ROUTES.expired, cookies.expired, structuredClone(split), { ...options, headers: addSetCookie(options.headers, cookies.expired.setCookie) }))
  }
  const handing = (d: IstioDestination, k: StickyCookie | undefined): IstioDestination => (k ? { ...d, headers: addSetCookie(undefined, k.setCookie) } : d)
  return { split: [handing(primary, cookies.primary), handing(canary, cookies.canary)], routes }
}

/** The VirtualService `<svc>` for weights `w`. */

/** Whether the Canary's port carries plain TCP (service.appProtocol tcp, as Flagger reads it): a tcp route, not an http one. */
export function isTcp(c: Canary): boolean {
  return c.spec.service.appProtocol?.toLowerCase() === 'tcp'
}

// Where the VirtualService applies: none for a delegate, which the user's root VirtualService names instead.
function addressing(c: Canary): Pick<VirtualServiceObject['spec'], 'hosts' | 'gateways'> {
  const s = c.spec.service
  if (s.delegation) return {}
  return { hosts: virtualServiceHosts(c), gateways: s.gateways?.length ? [...s.gateways] : ['mesh'] }
}

function split(c: Canary, w: RouteWeights): IstioDestination[] {
  const port = { number: c.spec.service.port }
  return [{ destination: { host: primaryServiceName(c), port }, weight: w.primary }, { destination: { host: canaryServiceName(c), port }, weight: w.canary }]
}

/** The VirtualService `<svc>` of a tcp port for weights `w`: one weighted tcp route (no match: the Service's one port). */
export function tcpVirtualService(c: Canary, w: RouteWeights): TcpVirtualServiceObject {
  const metadata = generatedMeta(c, serviceName(c), c.spec.service.apex ?? {})
  return { apiVersion: ISTIO_API_VERSION, kind: 'VirtualService', metadata, spec: { ...addressing(c), tcp: [{ route: split(c, w) }] } }
}

/** The VirtualService `<svc>` sluice writes for weights `w`: tcp or http by the port's appProtocol. */
export function routedVirtualService(c: Canary, w: RouteWeights): VirtualServiceObject | TcpVirtualServiceObject {
  return isTcp(c) ? tcpVirtualService(c, w) : virtualService(c, w)
}

/** The VirtualService `<svc>` of an http port for weights `w`. */
export function virtualService(c: Canary, w: RouteWeights): VirtualServiceObject {
  const s = c.spec.service
  const dest = (host: string, weight: number): IstioDestination => ({ destination: { host, port: { number: s.port } }, weight })
  const metadata = generatedMeta(c, serviceName(c), s.apex ?? {})
  const options = routeOptions(c)
  const first = { ...options }
  if (w.mirror) {
    first.mirror = { host: canaryServiceName(c), port: { number: s.port } }
    const pct = c.spec.analysis?.mirrorWeight
    if (pct !== undefined) first.mirrorPercentage = { value: pct }
  }
  const abMatch = c.spec.analysis?.match
  const http = abMatch?.length
    ? [httpRoute(mergeIstioMatches(s.match, abMatch), split(c, w), first), httpRoute(s.match, [dest(primaryServiceName(c), 100)], options)]
    : weightedRoutes(c, split(c, w), first, options)
  return { apiVersion: ISTIO_API_VERSION, kind: 'VirtualService', metadata, spec: { ...addressing(c), http } }
}

function weightedRoutes(c: Canary, split: IstioDestination[], first: Omit<IstioHttpRoute, 'route' | 'match'>, options: Omit<IstioHttpRoute, 'route' | 'match'>): IstioHttpRoute[] {
  const sticky = stickyRoutes(c, split, options)
  return [...sticky.routes, httpRoute(c.spec.service.match, sticky.split, first)]
}

/** Weights from a stored VirtualService: the first http route's after the session-affinity ones (tcp[0]'s for a tcp port), its primary and canary destinations (a missing weight is 0). */
export function virtualServiceWeights(c: Canary, vs: KubeObject): RouteWeights {
  type Stored = { name?: string; route?: { destination?: { host?: string }; weight?: number }[]; mirror?: unknown }[]
  const spec = vs.spec as { http?: Stored; tcp?: Stored } | undefined
  const tcp = isTcp(c)
  const first = tcp ? spec?.tcp?.[0] : spec?.http?.find(r => !STICKY_NAMES.has(r.name))
  const weightOf = (host: string): number | undefined => {
    const d = first?.route?.find(r => r.destination?.host === host)
    return d ? (d.weight ?? 0) : undefined
  }
  const primary = weightOf(primaryServiceName(c))
  const canary = weightOf(canaryServiceName(c))
  if (primary === undefined || canary === undefined) {
    throw new Error(`VirtualService ${namespaceOf(c)}/${serviceName(c)}: ${tcp ? 'tcp' : 'http'}[0] does not route to both ${primaryServiceName(c)} and ${canaryServiceName(c)}`)
  }
  const w: RouteWeights = { primary, canary }
  if (first?.mirror) w.mirror = true
  return w
}

const ISTIO_WRITES = 'VirtualService and DestinationRules with these names'

/** Throws when the VirtualService or a DestinationRule of `c` exists and was not generated for it. */
async function refuseForeignObjects(kube: ApplyClient, c: Canary): Promise<void> {
  for (const r of [virtualServiceRef(c), ...destinationRuleRefs(c)]) refuseForeign(c, await kube.get(r), ISTIO_WRITES)
}

/** The istio objects alone (the Services are withServices' part). */
export function istioRoutes(kube: ApplyClient): Router {
  return {
    async reconcile(c) {
      await refuseForeignObjects(kube, c)
      const existing = await kube.get(virtualServiceRef(c))
      const rules = destinationRuleRefs(c)
      // Rules before the VirtualService, so that no route names a host without its traffic policy.
      for (const r of rules) await kube.apply(destinationRule(c, r.name))
      // Keep the weights already routed: a reconcile between steps must not reset traffic.
      const w = existing ? virtualServiceWeights(c, existing) : { primary: 100, canary: 0 }
      await kube.apply(routedVirtualService(c, w))
    },
    async setRoutes(c, w) {
      refuseForeign(c, await kube.get(virtualServiceRef(c)), ISTIO_WRITES)
      await kube.apply(routedVirtualService(c, w))
    },
    getRoutes: c => storedWeights(kube, c, virtualServiceRef(c), virtualServiceWeights),
    async finalize(c) {
      // The VirtualService first: the rules it routes through stay until nothing names them.
      for (const r of [virtualServiceRef(c), ...destinationRuleRefs(c)]) await deleteGenerated(kube, c, r)
    },
  }
}

/** The istio router: the Services and the istio objects, refusing foreign objects before anything is written. */
export function istioRouter(kube: ApplyClient): Router {
  return refusingForeign(kube, istioRoutes(kube), c => refuseForeignObjects(kube, c))
}
