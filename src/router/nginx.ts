// NGINX Ingress: a canary Ingress `<ingress>-canary` cloned from the user's Ingress (spec.ingressRef),
// its backends moved to `<svc>-canary`, the split carried by nginx's canary annotations. The user's
// Ingress is only read, never written.
import type { Canary, HttpMatch } from '../api/types.ts'
import { generatedMeta, namespaceOf, type GeneratedMeta } from '../kube/generated.ts'
import { serviceName } from './services.ts'
import type { Router, RouteWeights } from './router.ts'
import type { KubeObject, ObjectRef, ApplyClient } from '../kube/apply.ts'
import { canaryServiceName } from './services.ts'

export const NGINX_PREFIX = 'nginx.ingress.kubernetes.io'
const A = (key: string): string => `${NGINX_PREFIX}/${key}`
export const CANARY = A('canary')
export const CANARY_WEIGHT = A('canary-weight')
export const CANARY_BY_HEADER = A('canary-by-header')
export const CANARY_BY_HEADER_VALUE = A('canary-by-header-value')
export const CANARY_BY_HEADER_PATTERN = A('canary-by-header-pattern')
export const CANARY_BY_COOKIE = A('canary-by-cookie')
const CANARY_KEYS = [CANARY, CANARY_WEIGHT, CANARY_BY_HEADER, CANARY_BY_HEADER_VALUE, CANARY_BY_HEADER_PATTERN, CANARY_BY_COOKIE]

// Copied from the user's Ingress they would be wrong on the clone (or, for last-applied, misleading).
const NOT_COPIED = new Set([...CANARY_KEYS, 'kubectl.kubernetes.io/last-applied-configuration'])

export interface IngressBackend { service?: { name: string; port?: { number?: number; name?: string } }; resource?: unknown }
export interface IngressPath { path?: string; pathType?: string; backend: IngressBackend }
export interface IngressRule { host?: string; http?: { paths: IngressPath[] } }
export interface IngressSpec {
  ingressClassName?: string
  defaultBackend?: IngressBackend
  rules?: IngressRule[]
  tls?: unknown[]
}
export interface IngressObject {
  apiVersion: 'networking.k8s.io/v1'
  kind: 'Ingress'
  metadata: GeneratedMeta | { name?: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> }
  spec?: IngressSpec
  [key: string]: unknown
}

function userIngressName(c: Canary): string {
  const name = c.spec.ingressRef?.name
  if (!name) throw new Error(`Canary ${namespaceOf(c)}/${c.metadata.name ?? ''}: provider nginx needs spec.ingressRef (the Ingress whose backend is Service ${serviceName(c)})`)
  return name
}

export function userIngressRef(c: Canary): ObjectRef {
  return { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', namespace: namespaceOf(c), name: userIngressName(c) }
}

export function canaryIngressRef(c: Canary): ObjectRef {
  return { ...userIngressRef(c), name: `${userIngressName(c)}-canary` }
}

function header(m: HttpMatch, name: string): Record<string, unknown> | undefined {
  const headers = m.headers as Record<string, Record<string, unknown>> | undefined
  return headers?.[name]
}

/**
 * nginx's A/B annotations from analysis.match: one header (exact → value, regex → pattern) and one
 * cookie (the `cookie` header's exact value names the cookie; nginx routes when it is "always").
 */
export function abAnnotations(match: readonly HttpMatch[] | undefined): Record<string, string> {
  const out: Record<string, string> = {}
  for (const m of match ?? []) {
    const headers = (m.headers ?? {}) as Record<string, unknown>
    for (const name of Object.keys(headers)) {
      const h = header(m, name) ?? {}
      if (name.toLowerCase() === 'cookie') {
        if (typeof h.exact === 'string') out[CANARY_BY_COOKIE] = h.exact
        continue
      }
      out[CANARY_BY_HEADER] = name
      if (typeof h.exact === 'string') out[CANARY_BY_HEADER_VALUE] = h.exact
      else if (typeof h.regex === 'string') out[CANARY_BY_HEADER_PATTERN] = h.regex
    }
  }
  return out
}

function rewriteBackend(b: IngressBackend, apex: string, canary: string): { backend: IngressBackend; hit: boolean } {
  if (b.service?.name !== apex) return { backend: b, hit: false }
  return { backend: { ...b, service: { ...b.service, name: canary } }, hit: true }
}

function copiedAnnotations(from: Readonly<Record<string, string>> | undefined): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(from ?? {})) if (!NOT_COPIED.has(k)) out[k] = v
  return out
}

/** The canary Ingress for weights `w`: a clone of `user` whose apex backends go to `<svc>-canary`. */
export function canaryIngress(c: Canary, user: IngressObject, w: RouteWeights): IngressObject {
  const apex = serviceName(c)
  const canary = canaryServiceName(c)
  let hits = 0
  const move = (b: IngressBackend): IngressBackend => {
    const r = rewriteBackend(b, apex, canary)
    if (r.hit) hits++
    return r.backend
  }
  const spec: IngressSpec = {}
  const src = user.spec ?? {}
  if (src.ingressClassName) spec.ingressClassName = src.ingressClassName
  if (src.defaultBackend) spec.defaultBackend = move(src.defaultBackend)
  if (src.rules) {
    spec.rules = src.rules.map(r => r.http ? { ...r, http: { paths: r.http.paths.map(p => ({ ...p, backend: move(p.backend) })) } } : r)
  }
  if (src.tls) spec.tls = src.tls
  if (hits === 0) {
    throw new Error(`Ingress ${namespaceOf(c)}/${user.metadata.name ?? ''}: no backend points at Service ${apex}; ` +
      'spec.ingressRef must name an Ingress whose backend is the apex Service')
  }
  const annotations = copiedAnnotations(user.metadata.annotations)
  const match = c.spec.analysis?.match
  // A/B routes by header/cookie while the canary has traffic; with none, weight 0 keeps it idle.
  const routing = match?.length && w.canary > 0 ? abAnnotations(match) : { [CANARY_WEIGHT]: String(w.canary) }
  return {
    apiVersion: 'networking.k8s.io/v1', kind: 'Ingress',
    metadata: generatedMeta(c, canaryIngressRef(c).name, { labels: user.metadata.labels ?? {}, annotations: { ...annotations, [CANARY]: 'true', ...routing } }),
    spec,
  }
}

/** Weights from a stored canary Ingress: header/cookie routing means the canary takes all matching traffic. */
export function ingressWeights(annotations: Readonly<Record<string, string>> | undefined): RouteWeights {
  const a = annotations ?? {}
  if (a[CANARY] !== 'true') return { primary: 100, canary: 0 }
  if (a[CANARY_BY_HEADER] || a[CANARY_BY_COOKIE]) return { primary: 0, canary: 100 }
  const n = Number(a[CANARY_WEIGHT] ?? '0')
  const canary = Number.isFinite(n) ? Math.min(100, Math.max(0, Math.round(n))) : 0
  return { primary: 100 - canary, canary }
}

export function nginxRouter(kube: ApplyClient): Router {
  const userIngress = async (c: Canary): Promise<IngressObject> => {
    const ing = await kube.get(userIngressRef(c))
    if (!ing) throw new Error(`Canary ${namespaceOf(c)}/${c.metadata.name ?? ''}: spec.ingressRef: Ingress ${userIngressName(c)} not found`)
    return ing as unknown as IngressObject
  }
  const stored = async (c: Canary): Promise<KubeObject | undefined> => kube.get(canaryIngressRef(c))
  return {
    async reconcile(c) {
      // Keep the weight already routed: a reconcile between steps must not reset traffic.
      const w = ingressWeights((await stored(c))?.metadata?.annotations)
      await kube.apply(canaryIngress(c, await userIngress(c), w))
    },
    async setRoutes(c, w) { await kube.apply(canaryIngress(c, await userIngress(c), w)) },
    async getRoutes(c) {
      const ing = await stored(c)
      if (!ing) throw new Error(`Canary ${namespaceOf(c)}/${c.metadata.name ?? ''}: Ingress ${canaryIngressRef(c).name} not found; reconcile first`)
      return ingressWeights(ing.metadata?.annotations)
    },
    async finalize(c) { await kube.delete(canaryIngressRef(c)) },
  }
}
