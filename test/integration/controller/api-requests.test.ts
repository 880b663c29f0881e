// What one weight step costs the API server (issue 14), counted against the real API server: every request the
// reconciler and its Event recorder make goes through a KubeConfig that notes it (the caches watch through
// their own). A steady step writes the status, the canary Ingress and one Event (none with step Events off), and
// reads nothing: the apex Service, the Ingresses and the Canary come from the caches, and the next look is the
// next tick. A look at a Canary with nothing due asks nothing; a canary that is not ready yet is reported once
// an interval, with no status write.
import t from 'tap'
import { CoreV1Api, KubeConfig, PatchStrategy, setHeaderOptions, type RequestContext, type V1Deployment } from '@kubernetes/client-node'
import { pino } from 'pino'
import type { Canary } from '../../../src/api/types.ts'
import type { Caches } from '../../../src/controller/caches.ts'
import { createEventRecorder } from '../../../src/telemetry/events.ts'
import { kubeConfig, namespace, sluiceKubeconfigPath, type TestLike } from '../../helpers/kube.ts'
import { until } from '../../helpers/wait.ts'
import { apps, gate, newRevision, INTERVAL_MS, NAME, readCanary, reconciler, setup, startedCaches, WEIGHT, type Controller } from './nginx-release.ts'

/** sluice's identity, noting `METHOD resource[/subresource]` of every request made through it. */
class CountingKubeConfig extends KubeConfig {
  readonly requests: string[] = []
  override async applySecurityAuthentication(context: RequestContext): Promise<void> {
    const parts = new URL(context.getUrl()).pathname.split('/')
    // /api/v1/namespaces/<ns>/<resource>/<name>/<sub> or /apis/<group>/<version>/namespaces/<ns>/<resource>/...
    const at = parts.indexOf('namespaces')
    const what = at < 0 ? parts.slice(1).join('/') : parts.slice(at + 2).filter((_, i) => i !== 1).join('/')
    this.requests.push(`${context.getHttpMethod()} ${what}`)
    await super.applySecurityAuthentication(context)
  }
}

/** The requests made from now on, counted by kind. */
function counting(kc: CountingKubeConfig): () => Record<string, number> {
  const from = kc.requests.length
  return () => {
    const out: Record<string, number> = {}
    for (const r of kc.requests.slice(from)) out[r] = (out[r] ?? 0) + 1
    return out
  }
}

interface Counted {
  readonly ns: string
  readonly kc: CountingKubeConfig
  readonly caches: Caches
  readonly r: Controller['reconciler']
  readonly logs: Controller['logs']
  /** Reconciles until the Canary as the API server has it is accepted. */
  readonly reconcileUntil: (accept: (c: Canary) => boolean, what: string) => Promise<Canary>
  /** Moves the reconciler's clock on. */
  readonly pass: (ms: number) => void
  /** How long after its clock the reconciler last asked to look again (negative: at once, a time past). */
  readonly nextLookIn: () => number
}

/** The nginx release of a new namespace brought to Initialized by a reconciler whose requests are counted. */
async function initialized(t: TestLike, stepEvents?: boolean): Promise<Counted> {
  const ns = await namespace(t)
  await setup(ns, await gate(t))
  const { caches } = await startedCaches(t, ns)
  const kc = new CountingKubeConfig()
  kc.loadFromFile(sluiceKubeconfigPath())
  const recorder = createEventRecorder({ kc, logger: pino({ level: 'silent' }) })
  let clock = Date.now()
  let scheduled = Number.NaN
  const { reconciler: r, logs } = reconciler(kc, caches, () => new Date(clock), recorder, stepEvents, (_key, at) => { scheduled = at.getTime() })
  const reconcileUntil = (accept: (c: Canary) => boolean, what: string): Promise<Canary> =>
    until(async () => { await r.reconcile(ns, NAME); return await readCanary(ns) }, accept, what, 120_000)
  await reconcileUntil(c => c.status?.phase === 'Initialized', 'Initialized')
  return { ns, kc, caches, r, logs, reconcileUntil, pass: ms => { clock += ms }, nextLookIn: () => scheduled - clock }
}

/** A release of `ns` brought to canaryWeight 10, with the reconciler's own requests counted from then on. */
async function atFirstStep(t: TestLike, stepEvents?: boolean): Promise<{ ns: string; kc: CountingKubeConfig; r: Controller['reconciler']; logs: Controller['logs']; next: () => void; settled: (c: Canary) => Promise<void>; nextLookIn: () => number }> {
  const { ns, kc, caches, r, logs, reconcileUntil, pass, nextLookIn } = await initialized(t, stepEvents)
  // The caches have seen `c` and the route it stands at: the reconciler is woken as the work queue would wake it.
  const settled = async (c: Canary): Promise<void> => {
    await until(async () => caches.canaries.get(NAME, ns)?.metadata.resourceVersion, rv => rv === c.metadata.resourceVersion, 'the Canary cache to catch up')
    await until(async () => caches.ingresses.get('web-canary', ns)?.metadata?.annotations?.[WEIGHT], w => w === String(c.status?.canaryWeight), 'the Ingress cache to catch up')
  }

  await newRevision(ns)
  await reconcileUntil(c => c.status?.phase === 'Progressing', 'Progressing')
  pass(INTERVAL_MS)
  // The first route of this process builds the Services and the Ingress in full.
  await settled(await reconcileUntil(c => c.status?.canaryWeight === 10, 'canaryWeight 10'))
  return { ns, kc, r, logs, settled, nextLookIn, next: () => { pass(INTERVAL_MS) } }
}

t.test('a steady weight step writes the status, the route and its Event once each, and reads nothing', async t => {
  const { ns, kc, r, settled, next, nextLookIn } = await atFirstStep(t)
  next()
  const step = counting(kc)
  await r.reconcile(ns, NAME)
  const stepped = await readCanary(ns)
  t.equal(stepped.status?.canaryWeight, 20, 'one reconcile, one step')
  t.same(step(), { 'PATCH canaries/status': 1, 'PATCH ingresses': 1, 'POST events': 1 },
    'the status, the canary Ingress (server-side apply) and the step\'s Event: no read of the Service, the Ingresses or the Canary')
  t.equal(nextLookIn(), INTERVAL_MS, 'the next look is the next tick: a step needs no look soon after')

  // Woken again before anything is due (its own status write seen by the watch): nothing to ask.
  await settled(stepped)
  const idle = counting(kc)
  await r.reconcile(ns, NAME)
  t.same(idle(), {}, 'a look with nothing due makes no request')
  t.equal((await readCanary(ns)).metadata.resourceVersion, stepped.metadata.resourceVersion)
})

t.test('with step Events off a step writes the status and the route only, and still logs the step', async t => {
  const { ns, kc, r, logs, next } = await atFirstStep(t, false)
  next()
  const step = counting(kc)
  await r.reconcile(ns, NAME)
  t.equal((await readCanary(ns)).status?.canaryWeight, 20, 'one reconcile, one step')
  t.same(step(), { 'PATCH canaries/status': 1, 'PATCH ingresses': 1 }, 'no Event for the step')
  t.ok(logs.some(l => /^Advance \S+ canary weight 20$/.test(l.msg ?? '')), 'the step is in the log (and goes to the event webhooks)')
  // sluice may create Events but not list them: the test reads them as the admin.
  const events = await kubeConfig().makeApiClient(CoreV1Api).listNamespacedEvent({ namespace: ns })
  t.notOk(events.items.some(e => e.reason === 'Advanced'), 'no Advanced Event on the Canary')
  t.ok(events.items.some(e => e.reason === 'Started' || e.reason === 'NewRevision'), 'the release\'s other Events are still written')
})

/** The Deployment controller has created the pods of the current template, and some are not available. */
function podsCreatedNotReady(d: V1Deployment | undefined): boolean {
  const { spec, status, metadata } = d ?? {}
  const wanted = spec?.replicas ?? 0
  const observed = (status?.observedGeneration ?? 0) >= (metadata?.generation ?? 1)
  return observed && wanted > 0 && status?.updatedReplicas === wanted && (status.unavailableReplicas ?? 0) > 0
}

t.test('a canary that is not ready yet is reported once it holds back a due tick, then once an interval, without status writes', async t => {
  const { ns, kc, caches, r, reconcileUntil, pass, nextLookIn } = await initialized(t)
  // The new revision's pods can go on no node: they stay Pending, the canary is never ready.
  await apps.patchNamespacedDeployment({ namespace: ns, name: NAME, body: [
    { op: 'add', path: '/spec/template/spec/nodeSelector', value: { 'sluice.dev/test-node': 'none' } },
  ] }, setHeaderOptions('Content-Type', PatchStrategy.JsonPatch))
  await reconcileUntil(c => c.status?.phase === 'Progressing', 'Progressing')
  // The Deployment controller has rolled out the canary's (Pending) pods: its status stands still from here.
  await until(async () => caches.deployments.get(NAME, ns), podsCreatedNotReady, 'the canary\'s pods created, not ready')
  const progressing = await readCanary(ns)

  const within = counting(kc)
  for (let look = 0; look < 4; look++) {
    await r.reconcile(ns, NAME)
    t.ok(nextLookIn() > 0, `the next look is ahead (in ${nextLookIn()} ms), not at once`)
    pass(2_000)
  }
  t.same(within(), {}, 'four looks before the tick is due (a Deployment status change each, say) ask nothing: no Event yet, no status write')
  pass(INTERVAL_MS)
  const held = counting(kc)
  await r.reconcile(ns, NAME)
  t.same(held(), { 'POST events': 1 }, 'the wait holds back a due tick: its Event')
  // The tick the machine did not take stays due: the next look must still be ahead, or the reconciler spins.
  t.ok(nextLookIn() > 0, `past the tick, the next look is still ahead (in ${nextLookIn()} ms), not at once`)
  pass(INTERVAL_MS)
  const next = counting(kc)
  await r.reconcile(ns, NAME)
  t.same(next(), { 'PATCH events': 1 }, 'an interval on, the same wait bumps its Event\'s count')
  t.ok(nextLookIn() > 0, `and the next look is ahead again (in ${nextLookIn()} ms)`)

  t.equal((await readCanary(ns)).metadata.resourceVersion, progressing.metadata.resourceVersion, 'the Canary was not written while it waited')
  const events = await kubeConfig().makeApiClient(CoreV1Api).listNamespacedEvent({ namespace: ns })
  const waits = events.items.filter(e => e.reason === 'CanaryNotReady')
  t.equal(waits.length, 1)
  t.equal(waits[0]?.count, 2, 'recorded twice: at the held tick and an interval later')
  t.match(waits[0]?.message, /^waiting for the canary before analysing at weight 0: podinfo: 0 of 1 updated replicas available/)
})
