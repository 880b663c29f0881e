// Metadata every object sluice generates for a Canary carries (router objects, the primary Deployment): the managed-by label (the guard keys on it), a
// controller owner reference to the Canary (garbage collection), and the GitOps opt-outs.
import { MANAGED_BY_LABEL, MANAGED_BY_VALUE } from '../api/resolve.ts'
import { API_VERSION, type Canary, type OwnerReference } from '../api/types.ts'
import type { KubeObject } from './apply.ts'

// Flux would otherwise revert objects it sees drifting from what it applied.
export const GITOPS_ANNOTATIONS: Readonly<Record<string, string>> = {
  'kustomize.toolkit.fluxcd.io/reconcile': 'disabled',
  'helm.toolkit.fluxcd.io/driftDetection': 'disabled',
}

export function canaryName(c: Canary): string {
  const name = c.metadata.name
  if (!name) throw new Error('Canary without metadata.name: cannot name its router objects')
  return name
}

export function namespaceOf(c: Canary): string {
  const ns = c.metadata.namespace
  if (!ns) throw new Error(`Canary ${c.metadata.name ?? ''}: metadata.namespace is empty`)
  return ns
}

export function ownerReference(c: Canary): OwnerReference {
  const uid = c.metadata.uid
  // Without a uid the reference would be rejected, or worse, point at nothing and be collected at once.
  if (!uid) throw new Error(`Canary ${namespaceOf(c)}/${canaryName(c)}: metadata.uid is empty; read the Canary from the API before routing`)
  return { apiVersion: API_VERSION, kind: 'Canary', name: canaryName(c), uid, controller: true, blockOwnerDeletion: true }
}

export interface GeneratedMeta {
  name: string
  namespace: string
  labels: Record<string, string>
  annotations: Record<string, string>
  ownerReferences: OwnerReference[]
}

export function generatedMeta(c: Canary, name: string, extra: { labels?: Record<string, string>; annotations?: Record<string, string> } = {}): GeneratedMeta {
  return {
    name,
    namespace: namespaceOf(c),
    labels: { ...extra.labels, [MANAGED_BY_LABEL]: MANAGED_BY_VALUE },
    annotations: { ...extra.annotations, ...GITOPS_ANNOTATIONS },
    ownerReferences: [ownerReference(c)],
  }
}

/** Whether `o` was generated for `c`: its controller reference is the Canary (the user's objects, or another Canary's, are not). */
export function generatedFor(c: Canary, o: KubeObject): boolean {
  const refs = (o.metadata as { ownerReferences?: { uid?: string; controller?: boolean }[] } | undefined)?.ownerReferences
  return refs?.some(r => r.controller === true && r.uid === c.metadata.uid) === true
}
