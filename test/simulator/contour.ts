// Contour in the simulator: the canary's share under a stored HTTPProxy, and the Envoy clusters Contour
// creates for the side Services, whose stats the simulator exports as envoy_cluster_upstream_rq(_time). Pure.
import { DEFAULT_AB_FRACTION, httpRouteCanaryShare, type SideNames } from './routing.ts'
import { SIDES, type AppInput, type Outcomes, type Side, type TrafficState } from './traffic.ts'

interface ProxyService { name?: string; weight?: number; mirror?: boolean }
interface ProxyRoute { conditions?: { header?: { name?: string }; queryParameter?: { name?: string } }[]; services?: ProxyService[] }

/**
 * The canary's share under a stored HTTPProxy spec, as for an HTTPRoute: the first route without header or
 * query conditions gives the plain split, and for A/B the first route with them gives that fraction's. As
 * Contour does, a mirror takes no share, and a route whose services all lack a weight splits them evenly.
 */
export function httpProxyCanaryShare(spec: unknown, names: SideNames, abFraction = DEFAULT_AB_FRACTION): number {
  const routes = (spec as { routes?: ProxyRoute[] } | undefined)?.routes ?? []
  const rules = routes.map(r => {
    const headers = (r.conditions ?? []).flatMap(c => c.header?.name ?? [])
    const queryParams = (r.conditions ?? []).flatMap(c => c.queryParameter?.name ?? [])
    const served = (r.services ?? []).filter(s => s.mirror !== true)
    const weighted = served.some(s => (s.weight ?? 0) > 0)
    return {
      matches: headers.length + queryParams.length > 0 ? [{ headers, queryParams }] : [],
      backendRefs: served.map(s => ({ name: s.name, weight: weighted ? s.weight ?? 0 : 1 })),
    }
  })
  return httpRouteCanaryShare({ rules }, names, abFraction)
}

/** The envoy_cluster_name of each side's Service: Contour's alt stat name `<namespace>_<service>_<port>`. */
export function contourClusters(namespace: string, service: string, port: number): Record<Side, string> {
  return { primary: `${namespace}_${service}-primary_${port}`, canary: `${namespace}_${service}-canary_${port}` }
}

/** What a contour app adds to its AppInput: its clusters (nothing for other providers). */
export function contourInput(provider: string, namespace: string, service: string, port: number | undefined): Pick<AppInput, 'contour'> {
  return provider === 'contour' && port !== undefined ? { contour: { clusters: contourClusters(namespace, service, port) } } : {}
}

/** Every contour app's clusters with the requests Envoy sent each, in a stable order. */
export function contourSeries(state: TrafficState): { cluster: string; outcomes: Outcomes }[] {
  return [...state.values()].flatMap(a => a.contour ? SIDES.map(side => ({ cluster: a.contour!.clusters[side], outcomes: a.contour![side] })) : [])
}
