// Performs the phase machine's actions, in order, through the deployer and the router. Every action is an
// "ensure", so a failure part-way leaves nothing that the next reconcile cannot carry on from.
import type { V1Deployment } from '@kubernetes/client-node'
import type { Logger } from 'pino'
import type { Deployer } from '../deployer/deployer.ts'
import { workloadState } from '../deployer/workload.ts'
import { autoscalerNames } from '../deployer/primary.ts'
import { describeError } from '../kube/errors.ts'
import type { Router } from '../router/router.ts'
import type { Canary } from '../api/types.ts'
import type { Caches } from './caches.ts'
import type { CanaryClient } from './canary-client.ts'
import type { RecordEvent } from './canary-events.ts'
import type { Hooks, Telemetry } from './ports.ts'
import type { Action } from './machine/types.ts'
import { needsRouterRebuild } from './machine/reconcile-rules.ts'
import { isGenerated } from './generate.ts'
import { primaryOf, type Tracked } from './observe.ts'

/** What the actions act on, as observed for this reconcile. */
export interface Scene {
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
  readonly optedOut: boolean
}

export interface ActorDeps {
  readonly caches: Caches
  readonly deployer: Deployer
  readonly client: CanaryClient
  readonly telemetry: Telemetry
  readonly hooks: Hooks
  readonly record: RecordEvent
  readonly log: Logger
}

export interface Actor {
  /**
   * Performs the actions in order. The first failure is a Warning Event and is thrown (the queue retries);
   * the changes after it are left to the retry, the notices after it (events, alerts, hooks) still go out.
   */
  act(s: Scene, actions: readonly Action[]): Promise<void>
  /** This process's memory of a Canary (which generation's router objects it built) is dropped. */
  forget(key: string): void
}

/** One-shot notices, decided once with the status that records them: performed even after a failed action. */
const NOTICES: ReadonlySet<Action['kind']> = new Set(['event', 'alert', 'run-hooks'])

type Handlers = { readonly [K in Action['kind']]: (s: Scene, a: Extract<Action, { kind: K }>) => Promise<void> }
type Perform = (s: Scene, a: Action) => Promise<void>

export function createActor(d: ActorDeps): Actor {
  /** The Canary generation whose router objects this process last rebuilt in full. */
  const built = new Map<string, number | undefined>()

  async function syncAutoscaler(c: Canary): Promise<void> {
    const names = autoscalerNames(c)
    if (!names) return
    const namespace = c.metadata.namespace
    await d.deployer.syncAutoscaler(c, d.caches.autoscalers.get(names.source, namespace), d.caches.autoscalers.get(names.primary, namespace))
  }

  async function finalize(s: Scene): Promise<void> {
    const { c } = s
    await s.router.finalize(c)
    // Copies of configs tracked now, and of any the status recorded before (a reference removed since).
    await d.deployer.removeGenerated(c, [...new Set([...s.copiedBefore, ...Object.keys(s.tracked.hashes)])])
    if (s.optedOut) await d.client.removeStateAnnotations(s.target)
    await d.client.removeFinalizer(c)
    // A generated Canary goes with the opt-out; one being deleted is gone once its finalizer is.
    if (s.optedOut && isGenerated(c) && !c.metadata.deletionTimestamp) await d.client.delete(c)
  }

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
      const key = `${c.metadata.namespace}/${c.metadata.name}`
      if (needsRouterRebuild(s.routed, built.get(key), c.metadata.generation)) {
        await s.router.reconcile(c)
        built.set(key, c.metadata.generation)
      }
      await s.router.setRoutes(c, { primary: a.weights.primary, canary: a.weights.canary, ...((a.weights.mirror ?? 0) > 0 && { mirror: true }) })
      d.telemetry.observeWeights(c.metadata.namespace ?? '', `${c.spec.targetRef.name}-primary`, c.spec.targetRef.name, a.weights.primary, a.weights.canary)
    },
    async promote(s, a) {
      await d.deployer.promote(s.c, s.target, a.revision, primaryOf(d.caches, s.c)?.spec?.replicas ?? s.replicas, s.tracked.refs)
    },
    finalize: s => finalize(s),
    'run-hooks'(s, a) {
      const canary = `${s.c.metadata.namespace}/${s.c.metadata.name}`
      // Fire and forget: post-rollout and rollback hooks cannot change the outcome any more.
      void d.hooks.run(s.c, a.type, s.c.status?.phase ?? '').then(outcomes => {
        for (const o of outcomes) d.log.info({ canary, hook: o.name, verdict: o.verdict }, o.message ?? 'hook called')
      }, (e: unknown) => { d.log.warn({ canary, err: describeError(e) }, 'hooks failed') })
      return Promise.resolve()
    },
    event: (s, a) => d.record(s.c, s.target, a.type, a.reason, a.message, a.onceEvery),
    async alert(s, a) {
      // A warn or error alert is also an Event, so that it is seen even where no AlertProvider is configured.
      // An info alert is not: the machine raises one only beside a milestone's Event (Initialized, NewRevision,
      // Promoted), which says the same, on the Canary and the Deployment.
      if (a.severity !== 'info') await d.record(s.c, s.target, 'Warning', 'Alert', a.message)
      // Not awaited: a receiver that is slow or down must not hold up this release or the others. Each
      // alert it did not get becomes a Warning Event, seen in `kubectl describe` like any other failure.
      void d.hooks.alert(s.c, a.severity, a.message).then(failures => Promise.all(
        failures.map(f => d.record(s.c, s.target, 'Warning', 'AlertNotDelivered', f)),
      )).catch((e: unknown) => { d.log.warn({ canary: `${s.c.metadata.namespace}/${s.c.metadata.name}`, err: describeError(e) }, 'could not report an alert failure') })
    },
    // Checks are run while the machine decides, never performed afterwards.
    check: () => Promise.resolve(),
  }

  const perform: Perform = (s, a) => (handlers[a.kind] as Perform)(s, a)

  return {
    async act(s, actions) {
      let failure: { readonly error: unknown } | undefined
      for (const action of actions) {
        // After a failure the remaining changes wait for the retry, but the notices go out now: the status
        // already records the decision, so the retry does not decide it again and they would be lost.
        if (failure && !NOTICES.has(action.kind)) continue
        try {
          await perform(s, action)
        } catch (e) {
          if (failure) {
            d.log.warn({ canary: `${s.c.metadata.namespace}/${s.c.metadata.name}`, action: action.kind, err: describeError(e) }, 'action failed')
            continue
          }
          failure = { error: e }
          await d.record(s.c, s.target, 'Warning', 'ActionFailed', `${action.kind} failed: ${describeError(e)}; retrying`).catch(() => undefined)
        }
      }
      if (failure) throw failure.error
      if (!actions.some(a => a.kind === 'finalize')) await syncAutoscaler(s.c)
    },
    forget: key => { built.delete(key) },
  }
}
