// Adapter for the Services every router needs, and the wrapper that runs them around a provider's
// own router: Services before the provider's objects on reconcile, after them on finalize (so no
// route ever points at a Service that is gone).
import type { Canary } from '../api/types.ts'
import { selectorLabel, type PodSelector } from '../api/selector.ts'
import { namespaceOf } from '../kube/generated.ts'
import { serviceName } from './services.ts'
import type { Router } from './router.ts'
import type { ApplyClient } from '../kube/apply.ts'
import {
  apexService, apexSide, canaryService, canaryServiceName, primaryService, primaryServiceName, releasedApexService,
  type ServiceSide,
} from './services.ts'

function ref(c: Canary, name: string): { apiVersion: string; kind: string; namespace: string; name: string } {
  return { apiVersion: 'v1', kind: 'Service', namespace: namespaceOf(c), name }
}

/** The selector label of the Canary's target, read from its Deployment's spec.selector.matchLabels. */
export async function targetSelector(kube: ApplyClient, c: Canary): Promise<PodSelector> {
  const name = c.spec.targetRef.name
  const d = await kube.get({ apiVersion: 'apps/v1', kind: 'Deployment', namespace: namespaceOf(c), name })
  if (!d) throw new Error(`Canary ${namespaceOf(c)}/${c.metadata.name ?? ''}: spec.targetRef: Deployment ${name} not found`)
  const spec = d.spec as { selector?: { matchLabels?: Record<string, string> } } | undefined
  const sel = selectorLabel(spec?.selector?.matchLabels)
  if (!sel) {
    throw new Error(`Deployment ${namespaceOf(c)}/${name}: spec.selector.matchLabels has none of app, name, app.kubernetes.io/name; add one so sluice can tell primary from canary pods`)
  }
  return sel
}

/** The side the stored apex selects, undefined when there is no apex (or it selects other pods). */
export async function storedApexSide(kube: ApplyClient, c: Canary, sel: PodSelector): Promise<ServiceSide | undefined> {
  const apex = await kube.get(ref(c, serviceName(c)))
  const spec = apex?.spec as { selector?: Record<string, string> } | undefined
  return apexSide(spec?.selector, sel)
}

/** Creates or updates the three Services; the apex selects `apexOn` (default primary). */
export async function reconcileServices(kube: ApplyClient, c: Canary, sel: PodSelector, apexOn: ServiceSide = 'primary'): Promise<void> {
  await kube.apply(primaryService(c, sel))
  await kube.apply(canaryService(c, sel))
  await kube.apply(apexService(c, sel, apexOn))
}

/** Points the apex back at the target's pods, releases it to the user, and deletes the side Services. */
export async function finalizeServices(kube: ApplyClient, c: Canary, sel: PodSelector): Promise<void> {
  await kube.apply(releasedApexService(c, sel))
  await kube.delete(ref(c, primaryServiceName(c)))
  await kube.delete(ref(c, canaryServiceName(c)))
}

export function withServices(kube: ApplyClient, inner: Router): Router {
  return {
    async reconcile(c) {
      await reconcileServices(kube, c, await targetSelector(kube, c))
      await inner.reconcile(c)
    },
    setRoutes: (c, w) => inner.setRoutes(c, w),
    getRoutes: c => inner.getRoutes(c),
    async finalize(c) {
      await inner.finalize(c)
      await finalizeServices(kube, c, await targetSelector(kube, c))
    },
  }
}
