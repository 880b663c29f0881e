// Linkerd, two ways as Linkerd documents them. By default the SMI TrafficSplit `<svc>` (split.smi-spec.io/v1alpha2,
// what Linkerd's SMI extension reads and Flagger writes) with the backends `<svc>-canary` and `<svc>-primary`
// weighted in integers. With service.gatewayRefs naming the apex Service (Gateway API for the mesh, "GAMMA",
// Linkerd 2.14+), the HTTPRoute `<svc>` of the gatewayapi router instead, which Linkerd can also route by header
// (A/B). Objects with these names that sluice did not create for this Canary are refused, never overwritten.
import type { Canary } from '../api/types.ts'
import { generatedMeta, namespaceOf, type GeneratedMeta } from '../kube/generated.ts'
import { httpRoute, httpRouteRef, routeWeights } from './gatewayapi.ts'
import { canaryServiceName, primaryServiceName, serviceName } from './services.ts'
import type { Router, RouteWeights } from './router.ts'
import { deleteGenerated, refuseForeign, refusingForeign, storedWeights } from './foreign.ts'
import type { KubeObject, ObjectRef, ApplyClient } from '../kube/apply.ts'

export const TRAFFIC_SPLIT_API_VERSION = 'split.smi-spec.io/v1alpha2'
// Linkerd reads the GA version of the HTTPRoute; v1beta1 stays the gatewayapi:v1beta1 provider's.
const HTTP_ROUTE_VERSION = 'v1'

export interface TrafficSplitBackend { service: string; weight: number }
export interface TrafficSplitObject {
  apiVersion: typeof TRAFFIC_SPLIT_API_VERSION
  kind: 'TrafficSplit'
  metadata: GeneratedMeta
  spec: { service: string; backends: TrafficSplitBackend[] }
  [key: string]: unknown
}

export const trafficSplitRef = (c: Canary): ObjectRef =>
  ({ apiVersion: TRAFFIC_SPLIT_API_VERSION, kind: 'TrafficSplit', namespace: namespaceOf(c), name: serviceName(c) })

/** Whether the Canary routes through a Gateway API HTTPRoute (service.gatewayRefs set) rather than a TrafficSplit. */
export function routesByHttpRoute(c: Canary): boolean {
  return (c.spec.service.gatewayRefs?.length ?? 0) > 0
}

/** The TrafficSplit `<svc>` for weights `w`: the apex Service split between the canary and the primary. */
export function trafficSplit(c: Canary, w: RouteWeights): TrafficSplitObject {
  return {
    apiVersion: TRAFFIC_SPLIT_API_VERSION, kind: 'TrafficSplit',
    metadata: generatedMeta(c, serviceName(c), c.spec.service.apex ?? {}),
    spec: {
      service: serviceName(c),
      backends: [{ service: canaryServiceName(c), weight: w.canary }, { service: primaryServiceName(c), weight: w.primary }],
    },
  }
}

/** Weights from a stored TrafficSplit: its primary and canary backends. */
export function trafficSplitWeights(c: Canary, ts: KubeObject): RouteWeights {
  const backends = (ts.spec as { backends?: { service?: string; weight?: number }[] } | undefined)?.backends
  const weightOf = (name: string): number | undefined => backends?.find(b => b.service === name)?.weight
  const primary = weightOf(primaryServiceName(c))
  const canary = weightOf(canaryServiceName(c))
  if (primary === undefined || canary === undefined) {
    throw new Error(`TrafficSplit ${namespaceOf(c)}/${serviceName(c)}: spec.backends does not weigh both ${primaryServiceName(c)} and ${canaryServiceName(c)}`)
  }
  return { primary, canary }
}

interface Path {
  ref: ObjectRef
  build(w: RouteWeights): KubeObject
  weights(o: KubeObject): RouteWeights
}

/** The object the Canary routes through, and the one of the other path (left from before a change of path). */
function paths(c: Canary): { used: Path; other: ObjectRef } {
  const split: Path = { ref: trafficSplitRef(c), build: w => trafficSplit(c, w), weights: o => trafficSplitWeights(c, o) }
  const route: Path = { ref: httpRouteRef(c, HTTP_ROUTE_VERSION), build: w => httpRoute(c, w, HTTP_ROUTE_VERSION), weights: o => routeWeights(c, o) }
  return routesByHttpRoute(c) ? { used: route, other: split.ref } : { used: split, other: route.ref }
}

const linkerdWrites = (p: Path): string => `${p.ref.kind} with this name for provider linkerd`

/** The linkerd objects alone (the Services are withServices' part). */
export function linkerdRoutes(kube: ApplyClient): Router {
  return {
    async reconcile(c) {
      const { used, other } = paths(c)
      const existing = await kube.get(used.ref)
      refuseForeign(c, existing, linkerdWrites(used))
      // Keep the weights already routed: a reconcile between steps must not reset traffic.
      await kube.apply(used.build(existing ? used.weights(existing) : { primary: 100, canary: 0 }))
      // After a change of path the former object would go on routing (a TrafficSplit's ServiceProfile wins over an HTTPRoute).
      await deleteGenerated(kube, c, other)
    },
    async setRoutes(c, w) {
      const { used } = paths(c)
      refuseForeign(c, await kube.get(used.ref), linkerdWrites(used))
      await kube.apply(used.build(w))
    },
    getRoutes(c) {
      const { used } = paths(c)
      return storedWeights(kube, c, used.ref, (_c, o) => used.weights(o))
    },
    async finalize(c) {
      const { used, other } = paths(c)
      for (const ref of [used.ref, other]) await deleteGenerated(kube, c, ref)
    },
  }
}

/** The linkerd router: the Services and the linkerd object, refusing a foreign one before anything is written. */
export function linkerdRouter(kube: ApplyClient): Router {
  return refusingForeign(kube, linkerdRoutes(kube), async c => {
    const { used } = paths(c)
    refuseForeign(c, await kube.get(used.ref), linkerdWrites(used))
  })
}
