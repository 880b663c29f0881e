// The keyed work queue with real short timers: dedup, one worker per key, the concurrency limit, delayed
// adds, retries with backoff, forget, depth and stop. Timing is only asserted as ordering.
import t from 'tap'
import { createWorkQueue, type QueueOptions, type WorkQueue } from '../../../src/controller/queue.ts'

const sleep = (ms: number): Promise<void> => new Promise(resolve => setTimeout(resolve, ms))

/** Polls until `ok()` holds (or fails the wait after `ms`). */
async function until(ok: () => boolean, ms = 2000): Promise<void> {
  const end = Date.now() + ms
  while (!ok()) {
    if (Date.now() > end) throw new Error('condition not reached in time')
    await sleep(2)
  }
}

interface Gate {
  readonly promise: Promise<void>
  open(): void
}

function gate(): Gate {
  let open!: () => void
  const promise = new Promise<void>(resolve => { open = resolve })
  return { promise, open }
}

/** A queue whose work records each run and, for keys with a gate, waits on it. */
function harness(options: Partial<QueueOptions> = {}): {
  queue: WorkQueue
  runs: string[]
  active: Map<string, number>
  maxActive: () => number
  gates: Map<string, Gate>
} {
  const runs: string[] = []
  const active = new Map<string, number>()
  const gates = new Map<string, Gate>()
  let peak = 0
  let current = 0
  const queue = createWorkQueue({
    concurrency: 1,
    work: async key => {
      runs.push(key)
      active.set(key, (active.get(key) ?? 0) + 1)
      current++
      peak = Math.max(peak, current)
      try {
        const g = gates.get(key)
        if (g) await g.promise
        else await sleep(1)
      } finally {
        active.set(key, (active.get(key) ?? 0) - 1)
        current--
      }
    },
    ...options,
  })
  return { queue, runs, active, maxActive: () => peak, gates }
}

/** A one-worker harness whose worker is held by the key 'busy' until `release()`: what is queued meanwhile waits. */
async function busyWorker(options: Partial<QueueOptions> = {}): Promise<{ h: ReturnType<typeof harness>; release: () => void }> {
  const h = harness({ concurrency: 1, ...options })
  const block = gate()
  h.gates.set('busy', block)
  h.queue.add('busy')
  await until(() => h.runs.includes('busy'))
  return { h, release: () => { block.open() } }
}

t.test('a key queued twice while it waits runs once', async t => {
  const h = harness()
  const blocker = gate()
  h.gates.set('x', blocker)
  h.queue.add('x')
  h.queue.add('a')
  h.queue.add('a')
  t.equal(h.queue.depth(), 1, 'a is queued once')
  blocker.open()
  await until(() => h.runs.length >= 2 && h.active.get('a') === 0)
  await sleep(20)
  t.same(h.runs, ['x', 'a'])
  await h.queue.stop()
})

t.test('a key never runs twice at once; an add while it runs makes it run once more afterwards', async t => {
  const h = harness({ concurrency: 4 })
  const first = gate()
  h.gates.set('a', first)
  h.queue.add('a')
  await until(() => h.runs.length === 1)
  h.queue.add('a')
  h.queue.add('a')
  await sleep(10)
  t.same(h.runs, ['a'], 'not started again while running, although workers are free')
  t.equal(h.queue.depth(), 0, 'the re-add waits for the running work, not in the ready queue')
  h.gates.delete('a')
  first.open()
  await until(() => h.runs.length === 2 && h.active.get('a') === 0)
  await sleep(20)
  t.same(h.runs, ['a', 'a'], 'exactly one more run for the adds made while running')
  t.equal(h.maxActive(), 1)
  await h.queue.stop()
})

t.test('the concurrency limit holds across keys, and every key runs', async t => {
  const h = harness({ concurrency: 2 })
  const gates = ['a', 'b', 'c', 'd', 'e'].map(k => { const g = gate(); h.gates.set(k, g); return g })
  for (const k of ['a', 'b', 'c', 'd', 'e']) h.queue.add(k)
  await sleep(10)
  t.same(h.runs, ['a', 'b'], 'two at once, in the order added')
  t.equal(h.queue.depth(), 3)
  for (const g of gates) { g.open(); await sleep(5) }
  await until(() => h.runs.length === 5 && [...h.active.values()].every(n => n === 0))
  t.same(h.runs, ['a', 'b', 'c', 'd', 'e'])
  t.equal(h.maxActive(), 2)
  t.equal(h.queue.depth(), 0)
  await h.queue.stop()
})

t.test('delayed adds', async t => {
  t.test('a delayed add runs at about its time, not before', async t => {
    const start = Date.now()
    let ranAt = 0
    const q = createWorkQueue({ concurrency: 1, work: async () => { ranAt = Date.now() } })
    q.add('a', new Date(start + 40))
    await sleep(10)
    t.equal(ranAt, 0, 'not yet')
    t.equal(q.depth(), 0, 'a delayed key is not counted as ready')
    await until(() => ranAt > 0)
    t.ok(ranAt - start >= 35, `ran after its time (${ranAt - start} ms)`)
    await q.stop()
  })

  t.test('a time in the past means now', async t => {
    const h = harness()
    h.queue.add('a', new Date(Date.now() - 60_000))
    t.same(h.runs, ['a'], 'started synchronously')
    await h.queue.stop()
  })

  t.test('an earlier time replaces a later one', async t => {
    const h = harness()
    const now = Date.now()
    h.queue.add('a', new Date(now + 300))
    h.queue.add('a', new Date(now + 20))
    await until(() => h.runs.length === 1)
    t.ok(Date.now() - now < 300, 'ran at the earlier time')
    await sleep(350)
    t.same(h.runs, ['a'], 'the later timer was replaced, not kept as a second run')
    await h.queue.stop()
  })

  t.test('a later time does not postpone an earlier one', async t => {
    const h = harness()
    const now = Date.now()
    h.queue.add('a', new Date(now + 20))
    h.queue.add('a', new Date(now + 300))
    await until(() => h.runs.length === 1)
    t.ok(Date.now() - now < 300, 'ran at the earlier time')
    await sleep(350)
    t.same(h.runs, ['a'], 'the later request added no run of its own')
    await h.queue.stop()
  })
})

t.test('a failing work calls onError and is retried with backoff until it succeeds', async t => {
  const errors: Array<[string, string]> = []
  let calls = 0
  const times: number[] = []
  const q = createWorkQueue({
    concurrency: 1,
    maxBackoffMs: 30,
    work: async () => {
      calls++
      times.push(Date.now())
      if (calls <= 2) throw new Error(`boom ${calls}`)
    },
    onError: (key, err) => { errors.push([key, (err as Error).message]) },
  })
  q.add('a')
  // That a retry waits for its backoff is read from the times of the runs (a timer never fires early), not
  // from how many runs a short sleep saw, which a loaded machine can stretch past the backoff.
  await until(() => calls === 3)
  await sleep(80)
  t.equal(calls, 3, 'no more runs after the success')
  t.same(errors, [['a', 'boom 1'], ['a', 'boom 2']])
  t.ok(times[1]! - times[0]! >= 25 && times[2]! - times[1]! >= 25, 'each retry waited for its backoff (maxBackoffMs), none ran at once')
  await q.stop()
})

t.test('forget', async t => {
  t.test('drops a key waiting to run', async t => {
    const h = harness()
    const blocker = gate()
    h.gates.set('x', blocker)
    h.queue.add('x')
    h.queue.add('a')
    h.queue.add('b')
    t.equal(h.queue.depth(), 2)
    h.queue.forget('a')
    t.equal(h.queue.depth(), 1)
    blocker.open()
    await until(() => h.runs.length === 2 && h.active.get('b') === 0)
    await sleep(20)
    t.same(h.runs, ['x', 'b'])
    await h.queue.stop()
  })

  t.test('drops a delayed key', async t => {
    const h = harness()
    h.queue.add('a', new Date(Date.now() + 20))
    h.queue.forget('a')
    await sleep(60)
    t.same(h.runs, [])
    await h.queue.stop()
  })

  t.test('drops the re-run asked for while the key was running', async t => {
    const h = harness()
    const g = gate()
    h.gates.set('a', g)
    h.queue.add('a')
    h.queue.add('a')
    h.queue.forget('a')
    g.open()
    await until(() => h.active.get('a') === 0)
    await sleep(20)
    t.same(h.runs, ['a'], 'the running work finished; no second run')
    await h.queue.stop()
  })
})

t.test('depth() and onDepth report the keys ready to run', async t => {
  const depths: number[] = []
  const h = harness({ onDepth: d => { depths.push(d) } })
  const blocker = gate()
  h.gates.set('x', blocker)
  h.queue.add('x')
  h.queue.add('a')
  h.queue.add('b')
  h.queue.add('c', new Date(Date.now() + 10_000))
  t.equal(h.queue.depth(), 2, 'x runs, a and b wait, c is delayed')
  t.equal(depths.at(-1), 2)
  t.ok(depths.includes(1))
  blocker.open()
  await until(() => h.runs.length === 3 && h.active.get('b') === 0)
  t.equal(h.queue.depth(), 0)
  t.equal(depths.at(-1), 0, 'the last report is an empty queue')
  await h.queue.stop()
  t.same(h.runs, ['x', 'a', 'b'], 'the delayed key was dropped by stop')
})

t.test('stop() waits for the running work and drops the rest', async t => {
  const h = harness({ concurrency: 1 })
  const g = gate()
  h.gates.set('x', g)
  h.queue.add('x')
  h.queue.add('a')
  h.queue.add('b', new Date(Date.now() + 20))
  let stopped = false
  const stopping = h.queue.stop().then(() => { stopped = true })
  await sleep(10)
  t.equal(stopped, false, 'still waiting for x')
  t.equal(h.queue.depth(), 0, 'the ready queue was dropped at once')
  g.open()
  await stopping
  t.equal(h.active.get('x'), 0, 'x finished before stop() resolved')
  h.queue.add('c')
  await sleep(60)
  t.same(h.runs, ['x'], 'neither the queued, the delayed nor a later add ran')
  await h.queue.stop()
  t.same(h.runs, ['x'], 'a second stop() with nothing running resolves and runs nothing')
  t.equal(h.queue.depth(), 0)
})

t.test('a work failing after stop() leaves no retry timer behind', async t => {
  const timeouts = (): number => process.getActiveResourcesInfo().filter(r => r === 'Timeout').length
  const before = timeouts()
  const g = gate()
  let errors = 0
  const q = createWorkQueue({
    concurrency: 1,
    maxBackoffMs: 5_000,
    work: async () => { await g.promise; throw new Error('aborted by shutdown') },
    onError: () => { errors++ },
  })
  q.add('a')
  const stopping = q.stop()
  g.open()
  await stopping
  t.equal(errors, 1, 'the failure is still reported')
  t.equal(timeouts(), before, 'no retry timer keeps a stopped controller alive')
  q.add('b', new Date(Date.now() + 5_000))
  t.equal(timeouts(), before, 'nor a delayed add after stop()')
})

t.test('a key added for now runs ahead of keys whose timers fired; onWait reports the lane and the wait in it', async t => {
  const waits: { lane: string; seconds: number }[] = []
  const { h, release } = await busyWorker({ onWait: (lane, seconds) => { waits.push({ lane, seconds }) } })
  h.queue.add('tick-1', new Date(Date.now() + 5))
  h.queue.add('tick-2', new Date(Date.now() + 5))
  await until(() => h.queue.depth() === 2, 500)
  await sleep(60)
  h.queue.add('event')
  h.queue.add('tick-2')
  t.equal(h.queue.depth(), 3, 'an event for a key already waiting does not queue it twice')
  release()
  await until(() => h.runs.length === 4)
  t.same(h.runs, ['busy', 'event', 'tick-2', 'tick-1'], 'events first, in their order; then the ticks')
  t.same(waits.map(w => w.lane), ['urgent', 'urgent', 'urgent', 'routine'])
  const [, event, moved, tick] = waits
  t.ok(tick!.seconds >= 0.05, `a tick waits from its timer firing (${tick!.seconds} s)`)
  t.ok(tick!.seconds - moved!.seconds >= 0.05, `a key an event moved waits from the event (${moved!.seconds} s), not from its timer`)
  t.ok(event!.seconds < tick!.seconds)
  await h.queue.stop()
})

t.test('addRoutine and an overdue time queue behind the urgent lane; a routine add never moves a queued key back, and a rerun keeps the urgent lane it was asked with', async t => {
  const { h, release } = await busyWorker()
  h.queue.addRoutine('status-1')
  h.queue.add('revision')
  h.queue.add('overdue-tick', new Date(Date.now() - 1000))
  h.queue.addRoutine('status-2')
  h.queue.addRoutine('revision')
  t.equal(h.queue.depth(), 4, 'a routine add of an urgent key queues nothing more')
  h.queue.addRoutine('busy')
  h.queue.add('busy')
  h.queue.addRoutine('busy')
  release()
  await until(() => h.runs.length === 6)
  t.same(h.runs, ['busy', 'revision', 'busy', 'status-1', 'overdue-tick', 'status-2'],
    'urgent keys first (the rerun of busy, asked for once urgently), then the routine ones in order, a tick added overdue among them')
  await h.queue.stop()
})
