// Flagger's kubernetes provider: no traffic split, blue-green only. Traffic moves by switching the
// apex Service's selector between the primary's and the canary's pods; the stored selector is the truth.
import type { Canary } from '../api/types.ts'
import { namespaceOf } from '../kube/generated.ts'
import type { Router, RouteWeights } from './router.ts'
import type { ApplyClient } from '../kube/apply.ts'
import { finalizeServices, reconcileServices, storedApexSide, targetSelector } from './service-set.ts'
import type { ServiceSide } from './services.ts'

/** The side a blue-green switch sends all traffic to; a split cannot be expressed by a selector. */
export function sideForWeights(c: Canary, w: RouteWeights): ServiceSide {
  if (w.primary === 100 && w.canary === 0) return 'primary'
  if (w.primary === 0 && w.canary === 100) return 'canary'
  throw new Error(`Canary ${namespaceOf(c)}/${c.metadata.name ?? ''}: provider kubernetes sends all traffic to one side (blue-green); ` +
    `weights ${w.primary}/${w.canary} need a traffic-splitting provider such as nginx or gatewayapi`)
}

export function weightsForSide(side: ServiceSide): RouteWeights {
  return side === 'canary' ? { primary: 0, canary: 100 } : { primary: 100, canary: 0 }
}

export function kubernetesRouter(kube: ApplyClient): Router {
  return {
    async reconcile(c) {
      const sel = await targetSelector(kube, c)
      // A reconcile in the middle of a blue-green switch keeps the side the apex already selects.
      const side = await storedApexSide(kube, c, sel)
      await reconcileServices(kube, c, sel, side ?? 'primary')
    },
    async setRoutes(c, w) {
      const side = sideForWeights(c, w)
      await reconcileServices(kube, c, await targetSelector(kube, c), side)
    },
    async getRoutes(c) {
      const side = await storedApexSide(kube, c, await targetSelector(kube, c))
      return weightsForSide(side ?? 'primary')
    },
    async finalize(c) {
      await finalizeServices(kube, c, await targetSelector(kube, c))
    },
  }
}
