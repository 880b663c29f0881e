// An object store behind the routers' ApplyClient, for unit tests: what was applied and deleted, in order, and
// what is stored now (keyed by kind and name; the tests use one namespace).
import type { ApplyClient, KubeObject } from '../../src/kube/apply.ts'

export function store(objects: KubeObject[] = []): { kube: ApplyClient; log: string[]; get: (kind: string, name: string) => KubeObject | undefined } {
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
