// What the dashboard knows, fed by watches (the informers of src/kube through src/cli/watch.ts), not polling:
// the Canaries of its scope with each one's history, and, while a page of a release is open, that release's
// Deployments and Events (one watch per release, shared by the pages showing it).
import type { Canary } from '../../api/types.ts'
import { canaryName, type Release } from '../canaries.ts'
import type { Cluster } from '../cluster.ts'
import { watchCanaries, watchRelease, type Watching } from '../watch.ts'
import { observe, type History } from './history.ts'

export interface Store {
  canaries(): readonly Canary[]
  find(namespace: string, name: string): Canary | undefined
  history(c: Canary): History | undefined
  /** Calls `fn` whenever a Canary of the scope changes; returns the unsubscribe. */
  onList(fn: () => void): () => void
  /** Calls `fn` with the release whenever it changes (undefined once deleted); resolves to the unsubscribe. */
  follow(c: Canary, fn: (r: Release | undefined) => void): Promise<() => void>
  stop(): void
}

interface Followed {
  readonly listeners: Set<(r: Release | undefined) => void>
  watching?: Promise<Watching>
  last?: Release | undefined
}

export async function startStore(cluster: Cluster, namespace: string | undefined): Promise<Store> {
  let list: readonly Canary[] = []
  const histories = new Map<string, History>()
  const listListeners = new Set<() => void>()
  const followed = new Map<string, Followed>()
  const record = (c: Canary): void => { histories.set(canaryName(c), observe(histories.get(canaryName(c)), c, Date.now())) }

  const watching = await watchCanaries(cluster, namespace, canaries => {
    list = canaries
    canaries.forEach(record)
    // A deleted Canary's history goes with it.
    const present = new Set(canaries.map(canaryName))
    for (const key of histories.keys()) if (!present.has(key)) histories.delete(key)
    for (const fn of listListeners) fn()
  })

  async function follow(c: Canary, fn: (r: Release | undefined) => void): Promise<() => void> {
    const key = canaryName(c)
    let entry = followed.get(key)
    if (!entry) {
      const created: Followed = { listeners: new Set() }
      created.watching = watchRelease(cluster, c, r => {
        created.last = r
        if (r) record(r.canary)
        for (const l of created.listeners) l(r)
      })
      followed.set(key, created)
      entry = created
    }
    const e = entry
    e.listeners.add(fn)
    try {
      await e.watching
    } catch (err) {
      followed.delete(key)
      throw err
    }
    if (e.last) fn(e.last)
    return () => {
      e.listeners.delete(fn)
      if (e.listeners.size > 0) return
      followed.delete(key)
      void e.watching?.then(w => w.stop(), () => undefined)
    }
  }

  return {
    canaries: () => list,
    find: (ns, name) => list.find(c => c.metadata.namespace === ns && c.metadata.name === name),
    history: c => histories.get(canaryName(c)),
    onList(fn) {
      listListeners.add(fn)
      return () => { listListeners.delete(fn) }
    },
    follow,
    stop() {
      watching.stop()
      for (const e of followed.values()) void e.watching?.then(w => w.stop(), () => undefined)
      followed.clear()
    },
  }
}
