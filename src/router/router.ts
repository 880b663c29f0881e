// The Router seam: the engine moves traffic only through these four calls, so mesh routers added later
// plug in without touching it. routerFor() picks the implementation for a Canary's provider.
import { isImplementedProvider, providerUnavailable, type ImplementedProvider } from '../api/capabilities.ts'
import { DEFAULTS } from '../api/defaults.ts'
import type { Canary, Provider } from '../api/types.ts'
import { gatewayApiRouter } from './gatewayapi.ts'
import { kubernetesRouter } from './kubernetes.ts'
import { namespaceOf, serviceName } from './meta.ts'
import { nginxRouter } from './nginx.ts'
import { withServices } from './service-set.ts'
import { canaryServiceName, primaryServiceName } from './services.ts'
import { MANAGED_BY_LABEL, MANAGED_BY_VALUE } from '../api/resolve.ts'

export interface Weights {
  primary: number
  canary: number
  mirror?: boolean
}

export interface Router {
  /** Create or update the Services and the provider's objects; weights already set are kept. */
  reconcile(c: Canary): Promise<void>
  setRoutes(c: Canary, w: Weights): Promise<void>
  /** The weights read back from the stored objects, never from memory. */
  getRoutes(c: Canary): Promise<Weights>
  /** Restore what the user had: apex Service back on the target's pods, generated objects deleted. */
  finalize(c: Canary): Promise<void>
}

/** Enough of a Kubernetes object to address it. */
export interface ObjectRef {
  apiVersion: string
  kind: string
  namespace: string
  name: string
}

export interface KubeObject {
  apiVersion?: string
  kind?: string
  metadata?: { name?: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> }
  [key: string]: unknown
}

/** The API calls routers make; kube.ts implements it with client-node (server-side apply). */
export interface RouterKube {
  /** Create or update: the object as given becomes the full set of fields sluice owns. */
  apply(obj: KubeObject): Promise<void>
  /** undefined when the object does not exist. */
  get(ref: ObjectRef): Promise<KubeObject | undefined>
  /** Deleting an object that is already gone is not an error. */
  delete(ref: ObjectRef): Promise<void>
}

// One line per router; the key type makes this registry and the capability table list the same providers.
const ROUTERS: Readonly<Record<ImplementedProvider, (kube: RouterKube) => Router>> = {
  'kubernetes': kube => kubernetesRouter(kube),
  'nginx': kube => withServices(kube, nginxRouter(kube)),
  'gatewayapi': kube => withServices(kube, gatewayApiRouter(kube, 'v1')),
  'gatewayapi:v1': kube => withServices(kube, gatewayApiRouter(kube, 'v1')),
  'gatewayapi:v1beta1': kube => withServices(kube, gatewayApiRouter(kube, 'v1beta1')),
}

export const ROUTER_PROVIDERS = Object.keys(ROUTERS) as ImplementedProvider[]

/** The router of an implemented provider; throws for any other (validation refuses them at apply). */
export function routerFor(provider: Provider | undefined, kube: RouterKube): Router {
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
export function revertRouterFor(provider: Provider | undefined, kube: RouterKube): Router {
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
