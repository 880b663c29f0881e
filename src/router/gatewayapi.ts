// Gateway API: one HTTPRoute `<svc>` attached to service.gatewayRefs. rules[0] carries the matches and
// the weighted primary/canary backendRefs; for A/B it carries analysis.match and a last rule sends
// everything else to the primary.
import type { Canary, HeaderOperations, HttpMatch, HttpRewrite } from '../api/types.ts'
import { generatedMeta, namespaceOf, type GeneratedMeta } from '../kube/generated.ts'
import { serviceName } from './services.ts'
import type { Router, RouteWeights } from './router.ts'
import type { KubeObject, ObjectRef, ApplyClient } from '../kube/apply.ts'
import { canaryServiceName, primaryServiceName } from './services.ts'
import { cookieRegex, escapeRegex, sessionCookies, type StickyCookie } from './cookies.ts'

export const GATEWAY_GROUP = 'gateway.networking.k8s.io'
export type GatewayApiVersion = 'v1' | 'v1beta1'

export interface HTTPHeaderMatch { type: 'Exact' | 'RegularExpression'; name: string; value: string }
export interface HTTPRouteMatch {
  path?: { type: 'Exact' | 'PathPrefix' | 'RegularExpression'; value: string }
  headers?: HTTPHeaderMatch[]
  queryParams?: HTTPHeaderMatch[]
  method?: string
}
export interface HTTPBackendRef { group: ''; kind: 'Service'; name: string; port: number; weight: number; filters?: Record<string, unknown>[] }
export interface HTTPRouteRule {
  matches: HTTPRouteMatch[]
  filters?: Record<string, unknown>[]
  backendRefs: HTTPBackendRef[]
  timeouts?: { request: string }
}
export interface HTTPRouteObject {
  apiVersion: string
  kind: 'HTTPRoute'
  metadata: GeneratedMeta
  spec: { parentRefs: Record<string, unknown>[]; hostnames?: string[]; rules: HTTPRouteRule[] }
  [key: string]: unknown
}

export function httpRouteRef(c: Canary, version: GatewayApiVersion): ObjectRef {
  return { apiVersion: `${GATEWAY_GROUP}/${version}`, kind: 'HTTPRoute', namespace: namespaceOf(c), name: serviceName(c) }
}

const DEFAULT_MATCH: HTTPRouteMatch = { path: { type: 'PathPrefix', value: '/' } }

// Istio-style string matches (exact/regex/prefix) as Gateway API matches; Gateway API has no prefix
// for headers or query parameters, so a prefix becomes an anchored regular expression.
function stringMatch(name: string, m: Record<string, unknown>): HTTPHeaderMatch | undefined {
  if (typeof m.exact === 'string') return { type: 'Exact', name, value: m.exact }
  if (typeof m.regex === 'string') return { type: 'RegularExpression', name, value: m.regex }
  if (typeof m.prefix === 'string') return { type: 'RegularExpression', name, value: `^${escapeRegex(m.prefix)}` }
  return undefined
}

function headerMatch(name: string, m: Record<string, unknown>): HTTPHeaderMatch | undefined {
  if (name.toLowerCase() !== 'cookie') return stringMatch(name, m)
  if (typeof m.exact === 'string') return { type: 'RegularExpression', name: 'Cookie', value: cookieRegex(m.exact) }
  const r = stringMatch('Cookie', m)
  return r && { ...r, type: 'RegularExpression', value: r.type === 'Exact' ? `^${escapeRegex(r.value)}$` : r.value }
}

function mapEntries(obj: unknown, f: (name: string, m: Record<string, unknown>) => HTTPHeaderMatch | undefined): HTTPHeaderMatch[] {
  const out: HTTPHeaderMatch[] = []
  for (const [name, m] of Object.entries((obj ?? {}) as Record<string, Record<string, unknown>>)) {
    const r = f(name, m ?? {})
    if (r) out.push(r)
  }
  return out
}

/** One Istio-shaped HttpMatch (uri, headers, queryParams, method) as a Gateway API HTTPRouteMatch. */
export function routeMatch(m: HttpMatch): HTTPRouteMatch {
  const out: HTTPRouteMatch = {}
  const uri = m.uri as Record<string, unknown> | undefined
  if (uri) {
    if (typeof uri.exact === 'string') out.path = { type: 'Exact', value: uri.exact }
    else if (typeof uri.prefix === 'string') out.path = { type: 'PathPrefix', value: uri.prefix }
    else if (typeof uri.regex === 'string') out.path = { type: 'RegularExpression', value: uri.regex }
  }
  const headers = mapEntries(m.headers, headerMatch)
  if (headers.length) out.headers = headers
  const query = mapEntries(m.queryParams, stringMatch)
  if (query.length) out.queryParams = query
  const method = (m.method as Record<string, unknown> | undefined)?.exact
  if (typeof method === 'string') out.method = method.toUpperCase()
  return out
}

/** Each analysis match combined with each service match (fields of the analysis match added to the service's). */
export function mergeMatches(service: readonly HttpMatch[] | undefined, analysis: readonly HttpMatch[]): HTTPRouteMatch[] {
  const base = service?.length ? service.map(routeMatch) : [DEFAULT_MATCH]
  const out: HTTPRouteMatch[] = []
  for (const b of base) {
    for (const a of analysis.map(routeMatch)) {
      const m: HTTPRouteMatch = { ...b, ...a }
      if (b.headers || a.headers) m.headers = [...(b.headers ?? []), ...(a.headers ?? [])]
      if (b.queryParams || a.queryParams) m.queryParams = [...(b.queryParams ?? []), ...(a.queryParams ?? [])]
      if (!m.path) m.path = DEFAULT_MATCH.path!
      out.push(m)
    }
  }
  return out
}

function headerModifier(ops: HeaderOperations | undefined, type: 'RequestHeaderModifier' | 'ResponseHeaderModifier'): Record<string, unknown> | undefined {
  if (!ops || !(ops.set || ops.add || ops.remove)) return undefined
  const pairs = (r: Record<string, string>): { name: string; value: string }[] => Object.entries(r).map(([name, value]) => ({ name, value }))
  const mod: Record<string, unknown> = {}
  if (ops.set) mod.set = pairs(ops.set)
  if (ops.add) mod.add = pairs(ops.add)
  if (ops.remove) mod.remove = ops.remove
  return { type, [type === 'RequestHeaderModifier' ? 'requestHeaderModifier' : 'responseHeaderModifier']: mod }
}

// Flagger's rewrite.type names the Gateway API path modifier: ReplacePrefixMatch (the default) or ReplaceFullPath.
function urlRewrite(rw: HttpRewrite | undefined): Record<string, unknown> | undefined {
  if (!rw?.uri && !rw?.authority) return undefined
  const out: Record<string, unknown> = {}
  if (rw.authority) out.hostname = rw.authority
  if (rw.uri) {
    out.path = rw.type === 'ReplaceFullPath'
      ? { type: 'ReplaceFullPath', replaceFullPath: rw.uri }
      : { type: 'ReplacePrefixMatch', replacePrefixMatch: rw.uri }
  }
  return { type: 'URLRewrite', urlRewrite: out }
}

function filters(c: Canary, w: RouteWeights, port: number): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = []
  const headers = c.spec.service.headers
  for (const f of [
    headerModifier(headers?.request, 'RequestHeaderModifier'),
    headerModifier(headers?.response, 'ResponseHeaderModifier'),
    urlRewrite(c.spec.service.rewrite),
  ]) if (f) out.push(f)
  if (w.mirror) {
    // mirrorWeight as the filter's percent (Gateway API v1.3+); unset, every request is copied, as on istio.
    const percent = c.spec.analysis?.mirrorWeight
    out.push({ type: 'RequestMirror', requestMirror: { backendRef: { name: canaryServiceName(c), port }, ...(percent !== undefined && { percent }) } })
  }
  return out
}

function rule(c: Canary, matches: HTTPRouteMatch[], backendRefs: HTTPBackendRef[], extra: Record<string, unknown>[]): HTTPRouteRule {
  const r: HTTPRouteRule = { matches, backendRefs }
  if (extra.length) r.filters = extra
  if (c.spec.service.timeout) r.timeouts = { request: c.spec.service.timeout }
  return r
}

/** A ResponseHeaderModifier adding Set-Cookie, merged into one already there (the API allows one per rule). */
function withSetCookie(fs: Record<string, unknown>[], setCookie: string): Record<string, unknown>[] {
  const header = { name: 'Set-Cookie', value: setCookie }
  const at = fs.findIndex(f => f.type === 'ResponseHeaderModifier')
  if (at < 0) return [...fs, { type: 'ResponseHeaderModifier', responseHeaderModifier: { add: [header] } }]
  const mod = fs[at]!.responseHeaderModifier as { add?: unknown[] }
  return fs.map((f, i) => (i === at ? { ...f, responseHeaderModifier: { ...mod, add: [...(mod.add ?? []), header] } } : f))
}

/**
 * Session affinity (cookies.ts): the weighted split's backends hand out the release's cookies, and a rule per
 * cookie routes the requests that carry it. Those rules come after rules[0]: with one header match more than
 * it, they take precedence over it whatever their place (Gateway API orders rules by their matches).
 */
function sessionAffinity(c: Canary, w: RouteWeights, split: HTTPBackendRef[]): { split: HTTPBackendRef[]; rules: HTTPRouteRule[] } {
  const cookies = sessionCookies(c)
  if (!cookies) return { split, rules: [] }
  const base = filters(c, { ...w, mirror: false }, c.spec.service.port)
  const byCookie = (k: StickyCookie): HTTPRouteMatch[] => mergeMatches(c.spec.service.match, [{ headers: { Cookie: { regex: k.match } } }])
  const only = (b: HTTPBackendRef | undefined): HTTPBackendRef[] => (b ? [{ ...b, weight: 100 }] : [])
  const [primary, canary] = split
  const rules: HTTPRouteRule[] = []
  if (cookies.canary) rules.push(rule(c, byCookie(cookies.canary), only(canary), base))
  if (cookies.primary) rules.push(rule(c, byCookie(cookies.primary), only(primary), base))
  if (cookies.expired) rules.push(rule(c, byCookie(cookies.expired), split, withSetCookie(base, cookies.expired.setCookie)))
  const handing = (b: HTTPBackendRef, k: StickyCookie | undefined): HTTPBackendRef => (k ? { ...b, filters: withSetCookie([], k.setCookie) } : b)
  return { split: [handing(primary!, cookies.primary), handing(canary!, cookies.canary)], rules }
}

/** The HTTPRoute `<svc>` for weights `w`. */
export function httpRoute(c: Canary, w: RouteWeights, version: GatewayApiVersion = 'v1'): HTTPRouteObject {
  const s = c.spec.service
  if (!s.gatewayRefs?.length) {
    throw new Error(`Canary ${namespaceOf(c)}/${c.metadata.name ?? ''}: provider gatewayapi needs spec.service.gatewayRefs (the Gateway the HTTPRoute attaches to)`)
  }
  const port = s.port
  const backend = (name: string, weight: number): HTTPBackendRef => ({ group: '', kind: 'Service', name, port, weight })
  const split = [backend(primaryServiceName(c), w.primary), backend(canaryServiceName(c), w.canary)]
  const abMatch = c.spec.analysis?.match
  const serviceMatches = s.match?.length ? s.match.map(routeMatch) : [DEFAULT_MATCH]
  const rules = abMatch?.length
    ? [rule(c, mergeMatches(s.match, abMatch), split, filters(c, w, port)),
      rule(c, serviceMatches, [backend(primaryServiceName(c), 100)], filters(c, { ...w, mirror: false }, port))]
    : weightedRules(c, w, serviceMatches, split)
  const spec: HTTPRouteObject['spec'] = { parentRefs: s.gatewayRefs.map(r => ({ ...r })), rules }
  if (s.hosts?.length) spec.hostnames = [...s.hosts]
  return { apiVersion: `${GATEWAY_GROUP}/${version}`, kind: 'HTTPRoute', metadata: generatedMeta(c, serviceName(c)), spec }
}

function weightedRules(c: Canary, w: RouteWeights, matches: HTTPRouteMatch[], split: HTTPBackendRef[]): HTTPRouteRule[] {
  const sticky = sessionAffinity(c, w, split)
  return [rule(c, matches, sticky.split, filters(c, w, c.spec.service.port)), ...sticky.rules]
}

/** Weights from a stored HTTPRoute: rules[0]'s primary and canary backendRefs (a missing weight is 1, as the API defines). */
export function routeWeights(c: Canary, route: KubeObject): RouteWeights {
  const rules = (route.spec as { rules?: { backendRefs?: { name?: string; weight?: number }[]; filters?: { type?: string }[] }[] } | undefined)?.rules
  const first = rules?.[0]
  const weightOf = (name: string): number | undefined => {
    const b = first?.backendRefs?.find(r => r.name === name)
    return b ? (b.weight ?? 1) : undefined
  }
  const primary = weightOf(primaryServiceName(c))
  const canary = weightOf(canaryServiceName(c))
  if (primary === undefined || canary === undefined) {
    throw new Error(`HTTPRoute ${namespaceOf(c)}/${serviceName(c)}: rules[0] does not route to both ${primaryServiceName(c)} and ${canaryServiceName(c)}`)
  }
  const w: RouteWeights = { primary, canary }
  if (first?.filters?.some(f => f.type === 'RequestMirror')) w.mirror = true
  return w
}

export function gatewayApiRouter(kube: ApplyClient, version: GatewayApiVersion): Router {
  const ref = (c: Canary): ObjectRef => httpRouteRef(c, version)
  return {
    async reconcile(c) {
      const existing = await kube.get(ref(c))
      // Keep the weights already routed: a reconcile between steps must not reset traffic.
      let w: RouteWeights = { primary: 100, canary: 0 }
      if (existing) {
        try { w = routeWeights(c, existing) } catch { /* not ours yet: start at 100/0 */ }
      }
      await kube.apply(httpRoute(c, w, version))
    },
    async setRoutes(c, w) { await kube.apply(httpRoute(c, w, version)) },
    async getRoutes(c) {
      const route = await kube.get(ref(c))
      if (!route) throw new Error(`Canary ${namespaceOf(c)}/${c.metadata.name ?? ''}: HTTPRoute ${serviceName(c)} not found; reconcile first`)
      return routeWeights(c, route)
    },
    async finalize(c) { await kube.delete(ref(c)) },
  }
}
