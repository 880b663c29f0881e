// Kept over client-node 2.0.1's makeInformer/ListWatch: on a list or watch error other than 410 or a timeout it stops for good (no retry, no backoff), its start() resolves with an empty cache when the first list fails, and it asks for no bookmarks, never relists on a timer and has no transform.
// This cache restarts with backoff after errors, and after silence (a watchdog besides the stream's own
// 30 s idle timeout), and relists periodically, which also notices deletions missed while a stream was dead.
import type { KubeConfig, KubernetesObject } from '@kubernetes/client-node'
import { setTimeout as sleep } from 'node:timers/promises'
import { backoffDelay, type Backoff } from '../util/backoff.ts'
import { watchStream } from './watch-stream.ts'

export type InformerEvent = 'add' | 'update' | 'delete'
export type Handler<T> = (obj: T, event: InformerEvent) => void

export interface InformerOptions<T> {
  readonly path: string                           // e.g. /apis/apps/v1/deployments
  readonly list: () => Promise<{ items: T[]; metadata?: { resourceVersion?: string } }>
  readonly labelSelector?: string
  /** Sent with the watch; `list` must apply the same one (e.g. metadata.name=x for a single object). */
  readonly fieldSelector?: string
  readonly relistMs?: number                      // full relist period (default 10 min)
  readonly silenceMs?: number                     // restart the watch after this long without a byte (default 5 min)
  readonly onError?: (err: unknown) => void
  /** Applied to every object before it is cached and handed out (drop managedFields, keep a hash of data…). */
  readonly transform?: (obj: T) => T
}

export interface Informer<T> {
  start(): Promise<void>                          // resolves once the first list is in the cache
  stop(): void
  on(handler: Handler<T>): void
  get(name: string, namespace?: string): T | undefined
  list(namespace?: string): T[]
  readonly synced: boolean
}

export function objectKey(o: KubernetesObject): string {
  return `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`
}

// 1 s, doubling, at most 30 s.
const RECONNECT_BACKOFF: Backoff = { initialMs: 1000, factor: 2, maxMs: 30_000 }

/** Why a watch ended: its resourceVersion expired (410: relist), it was closed on purpose, or it failed. */
function watchEnd(err: unknown): 'expired' | 'closed' | 'failure' {
  if (!err) return 'closed'
  const code = (err as { code?: number; statusCode?: number }).code ?? (err as { statusCode?: number }).statusCode
  if (code === 410) return 'expired'
  return (err as Error).name === 'AbortError' || (err as Error).name === 'TimeoutError' ? 'closed' : 'failure'
}

/** The cache itself: objects by namespace/name, and the handlers told of every change. */
function createStore<T extends KubernetesObject>(transform: ((obj: T) => T) | undefined, onError: ((err: unknown) => void) | undefined) {
  const objects = new Map<string, T>()
  const handlers: Handler<T>[] = []
  const emit = (obj: T, event: InformerEvent): void => {
    for (const h of handlers) {
      try { h(obj, event) } catch (e) { onError?.(e) }
    }
  }
  const upsert = (received: T): void => {
    const obj = transform ? transform(received) : received
    const key = objectKey(obj)
    const had = objects.has(key)
    objects.set(key, obj)
    emit(obj, had ? 'update' : 'add')
  }
  return {
    objects, handlers, upsert,
    remove(obj: T): void {
      if (objects.delete(objectKey(obj))) emit(obj, 'delete')
    },
    /** Replaces the contents with a full list: what it lacks was deleted meanwhile. */
    replace(items: readonly T[]): void {
      const seen = new Set<string>()
      for (const item of items) {
        seen.add(objectKey(item))
        upsert(item)
      }
      for (const [key, obj] of objects) {
        if (!seen.has(key)) {
          objects.delete(key)
          emit(obj, 'delete')
        }
      }
    },
  }
}

export function createInformer<T extends KubernetesObject>(kc: KubeConfig, opts: InformerOptions<T>): Informer<T> {
  const store = createStore(opts.transform, opts.onError)
  const relistMs = opts.relistMs ?? 600_000
  const silenceMs = opts.silenceMs ?? 300_000
  let resourceVersion = ''
  let synced = false
  let stopped = true
  let request: { abort(): void } | undefined
  let lastActivity = Date.now()
  let lastList = 0
  let failures = 0                                // in a row, since the last event or list: sets the wait
  let generation = 0                              // bumps on every (re)connect so stale callbacks are ignored
  let watchdog: NodeJS.Timeout | undefined

  async function relist(): Promise<void> {
    const result = await opts.list()
    store.replace(result.items)
    resourceVersion = result.metadata?.resourceVersion ?? ''
    lastList = Date.now()
    synced = true
  }

  async function connect(): Promise<void> {
    const gen = ++generation
    request?.abort()
    request = undefined
    if (stopped) return
    try {
      if (!resourceVersion || Date.now() - lastList >= relistMs) await relist()
      if (stopped || gen !== generation) return
      const query: Record<string, string | boolean> = { allowWatchBookmarks: true, resourceVersion }
      if (opts.labelSelector) query.labelSelector = opts.labelSelector
      if (opts.fieldSelector) query.fieldSelector = opts.fieldSelector
      lastActivity = Date.now()
      const req = await watchStream(kc, opts.path, query, (phase, received) => {
        if (gen !== generation) return
        const obj = received as T & { code?: number }
        lastActivity = Date.now()
        failures = 0
        if (phase === 'ERROR') {
          if (obj.code === 410) resourceVersion = ''    // expired: the next connect relists
          return
        }
        if (obj.metadata?.resourceVersion) resourceVersion = obj.metadata.resourceVersion
        if (phase === 'ADDED' || phase === 'MODIFIED') store.upsert(obj)
        else if (phase === 'DELETED') store.remove(obj)
      }, (err: unknown) => { if (gen === generation) void reconnect(err) })
      // stop() or a newer connect may have run while the watch was being opened.
      if (gen === generation) request = req
      else req.abort()
    } catch (err) {
      if (gen === generation) void reconnect(err)
    }
  }

  async function reconnect(err: unknown): Promise<void> {
    if (stopped) return
    const kind = watchEnd(err)
    if (kind === 'expired') resourceVersion = ''
    if (kind === 'failure') {
      opts.onError?.(err)
      failures++
    }
    const gen = generation
    if (failures > 0) await sleep(backoffDelay(RECONNECT_BACKOFF, failures))
    if (gen === generation) await connect()
  }

  return {
    get synced() { return synced },
    on(handler) { store.handlers.push(handler) },
    get(name, namespace) { return store.objects.get(`${namespace ?? ''}/${name}`) },
    list(namespace) {
      const all = [...store.objects.values()]
      return namespace === undefined ? all : all.filter(o => o.metadata?.namespace === namespace)
    },
    async start() {
      if (!stopped) return
      stopped = false
      // The first list must succeed (or keep being retried) before callers trust the cache.
      for (;;) {
        try { await relist(); break } catch (e) {
          opts.onError?.(e)
          if (stopped) return
          failures++
          await sleep(backoffDelay(RECONNECT_BACKOFF, failures))
        }
      }
      failures = 0
      void connect()
      watchdog = setInterval(() => {
        const quiet = Date.now() - lastActivity >= silenceMs
        const stale = Date.now() - lastList >= relistMs
        if (quiet || stale) void connect()
      }, Math.min(silenceMs, relistMs, 30_000) / 2)
      watchdog.unref()
    },
    stop() {
      stopped = true
      generation++
      if (watchdog) clearInterval(watchdog)
      request?.abort()
      request = undefined
    },
  }
}
