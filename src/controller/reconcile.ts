// One reconcile of one Canary: observe, let the phase machine decide (running the checks it asks for),
// write the status, then perform the actions in order. Every action is an "ensure", so a crash anywhere
// leaves a status from which the next reconcile (in this or another process) carries on. Every decision is
// the machine's or a pure rule beside it (machine/reconcile-rules.ts); this file only wires and acts.
import type { KubeConfig } from '@kubernetes/client-node'
import type { Logger } from 'pino'
import type { Deployer } from '../deployer/deployer.ts'
import { workloadState } from '../deployer/workload.ts'
import { analyseMetrics, type AnalysisDeps } from '../metrics/analysis.ts'
import { OwnWrites } from '../kube/own-writes.ts'
import { cachedObjects } from '../kube/cached-objects.ts'
import { decideOnLatest } from '../kube/precondition.ts'
import type { ApplyClient } from '../kube/apply.ts'
import type { Canary, CanaryStatus, HookType } from '../api/types.ts'
import { DEFAULTS, intervalMs } from '../api/defaults.ts'
import { lastProgressMs } from './machine/status.ts'
import type { Caches } from './caches.ts'
import type { CheckOutcome, MetricOutcome } from './machine/types.ts'
import { advanceWithChecks } from './machine/tick.ts'
import {
  deadlineTickMs, invalidSpecMessage, mustWriteStatus, nextLookAt, runTransition, SETTLE_MS, specLints, statusAfterDecision, withInvalidSpec,
  withIntervalFloor,
} from './machine/reconcile-rules.ts'
import { createActor, type Scene } from './actions.ts'
import { createCanaryClient } from './canary-client.ts'
import { createCanaryEvents } from './canary-events.ts'
import { createObserver } from './observer.ts'
import { primaryOf } from './observe.ts'
import type { Hooks, Recorder, Telemetry } from './ports.ts'


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
  /** Whether each step is also written as a Kubernetes Event (default true). */
  readonly stepEvents?: boolean
  readonly now: () => Date
  /** When the next reconcile of this Canary is due (the scheduler). */
  schedule(key: string, at: Date): void
}

export interface Reconciler {
  reconcile(namespace: string, name: string): Promise<void>
}

/** Decisions per reconcile when conditional writes keep finding the Canary changed: the cached read and two fresh ones. */
const DECISIONS = 3

export function createReconciler(d: ReconcileDeps): Reconciler {
  const client = createCanaryClient(d.kc)
  const record = createCanaryEvents(d)
  const metricDeps: AnalysisDeps = {
    ...d.analysis,
    getTemplate: (namespace, name) => Promise.resolve(d.caches.templates.get(name, namespace)),
    now: d.now,
  }
  // The routers read the apex, the Ingresses and the target from the caches and skip writes of what is stored already.
  const routes = cachedObjects(d.kube, {
    'v1/Service': d.caches.services, 'networking.k8s.io/v1/Ingress': d.caches.ingresses, 'apps/v1/Deployment': d.caches.deployments,
  })
  const observe = createObserver({ caches: d.caches, kube: routes, client, record, metricDeps, now: d.now })
  const actor = createActor({ ...d, client, record })
  const runStarts = new Map<string, number>()
  const ownWrites = new OwnWrites<Canary>()
  const lints = specLints()

  /**
   * The status onto the Canary as read, remembered so that a cache still behind it is not decided on: the
   * Canary as written is decided on instead (no GET). Not kept when the actions write the Canary again
   * (finalize: the finalizer goes, the Canary may be gone): a read behind that is then read fresh.
   */
  async function writeStatus(c: Canary, status: CanaryStatus, rewritten = false): Promise<void> {
    const written = await client.writeStatus(c, status)
    ownWrites.note(`${c.metadata.namespace ?? ''}/${c.metadata.name ?? ''}`, c.metadata.resourceVersion, written?.metadata.resourceVersion, rewritten ? undefined : written)
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

  /** Phase and run-duration telemetry for a status change. */
  function observeRun(key: string, c: Canary, before: CanaryStatus, after: CanaryStatus): void {
    const name = c.metadata.name ?? ''
    const namespace = c.metadata.namespace ?? ''
    const progress = lastProgressMs(after)
    const deadlineMs = (c.spec.progressDeadlineSeconds ?? DEFAULTS.progressDeadlineSeconds) * 1000
    const deadlineAt = progress === undefined ? undefined : deadlineTickMs(progress, deadlineMs, intervalMs(c.spec.analysis))
    if (after.phase) d.telemetry.observePhase(name, namespace, after.phase, deadlineAt)
    const transition = runTransition(before.phase, after.phase)
    if (transition === 'start') runStarts.set(key, d.now().getTime())
    if (transition !== 'succeeded' && transition !== 'failed') return
    const start = runStarts.get(key)
    runStarts.delete(key)
    if (start !== undefined) d.telemetry.runFinished(name, namespace, transition, (d.now().getTime() - start) / 1000)
  }

  /**
   * A Canary whose spec does not validate, or names what this version cannot run (one written by hand skips
   * the webhook's checks; one stored before an upgrade was checked by another version), is not acted on: it
   * is reported by a Warning Event and an InvalidSpec condition, and looked at again when it changes, never
   * retried in a loop.
   */
  async function rejected(s: Scene): Promise<boolean> {
    const problems = lints.problems(s.c)
    if (problems.length === 0) return false
    const idle = (s.target.spec?.replicas ?? 1) === 0 && !workloadState(primaryOf(d.caches, s.c)).exists
    const message = invalidSpecMessage(s.c, idle, problems) ?? ''
    await record(s.c, s.target, 'Warning', 'InvalidSpec', message)
    const before = s.c.status ?? {}
    const status = withInvalidSpec(before, message, d.now())
    // Written as read, like every status: a stale cache is refused and decided again.
    if (mustWriteStatus(before, status, [])) await writeStatus(s.c, status)
    return true
  }

  /** One decision on the Canary as read (from the cache, or fresh after a StaleRead), and its actions. */
  async function decide(key: string, stored: Canary): Promise<void> {
    const c = withIntervalFloor(stored, d.minIntervalMs)
    const seen = await observe(c)
    if (!seen) return
    if (!seen.observed.deleting && !seen.scene.optedOut && await rejected(seen.scene)) return
    // The weights as the router shows them, also after a restart, before any route is set again.
    const routed = seen.observed.weights
    if (routed) d.telemetry.observeWeights(c.metadata.namespace ?? '', `${c.spec.targetRef.name}-primary`, c.spec.targetRef.name, routed.primary, routed.canary)
    const before = c.status ?? {}
    const decision = await advanceWithChecks(c, seen.observed, stage => runStage(c, stage, before.phase ?? ''))
    const status = statusAfterDecision(decision.status, c.metadata.generation, seen.scene.tracked.hashes)
    // The Canary as observe() left it: with the finalizer it may have added, and that write's resourceVersion.
    const read = seen.scene.c
    // The status goes only onto the Canary as read: a decision made from a stale cache, or by a second
    // controller, neither moves the status back nor acts. A StaleRead ends this decision before any action;
    // reconcile() decides again on a fresh read.
    if (mustWriteStatus(before, status, decision.actions)) await writeStatus(read, status, decision.actions.some(a => a.kind === 'finalize'))
    observeRun(key, c, before, status)
    if (decision.actions.length > 0) d.log.debug({ canary: key, phase: status.phase, actions: decision.actions.map(a => a.kind) }, 'actions')
    const scene: Scene = { ...seen.scene, c: { ...read, status } }
    await actor.act(scene, decision.actions)
    d.schedule(key, nextLookAt(d.now(), scene.c, decision.actions, before.phase))
  }

  return {
    async reconcile(namespace, name) {
      const key = `${namespace}/${name}`
      const cached = d.caches.canaries.get(name, namespace)
      if (!cached) {
        runStarts.delete(key)
        actor.forget(key)
        ownWrites.forget(key)
        lints.forget(key)
        d.telemetry.forget(name, namespace)
        return
      }
      // Woken before the watch has delivered this process's own last status write (an Event or a Deployment
      // change right after it): a decision on the cache would re-run that tick's checks and hooks, for its
      // write to be refused. The Canary as that write stored it instead (a later change by anyone else makes
      // the next conditional write fail and the Canary be read fresh), else one fresh read.
      const behind = ownWrites.behind(key, cached.metadata.resourceVersion)
      if (behind) d.log.debug({ canary: key }, 'the cache has not seen our last status write yet: deciding on the Canary as written')
      const stored = behind ? ownWrites.written(key) ?? await client.read(namespace, name) : cached
      if (!stored) return
      // A conflict is no failure: no Warning, no backoff; the cache is behind, so the API server is asked.
      const reread = (): Promise<Canary | undefined> => {
        d.log.debug({ canary: key }, 'the Canary changed since it was read: deciding again on a fresh read')
        return client.read(namespace, name)
      }
      const outcome = await decideOnLatest(stored, reread, c => decide(key, c), DECISIONS)
      // Another writer won every time (two controllers racing): look again shortly rather than spin.
      if (outcome === 'stale') d.schedule(key, new Date(d.now().getTime() + SETTLE_MS))
    },
  }
}
