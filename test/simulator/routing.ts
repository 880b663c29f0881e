// How an app's requests split between primary and canary: the routed share read from the router
// objects as sluice stored them, then readiness (a side without ready pods serves nothing). Pure.
import { CANARY, CANARY_BY_COOKIE, CANARY_BY_HEADER, CANARY_WEIGHT, NGINX_PREFIX } from '../../src/router/nginx.ts'
import { apexSide } from '../../src/router/services.ts'
import { selectorLabel } from '../../src/api/selector.ts'

/** The fraction of requests that carry the A/B header (or cookie) when a router routes by it. */
export const DEFAULT_AB_FRACTION = 0.1

const CANARY_WEIGHT_TOTAL = `${NGINX_PREFIX}/canary-weight-total`

export interface Shares {
  readonly primary: number
  readonly canary: number
}

function clamp01(n: number): number {
  return Number.isFinite(n) ? Math.min(1, Math.max(0, n)) : 0
}

/**
 * The canary's share under a stored nginx canary Ingress. As nginx does, a request with the header or
 * cookie goes to the canary and the rest follow canary-weight (of canary-weight-total, default 100).
 */
export function nginxCanaryShare(annotations: Readonly<Record<string, string>> | undefined, abFraction = DEFAULT_AB_FRACTION): number {
  const a = annotations ?? {}
  if (a[CANARY] !== 'true') return 0
  const total = Number(a[CANARY_WEIGHT_TOTAL] ?? '100')
  const weight = clamp01(Number(a[CANARY_WEIGHT] ?? '0') / (total > 0 ? total : 100))
  if (!a[CANARY_BY_HEADER] && !a[CANARY_BY_COOKIE]) return weight
  return abFraction + (1 - abFraction) * weight
}

interface RouteMatch { headers?: unknown[]; queryParams?: unknown[] }
interface RouteBackend { name?: string; kind?: string; weight?: number }
interface RouteMirror { backendRef?: { name?: string; kind?: string }; percent?: number; fraction?: { numerator?: number; denominator?: number } }
interface RouteRule { matches?: RouteMatch[]; backendRefs?: RouteBackend[]; filters?: { type?: string; requestMirror?: RouteMirror }[] }

export interface SideNames {
  readonly primary: string
  readonly canary: string
}

// A rule is taken only by the A/B requests when every match needs a header or query parameter;
// path and method matches are assumed to let every simulated request through.
function conditional(r: RouteRule): boolean {
  const matches = r.matches ?? []
  return matches.length > 0 && matches.every(m => (m.headers?.length ?? 0) > 0 || (m.queryParams?.length ?? 0) > 0)
}

// The canary's part of the rule's weight over the two side Services (a missing weight is 1, as the
// API defines); undefined when the rule routes to neither.
function ruleShare(r: RouteRule, names: SideNames): number | undefined {
  let primary = 0
  let canary = 0
  for (const b of r.backendRefs ?? []) {
    if ((b.kind ?? 'Service') !== 'Service') continue
    const w = b.weight ?? 1
    if (b.name === names.primary) primary += w
    else if (b.name === names.canary) canary += w
  }
  return primary + canary > 0 ? canary / (primary + canary) : undefined
}

/** The fraction of a mirror filter's requests that are copied: percent, or fraction (denominator 100 by default); all when neither. */
function mirrorFraction(m: RouteMirror): number {
  if (m.percent !== undefined) return clamp01(m.percent / 100)
  if (m.fraction?.numerator !== undefined) return clamp01(m.fraction.numerator / (m.fraction.denominator || 100))
  return 1
}

// The fraction of a rule's requests copied to the canary Service by its RequestMirror filters.
function ruleMirror(r: RouteRule, names: SideNames): number {
  let out = 0
  for (const f of r.filters ?? []) {
    const m = f.type === 'RequestMirror' ? f.requestMirror : undefined
    if (m && (m.backendRef?.kind ?? 'Service') === 'Service' && m.backendRef?.name === names.canary) out = Math.max(out, mirrorFraction(m))
  }
  return out
}

/**
 * The fraction of all requests copied to the canary under a stored HTTPRoute spec: the mirror of the rule that
 * takes the plain requests, and for A/B the mirror of the header rule for that fraction. The copies' answers are
 * dropped, so the routed shares do not change.
 */
export function httpRouteMirrorShare(spec: unknown, names: SideNames, abFraction = DEFAULT_AB_FRACTION): number {
  const rules = ((spec as { rules?: RouteRule[] } | undefined)?.rules ?? []).filter(r => ruleShare(r, names) !== undefined)
  const plain = rules.find(r => !conditional(r))
  const byHeader = rules.find(r => conditional(r))
  const plainMirror = plain ? ruleMirror(plain, names) : 0
  return byHeader ? abFraction * ruleMirror(byHeader, names) + (1 - abFraction) * plainMirror : plainMirror
}

/** The canary's share under a stored HTTPRoute spec: the plain rule's split, and for A/B the header rule's for that fraction. */
export function httpRouteCanaryShare(spec: unknown, names: SideNames, abFraction = DEFAULT_AB_FRACTION): number {
  const rules = (spec as { rules?: RouteRule[] } | undefined)?.rules ?? []
  let plain: number | undefined
  let byHeader: number | undefined
  for (const r of rules) {
    const share = ruleShare(r, names)
    if (share === undefined) continue
    if (conditional(r)) byHeader ??= share
    else plain ??= share
  }
  return byHeader === undefined ? plain ?? 0 : abFraction * byHeader + (1 - abFraction) * (plain ?? 0)
}

interface VirtualServiceRoute { destination?: { host?: string }; weight?: number; headers?: { response?: { add?: Record<string, string> } } }
interface VirtualServiceHttp {
  match?: { headers?: Record<string, { exact?: string; prefix?: string; regex?: string }>; queryParams?: object }[]
  route?: VirtualServiceRoute[]
  mirror?: { host?: string }
  mirrorPercentage?: { value?: number }
}

const nonEmpty = (o: object | undefined): boolean => Object.keys(o ?? {}).length > 0

/** The cookie (name=value) a client keeps from the canary's responses: the Set-Cookie its destination adds. */
function canaryCookie(http: readonly VirtualServiceHttp[], canary: string): string | undefined {
  for (const h of http) {
    const set = h.route?.find(r => r.destination?.host === canary)?.headers?.response?.add?.['Set-Cookie']
    if (set) return set.split(';')[0]
  }
  return undefined
}

// Whether a request whose only header is `Cookie: cookie` meets one of the route's matches, as Envoy would
// (a regex matches the whole value); path and method are assumed to let it through.
function takesCookie(h: VirtualServiceHttp, cookie: string): boolean {
  return (h.match ?? []).some(m => nonEmpty(m.headers) && !nonEmpty(m.queryParams) && Object.entries(m.headers!).every(([name, s]) => {
    if (name.toLowerCase() !== 'cookie') return false
    if (s.exact !== undefined) return cookie === s.exact
    if (s.prefix !== undefined) return cookie.startsWith(s.prefix)
    return s.regex !== undefined && new RegExp(`^(?:${s.regex})$`).test(cookie)
  }))
}

/**
 * Session affinity: the A/B fraction of requests comes from clients that keep the cookie the canary hands out
 * and send it back; they take the first route that matches it (its split), everyone else the first plain route.
 */
function stickyCanaryShare(http: readonly VirtualServiceHttp[], rules: readonly RouteRule[], names: SideNames, abFraction: number): number | undefined {
  const cookie = canaryCookie(http, names.canary)
  if (cookie === undefined) return undefined
  const plain = rules.filter(r => !conditional(r)).map(r => ruleShare(r, names)).find(s => s !== undefined) ?? 0
  const at = http.findIndex(h => takesCookie(h, cookie))
  const sticky = at < 0 ? plain : ruleShare(rules[at]!, names) ?? plain
  return abFraction * sticky + (1 - abFraction) * plain
}

/**
 * The canary's share under a stored VirtualService spec, as for an HTTPRoute: the first plain http route's
 * split, and for A/B the first header route's for that fraction. A lone destination without a weight takes
 * all (Istio's default); among several, a missing weight is 0. With session affinity, see stickyCanaryShare.
 */
export function virtualServiceCanaryShare(spec: unknown, names: SideNames, abFraction = DEFAULT_AB_FRACTION): number {
  const { http, rules } = asHttpRoute(spec)
  return stickyCanaryShare(http, rules, names, abFraction) ?? httpRouteCanaryShare({ rules }, names, abFraction)
}

/** The fraction of all requests an http route's mirror copies to the canary, honouring mirrorPercentage (100 when unset). */
export function virtualServiceMirrorShare(spec: unknown, names: SideNames, abFraction = DEFAULT_AB_FRACTION): number {
  return httpRouteMirrorShare({ rules: asHttpRoute(spec).rules }, names, abFraction)
}

// A VirtualService's http routes, and the same as HTTPRoute rules, which the shares above are computed on.
function asHttpRoute(spec: unknown): { http: VirtualServiceHttp[]; rules: RouteRule[] } {
  const stored = spec as { http?: VirtualServiceHttp[]; tcp?: VirtualServiceHttp[] } | undefined
  // A tcp port's routes split connections the same way; the simulator counts them as requests.
  const http: VirtualServiceHttp[] = [...stored?.http ?? [], ...(stored?.tcp ?? []).map(r => ({ route: r.route ?? [] }))]
  const rules: RouteRule[] = http.map(h => ({
    matches: (h.match ?? []).map(m => ({
      ...(nonEmpty(m.headers) && { headers: Object.keys(m.headers!) }),
      ...(nonEmpty(m.queryParams) && { queryParams: Object.keys(m.queryParams!) }),
    })),
    backendRefs: (h.route ?? []).map(r => ({ name: r.destination?.host, weight: r.weight ?? ((h.route?.length ?? 0) === 1 ? 100 : 0) })),
    ...(h.mirror && { filters: [{ type: 'RequestMirror', requestMirror: { backendRef: { name: h.mirror.host }, percent: h.mirrorPercentage?.value ?? 100 } }] }),
  }))
  return { http, rules }
}

/** The canary's share under the kubernetes router: all of it when the apex Service selects the target's pods. */
export function apexCanaryShare(apexSelector: Readonly<Record<string, string>> | undefined, targetMatchLabels: Readonly<Record<string, string>> | undefined): number {
  const sel = selectorLabel(targetMatchLabels)
  return sel && apexSide(apexSelector, sel) === 'canary' ? 1 : 0
}

/** What each side serves: the routed split, except that a side without ready pods hands its share to the other. */
export function servedShares(canaryShare: number, ready: { readonly primary: boolean; readonly canary: boolean }): Shares {
  if (!ready.primary && !ready.canary) return { primary: 0, canary: 0 }
  if (!ready.primary) return { primary: 0, canary: 1 }
  if (!ready.canary) return { primary: 1, canary: 0 }
  const canary = clamp01(canaryShare)
  return { primary: 1 - canary, canary }
}
