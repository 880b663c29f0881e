// Kept: client-node 2.0.1 has no work queue, and promise queues such as p-queue run every task added (no per-key dedup, no rerun of a key added while it runs, no delayed add where the earliest time wins).
// A keyed work queue with delayed adds: a key is queued at most once, never worked on by two workers at
// once (an add while it runs makes it run again afterwards), and the earliest requested time wins. Keys added
// for "now" (watch events: a new revision) go ahead of keys whose timer fired (interval ticks, retries), so
// that a controller behind on its ticks still reacts to an apply at once.
import { backoffDelay } from '../util/backoff.ts'

export interface WorkQueue {
  /** Queue `key` now, or at `at` (a time in the past means now). An earlier time replaces a later one. */
  add(key: string, at?: Date): void
  /** Drop a key's pending timer and queue entry (a deleted object). A running worker finishes. */
  forget(key: string): void
  /** Keys waiting to run now (not the delayed ones). */
  depth(): number
  /** Resolves when the running workers have finished; queued work is dropped. */
  stop(): Promise<void>
}

export interface QueueOptions {
  readonly concurrency: number
  readonly work: (key: string) => Promise<void>
  readonly onError?: (key: string, err: unknown) => void
  readonly onDepth?: (depth: number) => void
  /** Retry delay after a failed run: 1 s doubling to this (default 30 s), per key. */
  readonly maxBackoffMs?: number
}

export function createWorkQueue(o: QueueOptions): WorkQueue {
  const urgent: string[] = []
  const ready: string[] = []
  const queued = new Set<string>()
  const running = new Set<string>()
  const dirty = new Set<string>()
  const timers = new Map<string, { at: number; timer: NodeJS.Timeout }>()
  const failures = new Map<string, number>()
  const idle: (() => void)[] = []
  let stopped = false
  const maxBackoff = o.maxBackoffMs ?? 30_000

  const depth = (): number => urgent.length + ready.length
  const report = (): void => { o.onDepth?.(depth()) }

  function enqueue(key: string, now: boolean): void {
    if (stopped) return
    if (running.has(key)) {
      dirty.add(key)
      return
    }
    if (queued.has(key)) {
      // Already waiting behind the ticks: an event moves it to the front lane.
      const i = now ? ready.indexOf(key) : -1
      if (i >= 0) urgent.push(...ready.splice(i, 1))
      return
    }
    queued.add(key)
    ;(now ? urgent : ready).push(key)
    report()
    pump()
  }

  function pump(): void {
    while (!stopped && running.size < o.concurrency && depth() > 0) {
      const key = urgent.shift() ?? ready.shift()!
      queued.delete(key)
      running.add(key)
      report()
      void runOne(key)
    }
  }

  async function runOne(key: string): Promise<void> {
    try {
      await o.work(key)
      failures.delete(key)
    } catch (err) {
      o.onError?.(key, err)
      const n = (failures.get(key) ?? 0) + 1
      failures.set(key, n)
      schedule(key, Date.now() + backoffDelay({ initialMs: 1000, factor: 2, maxMs: maxBackoff }, n))
    } finally {
      running.delete(key)
      if (dirty.delete(key)) enqueue(key, true)
      pump()
      if (running.size === 0) for (const resolve of idle.splice(0)) resolve()
    }
  }

  function schedule(key: string, at: number): void {
    // A work failing after stop() (its calls aborted by the shutdown) must not arm a retry timer.
    if (stopped) return
    const pending = timers.get(key)
    if (pending && pending.at <= at) return
    if (pending) clearTimeout(pending.timer)
    const timer = setTimeout(() => {
      timers.delete(key)
      enqueue(key, false)
    }, Math.max(0, at - Date.now()))
    timers.set(key, { at, timer })
  }

  return {
    add(key, at) {
      const when = at?.getTime()
      if (when === undefined || when <= Date.now()) enqueue(key, true)
      else schedule(key, when)
    },
    forget(key) {
      const pending = timers.get(key)
      if (pending) clearTimeout(pending.timer)
      timers.delete(key)
      failures.delete(key)
      dirty.delete(key)
      if (queued.delete(key)) for (const lane of [urgent, ready]) if (lane.includes(key)) lane.splice(lane.indexOf(key), 1)
      report()
    },
    depth,
    async stop() {
      stopped = true
      for (const { timer } of timers.values()) clearTimeout(timer)
      timers.clear()
      urgent.length = 0
      ready.length = 0
      queued.clear()
      if (running.size > 0) await new Promise<void>(resolve => idle.push(resolve))
    },
  }
}
