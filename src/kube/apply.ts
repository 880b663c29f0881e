// The generic object API of routers and the deployer, on client-node 2.x: server-side apply (field manager `sluice`, forced, so sluice takes
// over the fields it generates), reads and deletes through the generic object API, which resolves
// built-in kinds and CRDs alike from discovery.
import { KubernetesObjectApi, type KubeConfig, type KubernetesObject } from '@kubernetes/client-node'
import { readApiError } from './errors.ts'
import { APPLY_PATCH, createJsonApi } from './json-api.ts'

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

/** The object API routers and the deployer use; applyClient below implements it with client-node. */
export interface ApplyClient {
  /**
   * Create or update: the object as given becomes the full set of fields sluice owns. Resolves with the object
   * as stored when the client has it (its resourceVersion lets cached-objects.ts skip a repeat of the same write).
   */
  apply(obj: KubeObject): Promise<KubeObject | void>
  /** undefined when the object does not exist. */
  get(ref: ObjectRef): Promise<KubeObject | undefined>
  /** Deleting an object that is already gone is not an error. */
  delete(ref: ObjectRef): Promise<void>
}

export const FIELD_MANAGER = 'sluice'

function spec(ref: ObjectRef): KubernetesObject & { metadata: { name: string; namespace: string } } {
  return { apiVersion: ref.apiVersion, kind: ref.kind, metadata: { name: ref.name, namespace: ref.namespace } }
}

/** client-node's generic object API, with its path of an object (from discovery, cached) in reach. */
class ObjectApi extends KubernetesObjectApi {
  static of(kc: KubeConfig): ObjectApi {
    const api = kc.makeApiClient(ObjectApi)
    api.setDefaultNamespace(kc)
    return api
  }

  /** Where `obj` is patched; specUriPath fills in what `obj` leaves out, so it gets a copy. */
  pathOf(obj: KubernetesObject): Promise<string> {
    return this.specUriPath({ ...obj, metadata: { ...obj.metadata } }, 'patch')
  }
}

export function applyClient(kc: KubeConfig): ApplyClient {
  const api = ObjectApi.of(kc)
  const json = createJsonApi(kc)
  return {
    // Plain JSON (json-api.ts): the routers apply on every step, and the typed serializer walked the object both ways.
    async apply(obj) {
      return await json<KubeObject>('PATCH', await api.pathOf(obj), { body: obj, contentType: APPLY_PATCH, query: { fieldManager: FIELD_MANAGER, force: 'true' } })
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
