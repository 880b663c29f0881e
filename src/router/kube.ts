// RouterKube on client-node 2.x: server-side apply (field manager `sluice`, forced, so sluice takes
// over the fields it generates), reads and deletes through the generic object API, which resolves
// built-in kinds and CRDs alike from discovery.
import { KubernetesObjectApi, PatchStrategy, type KubeConfig, type KubernetesObject } from '@kubernetes/client-node'
import { readApiError } from '../kube/errors.ts'
import type { KubeObject, ObjectRef, RouterKube } from './router.ts'

export const FIELD_MANAGER = 'sluice'

function spec(ref: ObjectRef): KubernetesObject & { metadata: { name: string; namespace: string } } {
  return { apiVersion: ref.apiVersion, kind: ref.kind, metadata: { name: ref.name, namespace: ref.namespace } }
}

export function routerKube(kc: KubeConfig): RouterKube {
  const api = KubernetesObjectApi.makeApiClient(kc)
  return {
    async apply(obj) {
      await api.patch(obj, undefined, undefined, FIELD_MANAGER, true, PatchStrategy.ServerSideApply)
    },
    async get(ref) {
      try {
        // The typed deserializer turns timestamps into Dates; routers read only labels, annotations and spec.
        return await api.read(spec(ref)) as unknown as KubeObject
      } catch (e) {
        if (readApiError(e)?.code === 404) return undefined
        throw e
      }
    },
    async delete(ref) {
      try {
        await api.delete(spec(ref))
      } catch (e) {
        if (readApiError(e)?.code !== 404) throw e
      }
    },
  }
}
