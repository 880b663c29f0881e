// The vocabulary of the phase machine: what the controller observed, and what it asks the adapters to do.
// Plain data only, so that a transition is a value in and a value out.
import type {
  AlertSeverity, CanarySpec, CanaryStatus, CheckVerdict, HookType, ObjectMeta, ThresholdRange,
} from '../../api/types.ts'
import type { WorkloadState } from '../../deployer/workload.ts'
import type { HookOutcome } from '../../hooks/webhooks.ts'

// Defined by the modules that produce them (the deployer reads workloads, the hooks module calls webhooks),
// so that neither imports the controller; re-exported here as part of the machine's vocabulary.
export type { HookOutcome, WorkloadState }

/**
 * The traffic split the machine wants and observes, mirror as a percentage; with strategy ab, `canary: 100`
 * means "matching requests go to the canary". A router stores it as RouteWeights (router/router.ts).
 */
export interface TrafficSplit {
  readonly primary: number
  readonly canary: number
  /** Percentage of the primary's requests mirrored to the canary; absent when not mirroring. */
  readonly mirror?: number
}

/** One metric query of this tick, with the verdict the metrics module gave it. */
export interface MetricOutcome {
  readonly kind: 'metric'
  readonly name: string
  /** null when the query returned nothing usable (no series, NaN) or failed. */
  readonly value: number | null
  readonly range?: ThresholdRange
  readonly window?: string
  readonly verdict: CheckVerdict
  readonly message?: string
}

export type CheckOutcome = MetricOutcome | HookOutcome

/** What `check` asks for: the webhooks of one type, or every metric of the analysis. */
export type CheckStage = HookType | 'metrics'

/**
 * Requests an operator made (sluice promote|abort|retry), as the time each was made. A request counts only
 * when it is newer than status.lastTransitionTime, so it is used once: the transition it causes makes it stale.
 */
export interface OperatorRequests {
  readonly retry?: Date
  readonly promote?: Date
  readonly abort?: Date
}

export interface Observed {
  readonly now: Date
  /** Hash of what the user wrote: the target's pod template and the configs it tracks. */
  readonly revision: string
  /** The replica count the user asked for (recorded by the webhook), or what the autoscaler wants. */
  readonly replicas: number
  /** An autoscaler owns replica counts: do not fight it, only scale up from zero. */
  readonly autoscaled?: boolean
  /** The target Deployment, which runs the canary. */
  readonly canary: WorkloadState
  readonly primary: WorkloadState
  /** What the router reports; undefined until the apex Service and router objects point at the primary. */
  readonly weights?: TrafficSplit
  /** Outcomes of the checks run for this tick, as asked for by `check` actions. */
  readonly checks?: readonly CheckOutcome[]
  /** false: a metrics server of the Canary did not answer its health query; metrics are not run and count as errors. */
  readonly metricsOnline?: boolean
  /** With metricsOnline false: the servers that did not answer, without credentials (scheme://host/path). */
  readonly offlineMetricsServers?: readonly string[]
  readonly requests?: OperatorRequests
  /** The Canary (or its Deployment) is being deleted. */
  readonly deleting?: boolean
  /** The Deployment's opt-in annotation was removed. */
  readonly optedOut?: boolean
  /**
   * A fresh random value, drawn for a Canary with sessionAffinity; the machine uses it only when a release
   * needs a new cookie, and keeps the cookie in the status from then on (randomness stays out of the machine).
   */
  readonly cookieValue?: string
}

export interface CanaryInput {
  readonly metadata?: Pick<ObjectMeta, 'name' | 'namespace'>
  readonly spec: CanarySpec
  readonly status?: CanaryStatus
}

/**
 * Adapters execute actions in order. Every action states a desired state rather than a change (absolute
 * weights, replica counts, "the primary runs revision X"), so executing one twice is harmless.
 */
export type Action =
  /** Ensure `<target>-primary` (a copy of the target at its current revision) and the -primary/-canary Services. Never touches the apex Service. */
  | { readonly kind: 'initialize'; readonly replicas: number }
  | { readonly kind: 'scale'; readonly workload: 'canary' | 'primary'; readonly replicas: number }
  /** Ensure the apex Service and router objects exist and send traffic as given. */
  | { readonly kind: 'route'; readonly weights: TrafficSplit }
  /** Copy the target's template (and tracked configs) to the primary, stamped with `revision`. */
  | { readonly kind: 'promote'; readonly revision: string }
  /** Give the app back to the target: apex Service to its pods, router objects restored, generated objects deleted. */
  | { readonly kind: 'finalize' }
  /** Run these checks now and call advance again, in the same tick, with their outcomes in observed.checks. */
  | { readonly kind: 'check'; readonly stage: CheckStage }
  /** Fire and forget: call the webhooks of this type; their outcome is only logged. */
  | { readonly kind: 'run-hooks'; readonly type: HookType }
  /**
   * Record an Event. `onceEvery` marks the notice of a wait that goes on (a canary or primary not ready yet, a
   * suspended Canary): it is decided on every look, written when the wait begins and then at most once in that
   * many milliseconds, as Flagger's once a tick, rather than on every Deployment status change.
   */
  | { readonly kind: 'event'; readonly type: 'Normal' | 'Warning'; readonly reason: string; readonly message: string; readonly onceEvery?: number }
  | { readonly kind: 'alert'; readonly severity: AlertSeverity; readonly message: string }

export interface Advance {
  readonly actions: Action[]
  readonly status: CanaryStatus
}
