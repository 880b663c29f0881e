// Routers whose objects take names the user may already use (a VirtualService, a TraefikService named after the
// Service): such an object that sluice did not create for this Canary is refused, never overwritten or deleted.
import type { Canary } from '../api/types.ts'
import type { KubeObject, ApplyClient, ObjectRef } from '../kube/apply.ts'
import type { Router, RouteWeights } from './router.ts'
import { generatedFor, namespaceOf } from '../kube/generated.ts'
import { withServices } from './service-set.ts'

/**
 * Throws when `o` exists and was not generated for `c` (the user's own, or another Canary's); `writes` says what
 * sluice writes under that name, e.g. "HTTPProxy with this name".
 */
export function refuseForeign(c: Canary, o: KubeObject | undefined, writes: string): void {
  if (!o || generatedFor(c, o)) return
  throw new Error(`Canary ${namespaceOf(c)}/${c.metadata.name ?? ''}: ${o.kind} ${o.metadata?.name ?? ''} already exists and sluice did not create it; ` +
    `sluice writes its own ${writes}: delete or rename yours (or set service.name)`)
}

/** Deletes the object at `ref` if it was generated for `c`; one sluice refused to take over is the user's, and stays. */
export async function deleteGenerated(kube: ApplyClient, c: Canary, ref: ObjectRef): Promise<void> {
  const o = await kube.get(ref)
  if (o && generatedFor(c, o)) await kube.delete(ref)
}

/** The Services and `routes`, with `refuse` (which throws on a foreign object) checked before anything is written. */
export function refusingForeign(kube: ApplyClient, routes: Router, refuse: (c: Canary) => Promise<void>): Router {
  const all = withServices(kube, routes)
  return {
    ...all,
    async reconcile(c) {
      // Checked before the Services too: a refused Canary must not have taken the user's apex over.
      await refuse(c)
      await all.reconcile(c)
    },
  }
}

/** The weights read back from the object at `ref` by `weightsOf`; an error naming it when it is missing. */
export async function storedWeights(kube: ApplyClient, c: Canary, ref: ObjectRef, weightsOf: (c: Canary, o: KubeObject) => RouteWeights): Promise<RouteWeights> {
  const o = await kube.get(ref)
  if (!o) throw new Error(`Canary ${namespaceOf(c)}/${c.metadata.name ?? ''}: ${ref.kind} ${ref.name} not found; reconcile first`)
  return weightsOf(c, o)
}
