// Traefik: a TraefikService `<svc>` (traefik.io/v1alpha1) that the user's IngressRoute routes to. Between steps
// it is a weighted round robin over the `<svc>-primary` and `<svc>-canary` Services, as Flagger writes it; while
// the canary is mirrored (blue/green's first iterations) it is a `mirroring` service: the primary serves, and
// `analysis.mirrorWeight` percent of its requests are copied to the canary. A TraefikService with this name that
// sluice did not create for this Canary is refused, never overwritten.
import type { Canary } from '../api/types.ts'
import { generatedMeta, namespaceOf, type GeneratedMeta } from '../kube/generated.ts'
import { deleteGenerated, refuseForeign, refusingForeign, storedWeights } from './foreign.ts'
import { canaryServiceName, primaryServiceName, serviceName } from './services.ts'
import type { Router, RouteWeights } from './router.ts'
import type { KubeObject, ObjectRef, ApplyClient } from '../kube/apply.ts'

// Traefik v3 serves only traefik.io; traefik.containo.us was Traefik v2's group (README: "traefik").
export const TRAEFIK_API_VERSION = 'traefik.io/v1alpha1'

/** A Kubernetes Service as a child of a TraefikService. Weight is always written: a missing one is 1 for Traefik. */
export interface TraefikChild { name: string; namespace: string; port: number; weight?: number; percent?: number }
export interface TraefikServiceSpec {
  weighted?: { services: TraefikChild[] }
  mirroring?: TraefikChild & { mirrors: TraefikChild[] }
}
export interface TraefikServiceObject {
  apiVersion: typeof TRAEFIK_API_VERSION
  kind: 'TraefikService'
  metadata: GeneratedMeta
  spec: TraefikServiceSpec
  [key: string]: unknown
}

export const traefikServiceRef = (c: Canary): ObjectRef =>
  ({ apiVersion: TRAEFIK_API_VERSION, kind: 'TraefikService', namespace: namespaceOf(c), name: serviceName(c) })

/** The TraefikService `<svc>` for weights `w`: weighted, or mirroring the primary's requests to the canary. */
export function traefikService(c: Canary, w: RouteWeights): TraefikServiceObject {
  const child = (name: string): TraefikChild => ({ name, namespace: namespaceOf(c), port: c.spec.service.port })
  let spec: TraefikServiceSpec
  if (w.mirror) {
    // A mirroring service has one main service: the canary cannot also take a weighted share.
    if (w.canary !== 0) throw new Error(`Canary ${namespaceOf(c)}/${c.metadata.name ?? ''}: traefik mirrors to the canary only while it has no weight (asked: ${w.canary})`)
    spec = { mirroring: { ...child(primaryServiceName(c)), mirrors: [{ ...child(canaryServiceName(c)), percent: c.spec.analysis?.mirrorWeight ?? 100 }] } }
  } else {
    spec = { weighted: { services: [{ ...child(primaryServiceName(c)), weight: w.primary }, { ...child(canaryServiceName(c)), weight: w.canary }] } }
  }
  return {
    apiVersion: TRAEFIK_API_VERSION, kind: 'TraefikService',
    metadata: generatedMeta(c, serviceName(c), c.spec.service.apex ?? {}), spec,
  }
}

/** Weights from a stored TraefikService: the weighted children's (a missing weight is Traefik's 1), or a mirroring one's. */
export function traefikServiceWeights(c: Canary, ts: KubeObject): RouteWeights {
  const spec = ts.spec as { weighted?: { services?: { name?: string; weight?: number }[] }; mirroring?: { name?: string; mirrors?: { name?: string }[] } } | undefined
  const where = `TraefikService ${namespaceOf(c)}/${serviceName(c)}`
  if (spec?.mirroring) {
    if (spec.mirroring.name !== primaryServiceName(c) || !spec.mirroring.mirrors?.some(m => m.name === canaryServiceName(c))) {
      throw new Error(`${where}: mirroring does not mirror ${primaryServiceName(c)} to ${canaryServiceName(c)}`)
    }
    return { primary: 100, canary: 0, mirror: true }
  }
  const weightOf = (name: string): number | undefined => {
    const s = spec?.weighted?.services?.find(x => x.name === name)
    return s ? (s.weight ?? 1) : undefined
  }
  const primary = weightOf(primaryServiceName(c))
  const canary = weightOf(canaryServiceName(c))
  if (primary === undefined || canary === undefined) {
    throw new Error(`${where}: weighted does not route to both ${primaryServiceName(c)} and ${canaryServiceName(c)}`)
  }
  return { primary, canary }
}

/** Throws when the TraefikService `<svc>` exists and was not generated for `c` (the user's own, or another Canary's). */
async function refuseForeignService(kube: ApplyClient, c: Canary): Promise<void> {
  refuseForeign(c, await kube.get(traefikServiceRef(c)), 'TraefikService with this name')
}

/** The TraefikService alone (the Services are withServices' part). */
export function traefikRoutes(kube: ApplyClient): Router {
  return {
    async reconcile(c) {
      await refuseForeignService(kube, c)
      const existing = await kube.get(traefikServiceRef(c))
      // Keep the weights already routed: a reconcile between steps must not reset traffic.
      await kube.apply(traefikService(c, existing ? traefikServiceWeights(c, existing) : { primary: 100, canary: 0 }))
    },
    async setRoutes(c, w) {
      await refuseForeignService(kube, c)
      await kube.apply(traefikService(c, w))
    },
    getRoutes: c => storedWeights(kube, c, traefikServiceRef(c), traefikServiceWeights),
    finalize: c => deleteGenerated(kube, c, traefikServiceRef(c)),
  }
}

/** The traefik router: the Services and the TraefikService, refusing a foreign one before anything is written. */
export function traefikRouter(kube: ApplyClient): Router {
  return refusingForeign(kube, traefikRoutes(kube), c => refuseForeignService(kube, c))
}
