// The simulated apps and what each tick needs to know about them, read from cached cluster objects:
// which Deployments are apps, how their provider routes, how each side behaves and which pods serve.
import type { V1Deployment, V1Ingress, V1Pod, V1Service } from '@kubernetes/client-node'
import { ANNOTATIONS } from '../../src/api/annotations.ts'
import { MANAGED_BY_LABEL, MANAGED_BY_VALUE, resolve } from '../../src/api/resolve.ts'
import type { Canary, CanarySpec } from '../../src/api/types.ts'
import {
  apexCanaryShare, DEFAULT_AB_FRACTION, httpRouteCanaryShare, httpRouteMirrorShare, nginxCanaryShare, virtualServiceCanaryShare, virtualServiceMirrorShare,
} from './routing.ts'
import { traefikCanaryShare, traefikServiceLabel } from './traefik.ts'
import { linkerdCanaryShare } from './linkerd.ts'
import type { AppInput, PodInput, SideInput } from './traffic.ts'
import { contourInput, httpProxyCanaryShare } from './contour.ts'

export const ERROR_RATE_ANNOTATION = 'simulator.sluice.dev/error-rate'
export const LATENCY_ANNOTATION = 'simulator.sluice.dev/latency-ms'
export const DEFAULT_LATENCY_MS = 5

/** Lookups in the informer caches; names are namespaced. */
export interface ClusterView {
  deployments(): Iterable<V1Deployment>
  deployment(namespace: string, name: string): V1Deployment | undefined
  /** Every sluice.dev/v1beta1 Canary: generated from annotations or written by hand. */
  canaries(): Iterable<Canary>
  ingress(namespace: string, name: string): V1Ingress | undefined
  service(namespace: string, name: string): V1Service | undefined
  httpRoute(namespace: string, name: string): { spec?: unknown } | undefined
  virtualService(namespace: string, name: string): { spec?: unknown } | undefined
  traefikService(namespace: string, name: string): { spec?: unknown } | undefined
  httpProxy(namespace: string, name: string): { spec?: unknown } | undefined
  trafficSplit(namespace: string, name: string): { spec?: unknown } | undefined
  /** Every pod of the Deployment, ready or not. */
  pods(namespace: string, deployment: string): readonly V1Pod[]
}

export interface Routing {
  readonly provider: string
  readonly service: string
  readonly ingress?: string
  readonly port?: number
}

/**
 * A Deployment a controller generated (a `<app>-primary`): one side of an app, never an app of its own. sluice
 * labels its own; Flagger's carries the target's annotations (sluice.dev/* included) and is controlled by its Canary.
 */
export function isGenerated(d: V1Deployment): boolean {
  return d.metadata?.labels?.[MANAGED_BY_LABEL] === MANAGED_BY_VALUE ||
    (d.metadata?.ownerReferences ?? []).some(o => o.controller === true && o.kind === 'Canary')
}

/** An app by annotation: a Deployment opted in by sluice.dev/strategy that sluice did not generate itself. */
export function isApp(d: V1Deployment): boolean {
  return d.metadata?.annotations?.[ANNOTATIONS.strategy] !== undefined && !isGenerated(d)
}

/** Each Canary by the Deployment it releases (`namespace/name`), whoever wrote it. */
export function canariesByTarget(canaries: Iterable<Canary>): Map<string, Canary> {
  const out = new Map<string, Canary>()
  for (const c of canaries) {
    const ref = c.spec?.targetRef
    if (!ref?.name || (ref.kind ?? 'Deployment') !== 'Deployment') continue
    out.set(`${c.metadata?.namespace ?? ''}/${ref.name}`, c)
  }
  return out
}

// Resolved once per Deployment object (the informer replaces the object on every change).
const resolved = new WeakMap<V1Deployment, CanarySpec>()

function specOf(d: V1Deployment, canary: Canary | undefined): Partial<CanarySpec> {
  if (canary) return canary.spec
  // Until the controller writes the Canary, the spec the annotations resolve to (without policies) stands in.
  let spec = resolved.get(d)
  if (!spec) {
    spec = resolve(d).spec
    resolved.set(d, spec)
  }
  return spec
}

export function routingOf(d: V1Deployment, canary: Canary | undefined): Routing {
  const name = d.metadata?.name ?? ''
  const spec = specOf(d, canary)
  const ingress = spec.ingressRef?.name
  const port = spec.service?.port
  return { provider: spec.provider ?? 'kubernetes', service: spec.service?.name ?? name, ...(ingress && { ingress }), ...(port !== undefined && { port }) }
}

const GATEWAY_API = new Set(['gatewayapi', 'gatewayapi:v1', 'gatewayapi:v1beta1'])

function nginxShare(view: ClusterView, ns: string, r: Routing, abFraction: number): number {
  return r.ingress ? nginxCanaryShare(view.ingress(ns, `${r.ingress}-canary`)?.metadata?.annotations, abFraction) : 0
}

const sides = (r: Routing): { primary: string; canary: string } => ({ primary: `${r.service}-primary`, canary: `${r.service}-canary` })

function routeShare(view: ClusterView, ns: string, r: Routing, abFraction: number): number {
  return httpRouteCanaryShare(view.httpRoute(ns, r.service)?.spec, sides(r), abFraction)
}

type ShareOf = (view: ClusterView, ns: string, r: Routing, abFraction: number, d: V1Deployment) => number

// Where each provider keeps the split: one entry per router the simulator follows.
const SHARES: Readonly<Record<string, ShareOf>> = {
  'nginx': nginxShare,
  ...Object.fromEntries([...GATEWAY_API].map(p => [p, routeShare])),
  'istio': (view, ns, r, abFraction) => virtualServiceCanaryShare(view.virtualService(ns, r.service)?.spec, sides(r), abFraction),
  'linkerd': (view, ns, r, abFraction) => linkerdCanaryShare(view.httpRoute(ns, r.service), view.trafficSplit(ns, r.service), sides(r), abFraction),
  'traefik': (view, ns, r) => traefikCanaryShare(view.traefikService(ns, r.service)?.spec, sides(r)),
  'contour': (view, ns, r, abFraction) => httpProxyCanaryShare(view.httpProxy(ns, r.service)?.spec, sides(r), abFraction),
  'kubernetes': (view, ns, r, _ab, d) => apexCanaryShare(view.service(ns, r.service)?.spec?.selector, d.spec?.selector?.matchLabels),
}

/** The canary's routed share from the router objects the provider reads (0 when there are none yet, or for other providers). */
export function routedCanaryShare(view: ClusterView, d: V1Deployment, r: Routing, abFraction: number): number {
  return SHARES[r.provider]?.(view, d.metadata?.namespace ?? '', r, abFraction, d) ?? 0
}

/** The fraction of requests the provider's objects mirror to the canary (gatewayapi and istio; 0 for the others). */
export function mirroredCanaryShare(view: ClusterView, d: V1Deployment, r: Routing, abFraction: number): number {
  const ns = d.metadata?.namespace ?? ''
  if (GATEWAY_API.has(r.provider)) return httpRouteMirrorShare(view.httpRoute(ns, r.service)?.spec, sides(r), abFraction)
  if (r.provider === 'istio') return virtualServiceMirrorShare(view.virtualService(ns, r.service)?.spec, sides(r), abFraction)
  return 0
}

function annotationNumber(value: string | undefined): number | undefined {
  if (value === undefined || value.trim() === '') return undefined
  const n = Number(value)
  return Number.isFinite(n) ? n : undefined
}

/** A side's behaviour from its pod template's simulator annotations; a missing or invalid value takes the default. */
export function behaviourOf(d: V1Deployment | undefined): Pick<SideInput, 'errorRate' | 'latencySeconds'> {
  const a = d?.spec?.template?.metadata?.annotations ?? {}
  const errorRate = annotationNumber(a[ERROR_RATE_ANNOTATION])
  const latencyMs = annotationNumber(a[LATENCY_ANNOTATION])
  return {
    errorRate: errorRate === undefined ? 0 : Math.min(1, Math.max(0, errorRate)),
    latencySeconds: (latencyMs === undefined || latencyMs < 0 ? DEFAULT_LATENCY_MS : latencyMs) / 1000,
  }
}

export function podReady(p: V1Pod): boolean {
  if (p.metadata?.deletionTimestamp) return false
  return p.status?.conditions?.some(c => c.type === 'Ready' && c.status === 'True') ?? false
}

/**
 * The Deployment a pod belongs to: its controlling ReplicaSet is named `<deployment>-<pod-template-hash>`,
 * so no ReplicaSet needs watching.
 */
export function deploymentOfPod(p: V1Pod): string | undefined {
  const owner = p.metadata?.ownerReferences?.find(o => o.controller && o.kind === 'ReplicaSet')
  const hash = p.metadata?.labels?.['pod-template-hash']
  if (!owner || !hash || !owner.name.endsWith(`-${hash}`)) return undefined
  return owner.name.slice(0, -(hash.length + 1))
}

/** Pods grouped by `namespace/deployment`. */
export function indexPods(pods: Iterable<V1Pod>): Map<string, V1Pod[]> {
  const out = new Map<string, V1Pod[]>()
  for (const p of pods) {
    const d = deploymentOfPod(p)
    if (d === undefined) continue
    const key = `${p.metadata?.namespace ?? ''}/${d}`
    const list = out.get(key)
    if (list) list.push(p)
    else out.set(key, [p])
  }
  return out
}

function side(view: ClusterView, namespace: string, name: string): SideInput {
  const pods: PodInput[] = view.pods(namespace, name).map(p => ({ name: p.metadata?.name ?? '', ready: podReady(p) }))
  return { pods, ...behaviourOf(view.deployment(namespace, name)) }
}

/** The `service` label of each side's Service in Traefik's metrics. */
function traefikLabels(namespace: string, service: string, port: number): { primary: string; canary: string } {
  return { primary: traefikServiceLabel(namespace, `${service}-primary`, port), canary: traefikServiceLabel(namespace, `${service}-canary`, port) }
}

/** The provider's own metric series of the app: what the simulator labels each side's requests with. */
function metricInputs(r: Routing, namespace: string, servicePort: number | undefined): Partial<AppInput> {
  return {
    ...(r.provider === 'nginx' && r.ingress && { nginx: { ingress: r.ingress, canaryService: `${r.service}-canary` } }),
    ...(r.provider === 'istio' && { istio: true }),
    ...(r.provider === 'linkerd' && { linkerd: true }),
    ...(r.provider === 'traefik' && r.port !== undefined && { traefik: traefikLabels(namespace, r.service, r.port) }),
    ...contourInput(r.provider, namespace, r.service, servicePort),
  }
}

/**
 * One AppInput per app in the cluster: the target of every Canary (a hand-written one included) and every
 * Deployment opted in by annotation; a generated `<app>-primary` is only ever the primary side of its app.
 */
export function appInputs(view: ClusterView, abFraction = DEFAULT_AB_FRACTION): AppInput[] {
  const out: AppInput[] = []
  const canaries = canariesByTarget(view.canaries())
  for (const d of view.deployments()) {
    if (isGenerated(d)) continue
    const namespace = d.metadata?.namespace ?? ''
    const name = d.metadata?.name ?? ''
    const canary = canaries.get(`${namespace}/${name}`)
    if (!canary && !isApp(d)) continue
    const r = routingOf(d, canary)
    const mirrorShare = mirroredCanaryShare(view, d, r, abFraction)
    const app: AppInput = {
      namespace, name,
      canaryShare: routedCanaryShare(view, d, r, abFraction),
      ...(mirrorShare > 0 && { mirrorShare }),
      primary: side(view, namespace, `${name}-primary`),
      canary: side(view, namespace, name),
      ...metricInputs(r, namespace, specOf(d, canary).service?.port),
    }
    out.push(app)
  }
  return out
}
