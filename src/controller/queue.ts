// Kept: client-node 2.0.1 has no work queue, and promise queues such as p-queue run every task added (no per-key dedup, no rerun of a key added while it runs, no delayed add where the earliest time wins).
// A keyed work queue with delayed adds: a key is queued at most once, never worked on by two workers at
// once (an add while it runs makes it run again afterwards), and the earliest requested time wins. Keys added
// for "now" (a new revision, a user's change) go in the urgent lane, ahead of the routine one: keys whose
// timer fired (interval ticks, retries) and changes that only move a Canary on (a Deployment's readiness), so
// that a controller behind on its ticks, or flooded with status updates, still reacts to an apply at once.
import { backoffDelay } from '../util/backoff.ts'

export interface WorkQueue {
  /**
   * Queue `key` now in the urgent lane, or at `at` in the routine one (a time in the past means now: a tick overdue
   * is still a tick). An earlier time replaces a later one.
   */
  add(key: string, at?: Date): void
  /** Queue `key` now in the routine lane, behind the urgent keys; already queued, it keeps its place. */
  addRoutine(key: string): void
  /** Drop a key's pending timer and queue entry (a deleted object). A running worker finishes. */
  forget(key: string): void
  /** Keys waiting to run now (not the delayed ones). */
  depth(): number
  /** Resolves when the running workers have finished; queued work is dropped. */
  stop(): Promise<void>
}

/** The queue's two lanes: keys added for now, and keys whose timer fired or that addRoutine queued. */
export type Lane = 'urgent' | 'routine'

export interface QueueOptions {
  readonly concurrency: number
  readonly work: (key: string) => Promise<void>
  readonly onError?: (key: string, err: unknown) => void
  readonly onDepth?: (depth: number) => void
  /** How long a key waited in its lane for a worker: what the urgent lane's priority buys under load. */
  readonly onWait?: (lane: Lane, seconds: number) => void
  /** Retry delay after a failed run: 1 s doubling to this (default 30 s), per key. */
  readonly maxBackoffMs?: number
}

export function createWorkQueue(o: QueueOptions): WorkQueue {
  const urgent: string[] = []
  const ready: string[] = []
  // Each queued key and when it entered its lane; a key moved to the urgent lane waits from the add that moved it.
  const queued = new Map<string, number>()
  const running = new Set<string>()
  // Keys added while they run, to run again afterwards: true when an urgent add asked for it.
  const dirty = new Map<string, boolean>()
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
      dirty.set(key, now || dirty.get(key) === true)
      return
    }
    if (queued.has(key)) {
      // Already waiting in the routine lane: an urgent add moves it to the front one.
      const i = now ? ready.indexOf(key) : -1
      if (i >= 0) {
        urgent.push(...ready.splice(i, 1))
        queued.set(key, Date.now())
      }
      return
    }
    queued.set(key, Date.now())
    ;(now ? urgent : ready).push(key)
    report()
    pump()
  }

  function pump(): void {
    while (!stopped && running.size < o.concurrency && depth() > 0) {
      const lane: Lane = urgent.length > 0 ? 'urgent' : 'routine'
      const key = lane === 'urgent' ? urgent.shift()! : ready.shift()!
      o.onWait?.(lane, (Date.now() - (queued.get(key) ?? Date.now())) / 1000)
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
      const again = dirty.get(key)
      if (dirty.delete(key)) enqueue(key, again === true)
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
      if (when === undefined) enqueue(key, true)
      else if (when <= Date.now()) enqueue(key, false)
      else schedule(key, when)
    },
    addRoutine: key => { enqueue(key, false) },
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
