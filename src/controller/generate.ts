// The Canary of an annotated Deployment: resolved from its annotations and the policies (the same
// resolve() the webhook validated with), owned by the Deployment, and rewritten only when it differs.
import type { V1Deployment } from '@kubernetes/client-node'
import { canonicalJson } from '../kube/revision.ts'
import { MANAGED_BY_LABEL, MANAGED_BY_VALUE, buildCanary, resolve, type ResolveContext } from '../api/resolve.ts'
import type { Canary } from '../api/types.ts'

/** A Canary sluice generated (from a Deployment's annotations), as opposed to one a user wrote. */
export function isGenerated(c: Canary): boolean {
  return c.metadata.labels?.[MANAGED_BY_LABEL] === MANAGED_BY_VALUE &&
    (c.metadata.ownerReferences ?? []).some(o => o.kind === 'Deployment' && o.apiVersion === 'apps/v1')
}

export type Generation =
  | { readonly kind: 'none' }
  | { readonly kind: 'opted-out' }
  | { readonly kind: 'conflict'; readonly message: string }
  | { readonly kind: 'apply'; readonly canary: Canary }
  | { readonly kind: 'unchanged' }

/** What to do about the Canary of Deployment `d`, given the stored one (if any). */
export function generation(d: V1Deployment, existing: Canary | undefined, context: ResolveContext): Generation {
  const resolution = resolve(d, context)
  if (!resolution.optedIn) return existing && isGenerated(existing) ? { kind: 'opted-out' } : { kind: 'none' }
  if (existing && !isGenerated(existing)) {
    return {
      kind: 'conflict',
      message: `Canary ${existing.metadata.name ?? ''} exists and was written by a user, so its spec wins over this Deployment's sluice.dev annotations; remove the annotations or the Canary`,
    }
  }
  const desired = buildCanary(d, resolution.spec)
  if (existing && sameCanary(existing, desired)) return { kind: 'unchanged' }
  return { kind: 'apply', canary: desired }
}

function sameCanary(a: Canary, b: Canary): boolean {
  const owner = (c: Canary): string | undefined => c.metadata.ownerReferences?.find(o => o.kind === 'Deployment')?.uid
  return owner(a) === owner(b) && canonicalJson(a.spec) === canonicalJson(b.spec)
}
