// The Router seam: the engine moves traffic only through these four calls, so mesh routers added later
// plug in without touching it. registry.ts picks the implementation for a Canary's provider.
import type { Canary } from '../api/types.ts'

/**
 * The routes as a router writes them and reads them back from the stored objects: mirror is on or off.
 * The machine's TrafficSplit (controller/machine/types.ts) is what it wants, mirror as a percentage.
 */
export interface RouteWeights {
  primary: number
  canary: number
  mirror?: boolean
}

/**
 * Every call gets the Canary with the status the engine has just written: besides the weights, routers honour
 * what it decided there for them, the session-affinity cookies of the release (cookies.ts sessionCookies).
 */
export interface Router {
  /** Create or update the Services and the provider's objects; weights already set are kept. */
  reconcile(c: Canary): Promise<void>
  setRoutes(c: Canary, w: RouteWeights): Promise<void>
  /**
   * The weights read back from the stored objects, never from what was meant to be set. On the controller the
   * client serves the kinds it watches from its caches (src/kube/cached-objects.ts), others by a GET.
   */
  getRoutes(c: Canary): Promise<RouteWeights>
  /** Restore what the user had: apex Service back on the target's pods, generated objects deleted. */
  finalize(c: Canary): Promise<void>
}
