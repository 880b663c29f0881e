// What each router can do, so that a configuration it cannot honour is rejected at apply time.
import { isImplementedProvider } from './capabilities.ts'
import type { Provider } from './types.ts'

export interface ProviderTraits {
  /** Shifts a weighted share of traffic (canary steps); kubernetes can only switch all at once. */
  readonly weighted: boolean
  /** Routes requests matching headers or cookies to the canary (A/B testing). */
  readonly abTesting: boolean
  readonly mirroring: boolean
  readonly sessionAffinity: boolean
  /** The spec field this router cannot work without. */
  readonly requires?: 'ingressRef' | 'service.gatewayRefs' | 'routeRef'
  /** The spec field without which this router cannot route by header (linkerd's SMI TrafficSplit splits by weight alone). */
  readonly abRequires?: 'service.gatewayRefs'
}

const WEIGHTED_ONLY: ProviderTraits = { weighted: true, abTesting: false, mirroring: false, sessionAffinity: false }
const WEIGHTED_AB: ProviderTraits = { ...WEIGHTED_ONLY, abTesting: true }
const GATEWAY_API: ProviderTraits = {
  weighted: true, abTesting: true, mirroring: true, sessionAffinity: true, requires: 'service.gatewayRefs',
}

export const PROVIDER_TRAITS: Readonly<Record<Provider, ProviderTraits>> = {
  kubernetes: { weighted: false, abTesting: false, mirroring: false, sessionAffinity: false },
  nginx: { ...WEIGHTED_AB, requires: 'ingressRef' },
  gatewayapi: GATEWAY_API,
  'gatewayapi:v1': GATEWAY_API,
  'gatewayapi:v1beta1': GATEWAY_API,
  istio: { weighted: true, abTesting: true, mirroring: true, sessionAffinity: true },
  linkerd: { ...WEIGHTED_AB, abRequires: 'service.gatewayRefs' },
  traefik: { ...WEIGHTED_ONLY, mirroring: true },
  contour: { ...WEIGHTED_AB, mirroring: true },
  gloo: WEIGHTED_AB,
  skipper: WEIGHTED_ONLY,
  kuma: WEIGHTED_ONLY,
  apisix: { ...WEIGHTED_ONLY, requires: 'routeRef' },
  appmesh: WEIGHTED_AB,
  osm: WEIGHTED_ONLY,
}

/** Plain `gatewayapi` means the GA API version (Flagger would have fallen back to Istio). */
export function canonicalProvider(provider: Provider): Provider {
  return provider === 'gatewayapi' ? 'gatewayapi:v1' : provider
}

export function providersWith(trait: 'weighted' | 'abTesting' | 'mirroring' | 'sessionAffinity'): Provider[] {
  // Plain gatewayapi is an alias; listing it beside gatewayapi:v1 would only lengthen messages. Messages
  // recommend only routers this version implements.
  return (Object.keys(PROVIDER_TRAITS) as Provider[]).filter(p => p !== 'gatewayapi' && isImplementedProvider(p) && PROVIDER_TRAITS[p][trait])
}
