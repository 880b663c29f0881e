// The routers' object client on the controller: reads of the kinds the controller watches come from its
// informer caches, not GETs, and a write that would store what is stored already is skipped. A router step
// then costs one request (its write) instead of the read-backs around it (issue 14).
//
// Why a skip is never wrong: a write is skipped only when this process applied the very same object last and
// the object still stands at the resourceVersion that write returned. A cache that lags our own write shows
// an older resourceVersion, so the write goes out again (redundant, idempotent), never skipped; a foreign change
// moves the resourceVersion, so the write goes out too. After a restart nothing is remembered: each object is
// written once more, compared with nothing. Reads overlay the cache with this process's last write of an object
// until the cache has caught up, so that a read-back right after a step sees that step (not a drift).
import type { KubernetesObject } from '@kubernetes/client-node'
import type { Informer } from './informer.ts'
import type { ApplyClient, KubeObject, ObjectRef } from './apply.ts'
import { isRecord } from '../util/records.ts'
import { cloneJson } from '../util/json.ts'

/** Informer caches by `apiVersion/kind`: the kinds read from memory. Any other kind is read from the API server. */
export type ObjectCaches = Readonly<Record<string, Informer<KubernetesObject> | undefined>>

interface Applied {
  /** The object as sluice applied it (JSON), the full set of fields it owns. */
  readonly body: string
  /** The resourceVersion the API server answered that apply with. */
  readonly rv: string
}

const keyOf = (r: ObjectRef): string => `${r.apiVersion}/${r.kind}/${r.namespace}/${r.name}`
const kindOf = (r: { apiVersion?: string; kind?: string }): string => `${r.apiVersion ?? ''}/${r.kind ?? ''}`
const rvOf = (o: KubeObject | KubernetesObject | undefined): string | undefined => (o?.metadata as { resourceVersion?: string } | undefined)?.resourceVersion

/** a > b for resourceVersions the API server hands out (etcd revisions); undefined when either is not a number. */
export function newerVersion(a: string | undefined, b: string | undefined): boolean | undefined {
  if (a === undefined || b === undefined || !/^\d+$/.test(a) || !/^\d+$/.test(b)) return undefined
  return BigInt(a) > BigInt(b)
}

function refOf(o: KubeObject): ObjectRef {
  return { apiVersion: o.apiVersion ?? '', kind: o.kind ?? '', namespace: o.metadata?.namespace ?? '', name: o.metadata?.name ?? '' }
}

export function cachedObjects(kube: ApplyClient, caches: ObjectCaches): ApplyClient {
  /** What this process last applied, per object. */
  const applied = new Map<string, Applied>()
  /**
   * The newest version of an object this process has seen from the API server itself: a write's answer (for a
   * cached kind, until the cache has caught up with it) or, for a kind without a cache, the last GET.
   */
  const seen = new Map<string, KubeObject>()
  /** Deleted by this process, while the cache may still hold it. */
  const deleted = new Set<string>()

  // A deletion seen by the cache ends what was remembered of the object: it is gone, whoever deleted it. (Keyed
  // by the cache's kind: listed objects carry no apiVersion or kind of their own.)
  for (const [kind, informer] of Object.entries(caches)) {
    informer?.on((o, event) => {
      const key = `${kind}/${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`
      deleted.delete(key)
      if (event === 'delete') { seen.delete(key); applied.delete(key) }
    })
  }

  /** The object as it stands, by this process's knowledge: the cache, or our own write when the cache is behind it. */
  function current(ref: ObjectRef, informer: Informer<KubernetesObject>): KubeObject | undefined {
    const key = keyOf(ref)
    if (deleted.has(key)) return undefined
    const cached = informer.get(ref.name, ref.namespace) as KubeObject | undefined
    const own = seen.get(key)
    if (!own) return cached
    // Only a write the cache has provably not seen yet wins over it; an unordered version trusts the cache.
    if (!cached || newerVersion(rvOf(own), rvOf(cached)) === true) return own
    seen.delete(key)
    return cached
  }

  async function read(ref: ObjectRef): Promise<KubeObject | undefined> {
    const informer = caches[kindOf(ref)]
    if (informer) {
      const o = current(ref, informer)
      return o && { ...cloneJson(o), apiVersion: ref.apiVersion, kind: ref.kind }
    }
    const o = await kube.get(ref)
    if (o) seen.set(keyOf(ref), o)
    else seen.delete(keyOf(ref))
    return o
  }

  /** Whether `body` is what the object holds already: this process applied it last and nothing changed it since. */
  function unchanged(ref: ObjectRef, body: string): boolean {
    const last = applied.get(keyOf(ref))
    if (last?.body !== body) return false
    const informer = caches[kindOf(ref)]
    const now = informer ? current(ref, informer) : seen.get(keyOf(ref))
    return now !== undefined && rvOf(now) === last.rv
  }

  return {
    get: read,
    async apply(obj) {
      const ref = refOf(obj)
      const key = keyOf(ref)
      const body = JSON.stringify(obj)
      if (unchanged(ref, body)) return
      const written: unknown = await kube.apply(obj)
      deleted.delete(key)
      const rv = isRecord(written) ? rvOf(written) : undefined
      if (rv === undefined) {
        // A client that does not answer with the object: nothing to compare the next write with.
        applied.delete(key)
        seen.delete(key)
        return
      }
      applied.set(key, { body, rv })
      seen.set(key, written as KubeObject)
      return written as KubeObject
    },
    async delete(ref) {
      const key = keyOf(ref)
      applied.delete(key)
      seen.delete(key)
      await kube.delete(ref)
      if (caches[kindOf(ref)]) deleted.add(key)
    },
  }
}
