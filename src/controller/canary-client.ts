// The reconcile's writes to the Canary and its target: JSON patches, conditional on the resourceVersion the
// decision was made from wherever a stale read must not win (status, the finalizer's addition).
import type { KubeConfig, V1Deployment } from '@kubernetes/client-node'
import { createJsonApi, JSON_PATCH } from '../kube/json-api.ts'
import { isNotFound } from '../kube/errors.ts'
import { conditionally, ifUnchanged, type JsonPatchOp } from '../kube/precondition.ts'
import { escapeSegment } from '../kube/json-patch.ts'
import { STATE_PREFIX } from '../api/annotations.ts'
import { normalizeCanary } from '../api/compat.ts'
import { GROUP, VERSION, type Canary, type CanaryStatus } from '../api/types.ts'

export const FINALIZER = 'sluice.dev/finalizer'

export interface CanaryClient {
  /** The Canary from the API server (not the cache), or undefined when it is gone. */
  read(namespace: string, name: string): Promise<Canary | undefined>
  /**
   * Writes the status onto the Canary as read: refused (StaleRead) when it changed since; a deleted Canary is
   * no error. Returns the Canary as the API server stored it (undefined when the Canary is gone).
   */
  writeStatus(c: Canary, status: CanaryStatus): Promise<Canary | undefined>
  /** The Canary as read plus the finalizer: conditional, so that its resourceVersion still stands for that read. */
  ensureFinalizer(c: Canary): Promise<Canary>
  removeFinalizer(c: Canary): Promise<void>
  delete(c: Canary): Promise<void>
  /** sluice's bookkeeping leaves the target with the opt-out, so that a later opt-in starts clean. */
  removeStateAnnotations(target: V1Deployment): Promise<void>
}

const ignoreNotFound = (e: unknown): void => { if (!isNotFound(e)) throw e }

export function createCanaryClient(kc: KubeConfig): CanaryClient {
  const api = createJsonApi(kc)
  const segment = encodeURIComponent
  const canaries = (namespace: string): string => `/apis/${GROUP}/${VERSION}/namespaces/${segment(namespace)}/canaries`
  const path = (c: Canary): string => `${canaries(c.metadata.namespace ?? '')}/${segment(c.metadata.name ?? '')}`

  function patch(c: Canary, ops: readonly JsonPatchOp[], status = false): Promise<Canary> {
    return api<Canary>('PATCH', status ? `${path(c)}/status` : path(c), { body: ops, contentType: JSON_PATCH })
  }

  /** A patch computed from `c` as read: refused (StaleRead) when the Canary has changed since. */
  function patchAsRead(c: Canary, ops: readonly JsonPatchOp[], status = false): Promise<Canary> {
    const rv = c.metadata.resourceVersion ?? ''
    return conditionally(`Canary ${c.metadata.namespace ?? ''}/${c.metadata.name ?? ''}`, rv, () => patch(c, ifUnchanged(rv, ops), status))
  }

  return {
    async read(namespace, name) {
      try {
        // Read as the cache reads it: Flagger's old canaryAnalysis becomes analysis, or the decision on a
        // fresh read would see a Canary without analysis.
        return normalizeCanary(await api<Canary>('GET', `${canaries(namespace)}/${segment(name)}`))
      } catch (e) {
        if (isNotFound(e)) return undefined
        throw e
      }
    },
    async writeStatus(c, status) {
      const written = await patchAsRead(c, [{ op: 'add', path: '/status', value: status }], true)
        .catch((e: unknown) => { ignoreNotFound(e); return undefined })
      // Read as the cache reads it (Flagger's canaryAnalysis as analysis): a decision may be made on it.
      return written && normalizeCanary(written)
    },
    async ensureFinalizer(c) {
      const finalizers = c.metadata.finalizers
      if (finalizers?.includes(FINALIZER)) return c
      const written = await patchAsRead(c, finalizers ? [{ op: 'add', path: '/metadata/finalizers/-', value: FINALIZER }] : [{ op: 'add', path: '/metadata/finalizers', value: [FINALIZER] }])
      return { ...c, metadata: { ...c.metadata, finalizers: written.metadata.finalizers ?? [FINALIZER], resourceVersion: written.metadata.resourceVersion } }
    },
    async removeFinalizer(c) {
      const i = c.metadata.finalizers?.indexOf(FINALIZER) ?? -1
      if (i < 0) return
      await patch(c, [{ op: 'test', path: `/metadata/finalizers/${i}`, value: FINALIZER }, { op: 'remove', path: `/metadata/finalizers/${i}` }]).catch(ignoreNotFound)
    },
    async delete(c) {
      await api('DELETE', path(c)).catch(ignoreNotFound)
    },
    async removeStateAnnotations(target) {
      const ops = Object.keys(target.metadata?.annotations ?? {}).filter(k => k.startsWith(STATE_PREFIX))
        .map(k => ({ op: 'remove', path: `/metadata/annotations/${escapeSegment(k)}` }))
      if (ops.length === 0) return
      await api('PATCH', `/apis/apps/v1/namespaces/${segment(target.metadata?.namespace ?? '')}/deployments/${segment(target.metadata?.name ?? '')}`, { body: ops, contentType: JSON_PATCH })
    },
  }
}
