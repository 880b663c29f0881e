// An ApplyClient over a map, for unit tests of routers: what they write, read and delete, and the log of their calls.
import type { ApplyClient, KubeObject } from '../../src/kube/apply.ts'

export interface ObjectStore {
  readonly kube: ApplyClient
  /** `apply Kind/name` and `delete Kind/name`, in order. */
  readonly log: string[]
  get(kind: string, name: string): KubeObject | undefined
}

/** A store holding `objects`, keyed by kind and name (the namespace is the test's one). */
export function objectStore(objects: KubeObject[] = []): ObjectStore {
  const m = new Map(objects.map(o => [`${o.kind}/${o.metadata?.name}`, o]))
  const log: string[] = []
  return {
    log, get: (kind, name) => m.get(`${kind}/${name}`),
    kube: {
      async apply(o) { log.push(`apply ${o.kind}/${o.metadata?.name}`); m.set(`${o.kind}/${o.metadata?.name}`, structuredClone(o)) },
      async get(r) { return structuredClone(m.get(`${r.kind}/${r.name}`)) },
      async delete(r) { log.push(`delete ${r.kind}/${r.name}`); m.delete(`${r.kind}/${r.name}`) },
    },
  }
}
