// One reconcile of one Canary: observe, let the phase machine decide (running the checks it asks for),
// write the status, then perform the actions in order. Every action is an "ensure", so a crash anywhere
// leaves a status from which the next reconcile (in this or another process) carries on.
import { AppsV1Api, CustomObjectsApi, PatchStrategy, setHeaderOptions, type KubeConfig, type V1Deployment } from '@kubernetes/client-node'
import type { Logger } from 'pino'
import type { Deployer } from '../deployer/deployer.ts'
import { analyseMetrics, type AnalysisDeps } from '../metrics/analysis.ts'
import { createHealthCheck } from '../metrics/health.ts'
import { describeError, isNotFound } from '../kube/errors.ts'
import { conditionally, decideOnLatest, ifUnchanged, type JsonPatchOp } from '../kube/precondition.ts'
import { revertRouterFor } from '../router/registry.ts'
import type { Router } from '../router/router.ts'
import type { ApplyClient } from '../kube/apply.ts'
import { STATE_PREFIX } from '../api/annotations.ts'
import { lintCanary } from '../api/lint.ts'
import { intervalMs } from '../api/defaults.ts'
import { formatDuration } from '../util/duration.ts'
import { canonicalJson } from '../kube/revision.ts'
import { escapeSegment } from '../kube/json-patch.ts'
import { GROUP, VERSION, type AlertSeverity, type Canary, type CanaryPhase, type CanaryStatus, type HookType } from '../api/types.ts'
import type { Caches } from './caches.ts'
import type { Action, CheckOutcome, HookOutcome, MetricOutcome, Observed } from './machine/types.ts'
import { isGenerated } from './generate.ts'
import {
  desiredReplicas, isOptedOut, primaryOf, readWeights, requestsOf, revisionOf, trackedConfigs, type Tracked,
} from './observe.ts'
import { needsMetricsHealth, nextTickAt } from './machine/phases.ts'
import { advanceWithChecks } from './machine/tick.ts'
import { workloadState } from '../deployer/workload.ts'
import { autoscalerNames } from '../deployer/primary.ts'

export const FINALIZER = 'sluice.dev/finalizer'

/** The status with an InvalidSpec condition saying why the Canary is not acted on (kept as is when unchanged). */
export function withInvalidSpec(status: CanaryStatus, message: string, now: Date): CanaryStatus {
  const others = (status.conditions ?? []).filter(c => c.type !== 'InvalidSpec')
  const before = status.conditions?.find(c => c.type === 'InvalidSpec')
  if (before?.message === message) return status
  return { ...status, conditions: [...others, { type: 'InvalidSpec', status: 'True', reason: 'InvalidSpec', message, lastTransitionTime: before?.lastTransitionTime ?? now.toISOString() }] }
}

/** The status without the InvalidSpec condition, once the spec can run again. */
export function withoutInvalidSpec(status: CanaryStatus): CanaryStatus {
  if (!status.conditions?.some(c => c.type === 'InvalidSpec')) return status
  const conditions = status.conditions.filter(c => c.type !== 'InvalidSpec')
  const { conditions: _all, ...rest } = status
  return conditions.length > 0 ? { ...rest, conditions } : rest
}

export interface ObjectReference {
  readonly apiVersion: string
  readonly kind: string
  readonly name: string
  readonly namespace: string
  readonly uid?: string
}

export interface Recorder {
  record(object: ObjectReference, type: 'Normal' | 'Warning', reason: string, message: string): Promise<void>
}

/** The parts of the telemetry the reconcile feeds. */
export interface Telemetry {
  observePhase(name: string, namespace: string, phase: CanaryPhase): void
  observeWeights(namespace: string, primary: string, canary: string, primaryWeight: number, canaryWeight: number): void
  observeMetric(name: string, namespace: string, metric: string, value: number): void
  runFinished(name: string, namespace: string, outcome: 'succeeded' | 'failed', seconds: number): void
  forget(name: string, namespace: string): void
}

/** Webhooks and alerts, behind a seam so that the reconcile does not know their transports. */
export interface Hooks {
  run(canary: Canary, type: HookType, phase: string): Promise<HookOutcome[]>
  event(canary: Canary, type: 'Normal' | 'Warning', reason: string, message: string): void
  /** Sends in the background; resolves, never rejects, with a line per alert not delivered (no address in it). */
  alert(canary: Canary, severity: AlertSeverity, message: string): Promise<readonly string[]>
}

export interface ReconcileDeps {
  readonly kc: KubeConfig
  readonly caches: Caches
  readonly kube: ApplyClient
  readonly deployer: Deployer
  readonly recorder: Recorder
  readonly telemetry: Telemetry
  readonly hooks: Hooks
  readonly analysis: Pick<AnalysisDeps, 'getSecret' | 'defaultMetricsServer'>
  readonly log: Logger
  /** The shortest analysis interval honoured; shorter ones are raised to it. */
  readonly minIntervalMs: number
  readonly now: () => Date
  /** When the next reconcile of this Canary is due (the scheduler). */
  schedule(key: string, at: Date): void
}

export interface Reconciler {
  reconcile(namespace: string, name: string): Promise<void>
}

const MILESTONES: ReadonlySet<string> = new Set(['Initialized', 'NewRevision', 'Retry', 'Promoted', 'Terminated', 'Alert'])
const RESYNC_MS = 5 * 60_000
const SETTLE_MS = 500
/** Decisions per reconcile when conditional writes keep finding the Canary changed: the cached read and two fresh ones. */
const DECISIONS = 3
const QUIET: ReadonlySet<Action['kind']> = new Set(['event', 'alert', 'check', 'run-hooks'])
const RUNNING: ReadonlySet<CanaryPhase | undefined> = new Set(['Progressing', 'WaitingPromotion', 'Promoting', 'Finalising'])

export function createReconciler(d: ReconcileDeps): Reconciler {
  const custom = d.kc.makeApiClient(CustomObjectsApi)
  const apps = d.kc.makeApiClient(AppsV1Api)
  const jsonPatch = setHeaderOptions('Content-Type', PatchStrategy.JsonPatch)
  const runStarts = new Map<string, number>()
  /** The Canary generation whose router objects this process last rebuilt in full. */
  const built = new Map<string, number | undefined>()

  const canaryRef = (c: Canary): ObjectReference => ({
    apiVersion: `${GROUP}/${VERSION}`, kind: 'Canary', name: c.metadata.name ?? '', namespace: c.metadata.namespace ?? '',
    ...(c.metadata.uid && { uid: c.metadata.uid }),
  })
  const targetRef = (c: Canary, target: V1Deployment | undefined): ObjectReference | undefined => target && ({
    apiVersion: 'apps/v1', kind: 'Deployment', name: target.metadata?.name ?? '', namespace: c.metadata.namespace ?? '',
    ...(target.metadata?.uid && { uid: target.metadata.uid }),
  })

  async function record(c: Canary, target: V1Deployment | undefined, type: 'Normal' | 'Warning', reason: string, message: string): Promise<void> {
    d.log.info({ canary: `${c.metadata.namespace}/${c.metadata.name}`, type, reason }, message)
    d.hooks.event(c, type, reason, message)
    // Every step is an Event on the Canary; the Deployment gets the warnings and the milestones, which keeps
    // `kubectl describe deploy` readable and halves the Event writes of a running analysis.
    const onTarget = type === 'Warning' || MILESTONES.has(reason) ? targetRef(c, target) : undefined
    await Promise.all([d.recorder.record(canaryRef(c), type, reason, message), onTarget && d.recorder.record(onTarget, type, reason, message)])
  }

  async function patchCanary(c: Canary, ops: readonly JsonPatchOp[], status = false): Promise<Canary> {
    const params = { group: GROUP, version: VERSION, namespace: c.metadata.namespace ?? '', plural: 'canaries', name: c.metadata.name ?? '', body: ops }
    return (status ? await custom.patchNamespacedCustomObjectStatus(params, jsonPatch) : await custom.patchNamespacedCustomObject(params, jsonPatch)) as Canary
  }

  /** A patch computed from `c` as read: refused (StaleRead) when the Canary has changed since. */
  function patchAsRead(c: Canary, ops: readonly JsonPatchOp[], status = false): Promise<Canary> {
    const rv = c.metadata.resourceVersion ?? ''
    return conditionally(`Canary ${c.metadata.namespace ?? ''}/${c.metadata.name ?? ''}`, rv, () => patchCanary(c, ifUnchanged(rv, ops), status))
  }

  async function readCanary(namespace: string, name: string): Promise<Canary | undefined> {
    try {
      return await custom.getNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: 'canaries', name }) as Canary
    } catch (e) {
      if (isNotFound(e)) return undefined
      throw e
    }
  }

  /** The Canary as read plus the finalizer: conditional, so that its resourceVersion still stands for that read. */
  async function ensureFinalizer(c: Canary): Promise<Canary> {
    const finalizers = c.metadata.finalizers
    if (finalizers?.includes(FINALIZER)) return c
    const written = await patchAsRead(c, finalizers ? [{ op: 'add', path: '/metadata/finalizers/-', value: FINALIZER }] : [{ op: 'add', path: '/metadata/finalizers', value: [FINALIZER] }])
    return { ...c, metadata: { ...c.metadata, finalizers: written.metadata.finalizers ?? [FINALIZER], resourceVersion: written.metadata.resourceVersion } }
  }

  async function removeFinalizer(c: Canary): Promise<void> {
    const i = c.metadata.finalizers?.indexOf(FINALIZER) ?? -1
    if (i < 0) return
    await patchCanary(c, [{ op: 'test', path: `/metadata/finalizers/${i}`, value: FINALIZER }, { op: 'remove', path: `/metadata/finalizers/${i}` }])
      .catch((e: unknown) => { if (!isNotFound(e)) throw e })
  }

  /** A Canary as the phase machine should see it: the interval raised to the floor this controller honours. */
  function effective(c: Canary): Canary {
    const interval = intervalMs(c.spec.analysis)
    if (interval >= d.minIntervalMs) return c
    return { ...c, spec: { ...c.spec, analysis: { ...c.spec.analysis, interval: formatDuration(d.minIntervalMs) } } }
  }

  const metricDeps: AnalysisDeps = {
      ...d.analysis,
      getTemplate: (namespace, name) => Promise.resolve(d.caches.templates.get(name, namespace)),
      now: d.now,
  }
  const metricsHealth = createHealthCheck()

  /** Whether the Canary's metrics servers answer (Flagger's IsOnline), asked only when the machine may use it. */
  async function metricsOnline(c: Canary): Promise<Pick<Observed, 'metricsOnline' | 'offlineMetricsServers'>> {
    if (c.metadata.deletionTimestamp || !needsMetricsHealth(c, d.now())) return {}
    const health = await metricsHealth.check(c, metricDeps)
    if (!health) return {}
    return { metricsOnline: health.online, ...(health.offline.length > 0 && { offlineMetricsServers: health.offline }) }
  }

  async function runStage(c: Canary, stage: string, phase: string): Promise<CheckOutcome[]> {
    if (stage !== 'metrics') return d.hooks.run(c, stage as HookType, phase)
    const records = await analyseMetrics(c, metricDeps)
    return records.map((r): MetricOutcome => {
      if (r.value !== null) d.telemetry.observeMetric(c.metadata.name ?? '', c.metadata.namespace ?? '', r.name, r.value)
      return {
        kind: 'metric', name: r.name, value: r.value ?? null, verdict: r.verdict,
        ...(r.range && { range: r.range }), ...(r.window && { window: r.window }), ...(r.message && { message: r.message }),
      }
    })
  }

  interface Scene {
    readonly c: Canary
    readonly target: V1Deployment
    readonly router: Router
    readonly tracked: Tracked
    readonly revision: string
    readonly replicas: number
    /** The router's objects were read back this reconcile. */
    readonly routed: boolean
    /** The configs the stored status recorded as tracked, whose `-primary` copies may exist. */
    readonly copiedBefore: readonly string[]
  }

  /** sluice's bookkeeping leaves with the opt-out, so that a later opt-in starts clean. */
  async function removeStateAnnotations(target: V1Deployment): Promise<void> {
    const ops = Object.keys(target.metadata?.annotations ?? {}).filter(k => k.startsWith(STATE_PREFIX))
      .map(k => ({ op: 'remove', path: `/metadata/annotations/${escapeSegment(k)}` }))
    if (ops.length === 0) return
    await apps.patchNamespacedDeployment({ namespace: target.metadata?.namespace ?? '', name: target.metadata?.name ?? '', body: ops }, jsonPatch)
  }

  async function deleteCanary(c: Canary): Promise<void> {
    await custom.deleteNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: c.metadata.namespace ?? '', plural: 'canaries', name: c.metadata.name ?? '' })
      .catch((e: unknown) => { if (!isNotFound(e)) throw e })
  }

  async function finalize(s: Scene, optedOut: boolean): Promise<void> {
    const { c } = s
    await s.router.finalize(c)
    // Copies of configs tracked now, and of any the status recorded before (a reference removed since).
    await d.deployer.removeGenerated(c, [...new Set([...s.copiedBefore, ...Object.keys(s.tracked.hashes)])])
    if (optedOut) await removeStateAnnotations(s.target)
    await removeFinalizer(c)
    // A generated Canary goes with the opt-out; one being deleted is gone once its finalizer is.
    if (optedOut && isGenerated(c) && !c.metadata.deletionTimestamp) await deleteCanary(c)
  }

  type Perform = (s: Scene, a: Action, optedOut: boolean) => Promise<void>
  type Handlers = { readonly [K in Action['kind']]: (s: Scene, a: Extract<Action, { kind: K }>, optedOut: boolean) => Promise<void> }

  const handlers: Handlers = {
    async initialize(s, a) {
      // The primary is (re)written only when it does not run this revision yet: initialize repeats every reconcile.
      if (workloadState(primaryOf(d.caches, s.c)).revision !== s.revision) {
        await d.deployer.ensurePrimary(s.c, s.target, s.revision, a.replicas, s.tracked.refs)
      }
      await syncAutoscaler(s.c)
    },
    async scale(s, a) {
      const target = s.c.spec.targetRef.name
      await d.deployer.scale(s.c.metadata.namespace ?? '', a.workload === 'canary' ? target : `${target}-primary`, a.replicas)
    },
    async route(s, a) {
      const { c } = s
      // The Services and router objects are rebuilt when missing or when the Canary's spec changed since this
      // process last built them; otherwise a step only sets the weights (a few API calls instead of ten).
      const key = `${c.metadata.namespace}/${c.metadata.name}`
      if (!s.routed || built.get(key) !== c.metadata.generation) {
        await s.router.reconcile(c)
        built.set(key, c.metadata.generation)
      }
      await s.router.setRoutes(c, { primary: a.weights.primary, canary: a.weights.canary, ...((a.weights.mirror ?? 0) > 0 && { mirror: true }) })
      d.telemetry.observeWeights(c.metadata.namespace ?? '', `${c.spec.targetRef.name}-primary`, c.spec.targetRef.name, a.weights.primary, a.weights.canary)
    },
    async promote(s, a) {
      await d.deployer.promote(s.c, s.target, a.revision, primaryOf(d.caches, s.c)?.spec?.replicas ?? s.replicas, s.tracked.refs)
    },
    finalize: (s, _a, optedOut) => finalize(s, optedOut),
    'run-hooks'(s, a) {
      const canary = `${s.c.metadata.namespace}/${s.c.metadata.name}`
      // Fire and forget: post-rollout and rollback hooks cannot change the outcome any more.
      void d.hooks.run(s.c, a.type, s.c.status?.phase ?? '').then(outcomes => {
        for (const o of outcomes) d.log.info({ canary, hook: o.name, verdict: o.verdict }, o.message ?? 'hook called')
      }, (e: unknown) => { d.log.warn({ canary, err: describeError(e) }, 'hooks failed') })
      return Promise.resolve()
    },
    event: (s, a) => record(s.c, s.target, a.type, a.reason, a.message),
    async alert(s, a) {
      // Every alert is also an Event, so that it is seen even where no AlertProvider is configured.
      await record(s.c, s.target, a.severity === 'info' ? 'Normal' : 'Warning', 'Alert', a.message)
      // Not awaited: a receiver that is slow or down must not hold up this release or the others. Each
      // alert it did not get becomes a Warning Event, seen in `kubectl describe` like any other failure.
      void d.hooks.alert(s.c, a.severity, a.message).then(failures => Promise.all(
        failures.map(f => record(s.c, s.target, 'Warning', 'AlertNotDelivered', f)),
      )).catch((e: unknown) => { d.log.warn({ canary: `${s.c.metadata.namespace}/${s.c.metadata.name}`, err: describeError(e) }, 'could not report an alert failure') })
    },
    // Checks are run inside advanceWithChecks, never performed afterwards.
    check: () => Promise.resolve(),
  }

  const perform: Perform = (s, a, optedOut) => (handlers[a.kind] as Perform)(s, a, optedOut)

  async function syncAutoscaler(c: Canary): Promise<void> {
    const names = autoscalerNames(c)
    if (!names) return
    const namespace = c.metadata.namespace
    await d.deployer.syncAutoscaler(c, d.caches.autoscalers.get(names.source, namespace), d.caches.autoscalers.get(names.primary, namespace))
  }

  function observeRun(key: string, c: Canary, before: CanaryStatus, after: CanaryStatus): void {
    const name = c.metadata.name ?? ''
    const namespace = c.metadata.namespace ?? ''
    if (after.phase) d.telemetry.observePhase(name, namespace, after.phase)
    const now = d.now().getTime()
    if (!RUNNING.has(before.phase) && RUNNING.has(after.phase)) runStarts.set(key, now)
    if (after.phase !== before.phase && (after.phase === 'Succeeded' || after.phase === 'Failed')) {
      const start = runStarts.get(key)
      runStarts.delete(key)
      if (start !== undefined) d.telemetry.runFinished(name, namespace, after.phase === 'Succeeded' ? 'succeeded' : 'failed', (now - start) / 1000)
    }
  }

  interface Observation {
    readonly scene: Scene
    readonly observed: Observed
    readonly optedOut: boolean
  }

  // The Deployment is gone: what sluice generated is owned by the Canary and goes with it.
  async function targetGone(c: Canary, deleting: boolean): Promise<void> {
    if (deleting || isGenerated(c)) await removeFinalizer(c)
    else await record(c, undefined, 'Warning', 'TargetNotFound', `Deployment ${c.metadata.namespace ?? ''}/${c.spec.targetRef.name} (spec.targetRef) does not exist; nothing to deliver until it does`)
  }

  /** Everything the phase machine reads; undefined when there is nothing to decide (no target). */
  async function observe(c: Canary): Promise<Observation | undefined> {
    const namespace = c.metadata.namespace ?? ''
    const target = d.caches.deployments.get(c.spec.targetRef.name, namespace)
    const deleting = c.metadata.deletionTimestamp !== undefined
    if (!target) {
      await targetGone(c, deleting)
      return undefined
    }
    if (!deleting) c = await ensureFinalizer(c)
    const context = { policies: d.caches.policies.list(), namespaceLabels: d.caches.namespaces.get(namespace)?.metadata?.labels ?? {} }
    const optedOut = isOptedOut(c, target, context)
    const primary = primaryOf(d.caches, c)
    const tracked = trackedConfigs(d.caches, target)
    const revision = revisionOf(target, tracked)
    const replicas = desiredReplicas(target, primary)
    // A provider without a router here (a Canary stored before an upgrade, or written by hand) is reported by
    // rejected(); its revert must still work, so it never depends on that router.
    const router = revertRouterFor(c.spec.provider, d.kube)
    const { requests, invalid } = requestsOf(c)
    for (const problem of invalid) await record(c, target, 'Warning', 'InvalidRequest', problem)
    const observed: Observed = {
      now: d.now(),
      revision,
      replicas,
      ...(c.spec.autoscalerRef && { autoscaled: true }),
      canary: workloadState(target),
      primary: workloadState(primary),
      weights: await readWeights(d.kube, router, c, target, c.spec.analysis?.mirrorWeight ?? 100),
      requests,
      ...await metricsOnline(c),
      ...(deleting && { deleting: true }),
      ...(optedOut && { optedOut: true }),
    }
    return { scene: { c, target, router, tracked, revision, replicas, routed: observed.weights !== undefined, copiedBefore: Object.keys(c.status?.trackedConfigs ?? {}) }, observed, optedOut }
  }

  /**
   * A Canary whose spec does not validate, or names what this version cannot run (one written by hand skips
   * the webhook's checks; one stored before an upgrade was checked by another version), is not acted on: it
   * is reported by a Warning Event and an InvalidSpec condition, and looked at again when it changes, never
   * retried in a loop. References are left to the checks that use them, and short intervals are raised.
   */
  async function rejected(s: Scene): Promise<boolean> {
    // Only rejections stop the controller; warnings (an ignored field, an old name) were the webhook's to give.
    const problems = lintCanary(s.c, { refs: { metricTemplate: () => true, alertProvider: () => true }, minIntervalMs: 1 }).rejections
    if (problems.length === 0) return false
    const idle = (s.target.spec?.replicas ?? 1) === 0 && !workloadState(primaryOf(d.caches, s.c)).exists
      ? `; ${s.c.spec.targetRef.name} runs no pods until then (or until sluice.dev/strategy is removed)` : ''
    const message = `${problems.join('; ')}; nothing is done until the Canary is fixed${idle}`
    await record(s.c, s.target, 'Warning', 'InvalidSpec', message)
    const status = withInvalidSpec(s.c.status ?? {}, message, d.now())
    if (canonicalJson(status) !== canonicalJson(s.c.status ?? {})) {
      // Written as read, like every status: a stale cache is refused and decided again.
      await patchAsRead(s.c, [{ op: 'add', path: '/status', value: status }], true).catch((e: unknown) => { if (!isNotFound(e)) throw e })
    }
    return true
  }

  /** Performs the actions in order; the first failure is an Event (the queue retries the reconcile). */
  async function act(s: Scene, actions: readonly Action[], optedOut: boolean): Promise<void> {
    for (const action of actions) {
      try {
        await perform(s, action, optedOut)
      } catch (e) {
        await record(s.c, s.target, 'Warning', 'ActionFailed', `${action.kind} failed: ${describeError(e)}; retrying`)
        throw e
      }
    }
    if (!actions.some(a => a.kind === 'finalize')) await syncAutoscaler(s.c)
  }

  /** The next look: the next interval, soon after acting (routes and Services are not watched), or a resync. */
  function scheduleNext(key: string, c: Canary, actions: readonly Action[]): void {
    const now = d.now().getTime()
    const tick = nextTickAt(c)?.getTime() ?? Infinity
    const soon = actions.some(a => !QUIET.has(a.kind)) ? now + SETTLE_MS : Infinity
    d.schedule(key, new Date(Math.min(tick, soon, now + RESYNC_MS)))
  }

  /** One decision on the Canary as read (from the cache, or fresh after a StaleRead), and its actions. */
  async function decide(key: string, stored: Canary): Promise<void> {
    const namespace = stored.metadata.namespace ?? ''
      const c = effective(stored)
      const seen = await observe(c)
      if (!seen) return
      if (!seen.observed.deleting && !seen.optedOut && await rejected(seen.scene)) return
      // The weights as the router shows them, also after a restart, before any route is set again.
      const routed = seen.observed.weights
      if (routed) d.telemetry.observeWeights(namespace, `${c.spec.targetRef.name}-primary`, c.spec.targetRef.name, routed.primary, routed.canary)
      const before = c.status ?? {}
      const decision = await advanceWithChecks(c, seen.observed, stage => runStage(c, stage, before.phase ?? ''))
      // trackedConfigs is what the target uses now: set afresh, so that a config no longer used leaves it.
      const { trackedConfigs: _recorded, ...decided } = decision.status
      const status: CanaryStatus = {
        ...withoutInvalidSpec(decided),
        ...(c.metadata.generation !== undefined && { observedGeneration: c.metadata.generation }),
        ...(Object.keys(seen.scene.tracked.hashes).length > 0 && { trackedConfigs: seen.scene.tracked.hashes }),
      }
    // The Canary as observe() left it: with the finalizer it may have added, and that write's resourceVersion.
    const read = seen.scene.c
    const scene: Scene = { ...seen.scene, c: { ...read, status } }
    // The status goes only onto the Canary as read, and a decision with actions is confirmed the same way
    // even when its status is unchanged (the API server does not store a no-op): a decision made from a
    // stale cache, or by a second controller, neither moves the status back nor acts. A StaleRead ends
    // this decision before any action; reconcile() decides again on a fresh read.
    if (canonicalJson(status) !== canonicalJson(before) || decision.actions.length > 0) {
      await patchAsRead(read, [{ op: 'add', path: '/status', value: status }], true).catch((e: unknown) => { if (!isNotFound(e)) throw e })
      }
      observeRun(key, c, before, status)
      if (decision.actions.length > 0) d.log.debug({ canary: key, phase: status.phase, actions: decision.actions.map(a => a.kind) }, 'actions')
      await act(scene, decision.actions, seen.optedOut)
      scheduleNext(key, scene.c, decision.actions)
  }

  return {
    async reconcile(namespace, name) {
      const key = `${namespace}/${name}`
      const stored = d.caches.canaries.get(name, namespace)
      if (!stored) {
        runStarts.delete(key)
        built.delete(key)
        d.telemetry.forget(name, namespace)
        return
      }
      // A conflict is no failure: no Warning, no backoff; the cache is behind, so the API server is asked.
      const reread = (): Promise<Canary | undefined> => {
        d.log.debug({ canary: key }, 'the Canary changed since it was read: deciding again on a fresh read')
        return readCanary(namespace, name)
      }
      const outcome = await decideOnLatest(stored, reread, c => decide(key, c), DECISIONS)
      // Another writer won every time (two controllers racing): look again shortly rather than spin.
      if (outcome === 'stale') d.schedule(key, new Date(d.now().getTime() + SETTLE_MS))
    },
  }
}
