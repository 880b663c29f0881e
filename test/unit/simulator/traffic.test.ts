import t from 'tap'
import { DEFAULT_BUCKETS, newHistogram, observe, spread, tick, type AppInput, type SideInput, type TrafficState } from '../../simulator/traffic.ts'

const healthy = (pods: string[], more: Partial<SideInput> = {}): SideInput =>
  ({ pods: pods.map(name => ({ name, ready: true })), errorRate: 0, latencySeconds: 0.005, ...more })

function app(more: Partial<AppInput> = {}): AppInput {
  return {
    namespace: 'shop', name: 'podinfo', canaryShare: 0,
    primary: healthy(['podinfo-primary-5d9c7-aaaaa', 'podinfo-primary-5d9c7-bbbbb']),
    canary: healthy(['podinfo-7f8b6-ccccc']),
    ...more,
  }
}

const total = (state: TrafficState, pod: string, outcome: 'ok' | 'error'): number =>
  state.get('shop/podinfo')?.pods.get(pod)?.[outcome].count ?? NaN

t.test('observe: every bucket at or above the latency, count and sum', async t => {
  const h = newHistogram(DEFAULT_BUCKETS)
  observe(h, DEFAULT_BUCKETS, 0.03, 4)
  t.same(h.buckets, [0, 0, 0, 4, 4, 4, 4, 4, 4, 4, 4])
  t.equal(h.count, 4)
  t.ok(Math.abs(h.sum - 0.12) < 1e-12)
  observe(h, DEFAULT_BUCKETS, 0.005, 1)
  t.equal(h.buckets[0], 1, 'a latency equal to a bound is in that bucket (le is ≤)')
  observe(h, DEFAULT_BUCKETS, 60, 2)
  t.equal(h.buckets.at(-1), 5, 'slower than every bound: only +Inf (the count)')
  t.equal(h.count, 7)
})

t.test('spread: equal parts, the remainder round-robin', async t => {
  t.same(spread(7, 3, 0), { counts: [3, 2, 2], cursor: 1 })
  t.same(spread(7, 3, 1), { counts: [2, 3, 2], cursor: 2 })
  t.same(spread(1, 3, 2), { counts: [0, 0, 1], cursor: 0 })
  t.same(spread(5, 0, 4), { counts: [], cursor: 0 }, 'no pods')
})

t.test('a 50/50 split with 50% errors on the canary, tick by tick', async t => {
  const state: TrafficState = new Map()
  const input = app({ canaryShare: 0.5, canary: healthy(['podinfo-7f8b6-ccccc'], { errorRate: 0.5 }) })
  tick(state, [input], 1, { requestsPerSecond: 100 })
  t.equal(total(state, 'podinfo-7f8b6-ccccc', 'ok'), 25)
  t.equal(total(state, 'podinfo-7f8b6-ccccc', 'error'), 25)
  t.equal(total(state, 'podinfo-primary-5d9c7-aaaaa', 'ok'), 25)
  t.equal(total(state, 'podinfo-primary-5d9c7-bbbbb', 'ok'), 25)
  t.equal(total(state, 'podinfo-primary-5d9c7-aaaaa', 'error'), 0)
  for (let i = 0; i < 9; i++) tick(state, [input], 1, { requestsPerSecond: 100 })
  t.equal(total(state, 'podinfo-7f8b6-ccccc', 'ok') + total(state, 'podinfo-7f8b6-ccccc', 'error'), 500)
  t.equal(total(state, 'podinfo-7f8b6-ccccc', 'error'), 250)
})

t.test('fractional requests and errors carry over: no randomness, nothing lost', async t => {
  const state: TrafficState = new Map()
  const input = app({ canaryShare: 0.1, canary: healthy(['podinfo-7f8b6-ccccc'], { errorRate: 1 / 3 }) })
  const served: number[] = []
  for (let i = 0; i < 30; i++) {
    tick(state, [input], 0.1, { requestsPerSecond: 7 })      // 0.07 canary requests per tick
    served.push(total(state, 'podinfo-7f8b6-ccccc', 'ok') + total(state, 'podinfo-7f8b6-ccccc', 'error'))
  }
  t.equal(served.at(-1), 2, '30 × 0.07 = 2.1 requests: 2 served')
  t.ok(served.every((n, i) => i === 0 || n >= served[i - 1]!), 'counts never go down')
  const again: TrafficState = new Map()
  for (let i = 0; i < 30; i++) tick(again, [input], 0.1, { requestsPerSecond: 7 })
  t.same([...again.get('shop/podinfo')!.pods], [...state.get('shop/podinfo')!.pods], 'the same inputs give the same counts')

  const long: TrafficState = new Map()
  for (let i = 0; i < 300; i++) tick(long, [input], 1, { requestsPerSecond: 10 })
  t.equal(total(long, 'podinfo-7f8b6-ccccc', 'ok') + total(long, 'podinfo-7f8b6-ccccc', 'error'), 300, '0.1 × 10 × 300')
  t.equal(total(long, 'podinfo-7f8b6-ccccc', 'error'), 100, 'a third of them errors')
})

t.test('readiness: unready pods keep their series but serve nothing; a side without ready pods hands over', async t => {
  const state: TrafficState = new Map()
  const primary: SideInput = { pods: [{ name: 'podinfo-primary-5d9c7-aaaaa', ready: true }, { name: 'podinfo-primary-5d9c7-bbbbb', ready: false }], errorRate: 0, latencySeconds: 0.005 }
  tick(state, [app({ canaryShare: 0.2, primary, canary: { ...healthy([]), pods: [{ name: 'podinfo-7f8b6-ccccc', ready: false }] } })], 1, { requestsPerSecond: 100 })
  t.equal(total(state, 'podinfo-primary-5d9c7-aaaaa', 'ok'), 100, 'the canary has no ready pod: all to the one ready primary pod')
  t.equal(total(state, 'podinfo-primary-5d9c7-bbbbb', 'ok'), 0, 'the unready pod has a zero series')
  t.equal(total(state, 'podinfo-7f8b6-ccccc', 'ok'), 0)

  const none: TrafficState = new Map()
  tick(none, [app({ primary: healthy([]) })], 1, { requestsPerSecond: 100 })
  t.equal(total(none, 'podinfo-7f8b6-ccccc', 'ok'), 100, 'no primary: the target serves everything')
})

t.test('series go with their pods and apps; counts of the others keep growing', async t => {
  const state: TrafficState = new Map()
  tick(state, [app()], 1, { requestsPerSecond: 100 })
  const before = total(state, 'podinfo-primary-5d9c7-aaaaa', 'ok')
  tick(state, [app({ primary: healthy(['podinfo-primary-5d9c7-aaaaa']) })], 1, { requestsPerSecond: 100 })
  t.notOk(state.get('shop/podinfo')!.pods.has('podinfo-primary-5d9c7-bbbbb'), 'the deleted pod\'s series is gone')
  t.equal(total(state, 'podinfo-primary-5d9c7-aaaaa', 'ok'), before + 100)
  tick(state, [], 1, { requestsPerSecond: 100 })
  t.equal(state.size, 0, 'an app that is gone is dropped')
})

t.test('nginx series: one per side, the canary labelled with its Service, restarted when the labels change', async t => {
  const state: TrafficState = new Map()
  const nginx = { ingress: 'web', canaryService: 'podinfo-canary' }
  const input = app({ canaryShare: 0.5, nginx, canary: healthy(['podinfo-7f8b6-ccccc'], { errorRate: 0.5, latencySeconds: 0.2 }) })
  tick(state, [input], 2, { requestsPerSecond: 100 })
  const n = state.get('shop/podinfo')!.nginx!
  t.same([n.primary.ok.count, n.primary.error.count, n.canary.ok.count, n.canary.error.count], [100, 0, 50, 50])
  t.equal(n.canary.ok.buckets[DEFAULT_BUCKETS.indexOf(0.1)], 0, 'the canary\'s 200 ms is above the 0.1 bucket')
  t.equal(n.canary.ok.buckets[DEFAULT_BUCKETS.indexOf(0.25)], 50)
  tick(state, [{ ...input, nginx: { ingress: 'web2', canaryService: 'podinfo-canary' } }], 1, { requestsPerSecond: 100 })
  t.equal(state.get('shop/podinfo')!.nginx!.primary.ok.count, 50, 'a new ingress label starts new series')
  tick(state, [app()], 1, { requestsPerSecond: 100 })
  t.equal(state.get('shop/podinfo')!.nginx, undefined, 'no longer behind nginx')
})

t.test('mirrored copies reach the canary on top of its split, the primary keeps every request', async t => {
  const state: TrafficState = new Map()
  tick(state, [app({ canaryShare: 0, mirrorShare: 0.5 })], 1, { requestsPerSecond: 100 })
  t.equal(total(state, 'podinfo-7f8b6-ccccc', 'ok'), 50, 'half the requests copied to the canary')
  t.equal(total(state, 'podinfo-primary-5d9c7-aaaaa', 'ok') + total(state, 'podinfo-primary-5d9c7-bbbbb', 'ok'), 100, 'the primary answers all of them')
  const unready = app({ canaryShare: 0, mirrorShare: 0.5, canary: { ...healthy(['podinfo-7f8b6-ccccc']), pods: [{ name: 'podinfo-7f8b6-ccccc', ready: false }] } })
  tick(state, [unready], 1, { requestsPerSecond: 100 })
  t.equal(total(state, 'podinfo-7f8b6-ccccc', 'ok'), 50, 'no copies without a ready canary pod')
})
