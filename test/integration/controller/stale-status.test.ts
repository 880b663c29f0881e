// Status writes that cannot go back in time, against the real API server: a second reconciler whose
// Canary cache is behind (it holds a version of the Canary the API server sent earlier) decides from that
// stale status. Its status write, or the confirmation of its actions, is refused with 409; it re-reads the
// Canary and decides again, and nothing of the stale decision is performed. A watch records every version
// of the status and of the nginx canary Ingress: the weight never goes back and the check log only grows.
import t from 'tap'
import type { KubernetesObject, V1Ingress } from '@kubernetes/client-node'
import { normalizeCanary } from '../../../src/api/compat.ts'
import type { Caches } from '../../../src/controller/caches.ts'
import { createInformer } from '../../../src/kube/informer.ts'
import type { Canary, CanaryStatus } from '../../../src/api/types.ts'
import { namespace, type TestLike } from '../../helpers/kube.ts'
import { until } from '../../helpers/wait.ts'
import { admin, custom, gate, newRevision, INTERVAL_MS, NAME, net, readCanary, reconciler, setup, startedCaches, WEIGHT, type Controller } from './nginx-release.ts'

interface Versions {
  readonly statuses: { rv: string; status: CanaryStatus }[]
  readonly weights: string[]
}

/**
 * Every version of the Canary's status and of the canary Ingress's weight, as the watch delivers them (an
 * informer: it re-opens a watch the API server refuses while the CRD's watch cache starts).
 */
async function record(t: TestLike, ns: string): Promise<Versions> {
  const seen: Versions = { statuses: [], weights: [] }
  const canaries = createInformer<KubernetesObject>(admin, {
    path: `/apis/sluice.dev/v1beta1/namespaces/${ns}/canaries`,
    list: async () => await custom.listNamespacedCustomObject({ group: 'sluice.dev', version: 'v1beta1', namespace: ns, plural: 'canaries' }) as { items: KubernetesObject[] },
  })
  canaries.on(o => {
    const c = o as Canary
    const rv = c.metadata.resourceVersion ?? ''
    if (seen.statuses.at(-1)?.rv !== rv) seen.statuses.push({ rv, status: c.status ?? {} })
  })
  const ingresses = createInformer<V1Ingress>(admin, {
    path: `/apis/networking.k8s.io/v1/namespaces/${ns}/ingresses`, list: () => net.listNamespacedIngress({ namespace: ns }),
  })
  ingresses.on(i => {
    const weight = i.metadata?.annotations?.[WEIGHT]
    if (i.metadata?.name === 'web-canary' && weight !== undefined && seen.weights.at(-1) !== weight) seen.weights.push(weight)
  })
  await Promise.all([canaries.start(), ingresses.start()])
  t.teardown(() => { canaries.stop(); ingresses.stop() })
  return seen
}

/** The caches as they are, except that the Canary is stuck at `snapshot`: an informer behind the API server. */
function behind(caches: Caches, snapshot: Canary): Caches {
  // Normalised as the informer stores it (Flagger's canaryAnalysis read as analysis).
  const cached = normalizeCanary(snapshot)
  return { ...caches, canaries: { ...caches.canaries, get: () => cached } }
}

const ingressWeight = async (ns: string): Promise<string | undefined> =>
  (await net.readNamespacedIngress({ name: 'web-canary', namespace: ns })).metadata?.annotations?.[WEIGHT]

const redecided = (c: Controller): number => c.logs.filter(l => l.msg?.includes('deciding again on a fresh read')).length

t.test('a reconciler deciding from a stale Canary neither writes its status back nor acts; it decides again on a fresh read', async t => {
  const ns = await namespace(t)
  const seen = await record(t, ns)
  await setup(ns, await gate(t))
  const { kc, caches } = await startedCaches(t, ns)
  let clock = Date.now()
  const a = reconciler(kc, caches, () => new Date(clock))
  // As the work queue would: reconcile again until the Canary shows what is awaited.
  const reconcileUntil = (c: Controller, accept: (canary: Canary) => boolean, what: string): Promise<Canary> =>
    until(async () => { await c.reconciler.reconcile(ns, NAME); return await readCanary(ns) }, accept, what, 120_000)
  const tick = async (weight: number): Promise<Canary> => {
    clock += INTERVAL_MS
    return await reconcileUntil(a, c => c.status?.canaryWeight === weight, `canaryWeight ${weight}`)
  }

  await reconcileUntil(a, c => c.status?.phase === 'Initialized', 'Initialized')
  await newRevision(ns)
  await reconcileUntil(a, c => c.status?.phase === 'Progressing', 'Progressing')
  await tick(10)
  const tickedAt = clock
  const stale = await readCanary(ns)
  await tick(20)
  const current = await tick(30)
  t.equal(current.status?.checks?.length, 2, 'two ticks with the gate: two checks')
  t.equal(await ingressWeight(ns), '30')

  // Not due by the stale status, whose weight (10) the router no longer shows: it would set the route back.
  const early = reconciler(kc, behind(caches, stale), () => new Date(tickedAt))
  await early.reconciler.reconcile(ns, NAME)
  t.equal(redecided(early), 1, 'the confirmation was refused and the Canary read again')
  t.equal((await readCanary(ns)).metadata.resourceVersion, current.metadata.resourceVersion, 'the status was not written')
  t.equal(await ingressWeight(ns), '30', 'the route was not set back')
  t.same(early.events, [], 'not even the stale decision\'s Events')

  // Due by both: the stale decision would write 20 with one check over 30 with two; the fresh one steps to 40.
  const late = reconciler(kc, behind(caches, stale), () => new Date(clock + INTERVAL_MS))
  await late.reconciler.reconcile(ns, NAME)
  t.equal(redecided(late), 1, 'the stale write was refused and the Canary read again')
  const after = await readCanary(ns)
  t.equal(after.status?.canaryWeight, 40, 'decided again on the fresh status: the next step')
  t.same(after.status?.checks?.slice(0, 2), current.status?.checks, 'the check log kept what it had')
  t.equal(after.status?.checks?.length, 3)
  t.equal(await ingressWeight(ns), '40')
  t.same(late.events.filter(e => e.type === 'Warning'), [], 'a conflict is no warning')

  // Every version the API server stored, in order.
  const last = after.metadata.resourceVersion
  await until(async () => seen.statuses.at(-1)?.rv, rv => rv === last, 'the watch to reach the last version')
  const running = seen.statuses.filter(v => v.status.phase === 'Progressing').map(v => v.status)
  const weights = running.map(s => s.canaryWeight ?? 0)
  t.same([...new Set(weights)], [0, 10, 20, 30, 40], 'canaryWeight went up one step at a time')
  t.ok(weights.every((w, i) => i === 0 || w >= weights[i - 1]!), `canaryWeight never went back: ${weights.join(' ')}`)
  const grows = running.every((s, i) => {
    const prev = running[i - 1]?.checks ?? []
    return JSON.stringify((s.checks ?? []).slice(0, prev.length)) === JSON.stringify(prev)
  })
  t.ok(grows, 'every version of the check log begins with the one before')
  await until(async () => seen.weights.at(-1), w => w === '40', 'the watch to see the last route')
  t.same(seen.weights, ['0', '10', '20', '30', '40'], 'the canary Ingress weight never went back')
})

t.test('a reconciler woken before its cache has seen its own status write reads the Canary fresh: the tick\'s hook does not run again', async t => {
  const ns = await namespace(t)
  // A failing pre-rollout hook: each due tick calls it once, counts a failed check and stays at weight 0.
  // Written with canaryAnalysis: the fresh read must see it as the cache does.
  const calls = { n: 0 }
  await setup(ns, await gate(t, calls, 500), 'pre-rollout', 'canaryAnalysis')
  const { kc, caches } = await startedCaches(t, ns)
  let clock = Date.now()
  const live = reconciler(kc, caches, () => new Date(clock))
  const reconcileUntil = (accept: (canary: Canary) => boolean, what: string): Promise<Canary> =>
    until(async () => { await live.reconciler.reconcile(ns, NAME); return await readCanary(ns) }, accept, what, 120_000)
  await reconcileUntil(c => c.status?.phase === 'Initialized', 'Initialized')
  await newRevision(ns)
  await reconcileUntil(c => c.status?.phase === 'Progressing', 'Progressing')
  // Reconciles until the first tick runs the hook, each on a cache frozen at the version it decides on: the
  // last one is then left behind the status write of that tick.
  clock += INTERVAL_MS
  let frozen = reconciler(kc, caches, () => new Date(clock))
  const ticked = await until(async () => {
    frozen = reconciler(kc, behind(caches, await readCanary(ns)), () => new Date(clock))
    await frozen.reconciler.reconcile(ns, NAME)
    return await readCanary(ns)
  }, () => calls.n > 0, 'the first tick to run the pre-rollout hook')
  t.equal(ticked.status?.failedChecks, 1, 'the due tick ran the hook and counted its failure')
  t.equal(calls.n, 1, 'the hook ran once')
  // Woken again at once (an Event, a Deployment change): the cache still holds the replaced version.
  await frozen.reconciler.reconcile(ns, NAME)
  t.equal(calls.n, 1, 'the hook did not run a second time for the same tick')
  t.equal(redecided(frozen), 0, 'no decision was made on the stale read, so none was refused')
  t.equal(frozen.logs.filter(l => l.msg?.includes('has not seen our last status write')).length, 1, 'it read the Canary fresh instead')
  t.equal((await readCanary(ns)).metadata.resourceVersion, ticked.metadata.resourceVersion, 'nothing written: not due on the fresh status')
  t.ok((await readCanary(ns)).spec.canaryAnalysis, 'stored with the old name')
})
