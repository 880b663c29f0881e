// Which Router runs a Canary's provider. Apart from router.ts (the seam every router imports), so that the
// routers do not import the file that imports them.
import { isImplementedProvider, providerUnavailable, type ImplementedProvider } from '../api/capabilities.ts'
import { DEFAULTS } from '../api/defaults.ts'
import { MANAGED_BY_LABEL, MANAGED_BY_VALUE } from '../api/resolve.ts'
import type { Provider } from '../api/types.ts'
import { contourRouter } from './contour.ts'
import { gatewayApiRouter } from './gatewayapi.ts'
import { istioRouter } from './istio.ts'
import { kubernetesRouter } from './kubernetes.ts'
import { linkerdRouter } from './linkerd.ts'
import { namespaceOf } from '../kube/generated.ts'
import { serviceName } from './services.ts'
import { nginxRouter } from './nginx.ts'
import { traefikRouter } from './traefik.ts'
import type { Router } from './router.ts'
import type { ApplyClient } from '../kube/apply.ts'
import { withServices } from './service-set.ts'
import { canaryServiceName, primaryServiceName } from './services.ts'

// One line per router; the key type makes this registry and the capability table list the same providers.
const ROUTERS: Readonly<Record<ImplementedProvider, (kube: ApplyClient) => Router>> = {
  'kubernetes': kube => kubernetesRouter(kube),
  'nginx': kube => withServices(kube, nginxRouter(kube)),
  'gatewayapi': kube => withServices(kube, gatewayApiRouter(kube, 'v1')),
  'gatewayapi:v1': kube => withServices(kube, gatewayApiRouter(kube, 'v1')),
  'gatewayapi:v1beta1': kube => withServices(kube, gatewayApiRouter(kube, 'v1beta1')),
  'istio': kube => istioRouter(kube),
  'traefik': kube => traefikRouter(kube),
  'contour': kube => contourRouter(kube),
  'linkerd': kube => linkerdRouter(kube),
}

export const ROUTER_PROVIDERS = Object.keys(ROUTERS) as ImplementedProvider[]

/** The router of an implemented provider; throws for any other (validation refuses them at apply). */
export function routerFor(provider: Provider | undefined, kube: ApplyClient): Router {
  // A Canary without spec.provider gets the process's default (--default-provider), as the webhook validated it.
  const p = provider ?? DEFAULTS.provider
  if (!isImplementedProvider(p)) throw new Error(`provider ${p}: ${providerUnavailable(p)}`)
  return ROUTERS[p](kube)
}

/**
 * What can undo sluice's work for a Canary whose provider has no router in this version (stored before an
 * upgrade, or written by hand): such a Canary never got provider objects, only the Services, so giving the
 * apex back to the target and deleting the side Services is the whole revert.
 */
export function revertRouterFor(provider: Provider | undefined, kube: ApplyClient): Router {
  if (isImplementedProvider(provider ?? DEFAULTS.provider)) return routerFor(provider, kube)
  const services = kubernetesRouter(kube)
  return {
    ...services,
    async finalize(c) {
      // An apex sluice never took over stays the user's, untouched.
      const apex = await kube.get({ apiVersion: 'v1', kind: 'Service', namespace: namespaceOf(c), name: serviceName(c) })
      if (apex?.metadata?.labels?.[MANAGED_BY_LABEL] === MANAGED_BY_VALUE) return services.finalize(c)
      for (const name of [primaryServiceName(c), canaryServiceName(c)]) {
        await kube.delete({ apiVersion: 'v1', kind: 'Service', namespace: namespaceOf(c), name })
      }
    },
  }
}
