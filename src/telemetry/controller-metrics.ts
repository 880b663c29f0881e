// The controller's Prometheus metrics, named and shaped after Flagger's recorder (pkg/metrics/recorder.go)
// so that its dashboards and alerts carry over with the prefix changed from flagger_ to sluice_.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client'
import { PHASES } from '../api/types.ts'
import type { CanaryPhase } from '../api/types.ts'

export type RunOutcome = 'succeeded' | 'failed'

export interface ControllerMetrics {
  /** Sluice's own registry (never prom-client's global one), with the process and Node.js defaults. */
  readonly registry: Registry
  /**
   * Sets `sluice_canary_status` (see {@link canaryStatusValue}) and moves `sluice_canary_phase` to `phase`.
   * In a running phase ({@link DEADLINE_PHASES}) with `deadlineAtMs`, also `sluice_canary_progress_deadline_timestamp_seconds`.
   */
  observePhase(name: string, namespace: string, phase: CanaryPhase, deadlineAtMs?: number): void
  /**
   * Sets `sluice_canary_weight` for the primary and the canary workloads. `canary` names the Canary that
   * owns them, so that forget() can drop them; it defaults to the canary workload's name, which is the
   * Canary's name when sluice generated it from the Deployment.
   */
  observeWeights(
    namespace: string, primaryWorkload: string, canaryWorkload: string,
    primaryWeight: number, canaryWeight: number, canary?: string,
  ): void
  /** The last value of one metric check (NaN is exposed as such, e.g. for "no values"). */
  observeMetric(name: string, namespace: string, metric: string, value: number): void
  /** A run ended: counts it and observes its length from the new revision's detection to Succeeded/Failed. */
  runFinished(name: string, namespace: string, outcome: RunOutcome, seconds: number): void
  setQueueDepth(depth: number): void
  /** How long a Canary waited in its work queue lane (urgent, or routine) for a worker. */
  observeQueueWait(lane: 'urgent' | 'routine', seconds: number): void
  /** One pass of the reconciler over one work item; `ok: false` also counts an error. */
  observeReconcile(seconds: number, ok: boolean): void
  /** `sluice_controller_leader`: 1 while this replica holds the Lease, 0 while it waits (the alert sums it). */
  setLeading(leading: boolean): void
  /** Drops every series of a deleted Canary, so that label cardinality follows the live Canaries. */
  forget(name: string, namespace: string): void
}

/**
 * Flagger's `canary_status` values, kept so that its alert `flagger_canary_status > 1` works unchanged
 * as `sluice_canary_status > 1`: 0 while the analysis runs (Progressing), 2 after a rollback (Failed),
 * 1 in every other phase. `sluice_canary_phase` tells the other phases apart.
 */
export function canaryStatusValue(phase: CanaryPhase): 0 | 1 | 2 {
  if (phase === 'Progressing') return 0
  if (phase === 'Failed') return 2
  return 1
}

/**
 * The phases in which the controller moves a release forward by itself, so that no progress past the deadline
 * means a stuck release (a Waiting phase waits for a person, on purpose).
 */
export const DEADLINE_PHASES: readonly CanaryPhase[] = ['Progressing', 'Promoting', 'Finalising']

// 1 ms to 10 s: a reconcile is mostly cache reads and a few API writes; the tail is API-server latency.
export const RECONCILE_BUCKETS: readonly number[] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]
// A run lasts from seconds (skipAnalysis) to hours (many steps, a long interval, waiting for approval).
export const RUN_DURATION_BUCKETS: readonly number[] = [10, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400, 43200]

interface Tracked {
  readonly metrics: Set<string>
  /** In the Canary's namespace: a Canary routes only between workloads of its own namespace. */
  workloads: readonly string[]
  /** What observePhase and observeWeights last set: a reconcile that changes neither touches no series. */
  phase?: string
  weights?: string
}

// Several components of `sluice serve` may share one registry; the defaults can be registered only once.
export function ensureDefaultMetrics(registry: Registry): void {
  if (registry.getSingleMetric('process_resident_memory_bytes') === undefined) collectDefaultMetrics({ register: registry })
}

/** The instruments, each registered in `registry` only. */
function createSeries(registry: Registry) {
  const registers = [registry]
  const perCanary = ['name', 'namespace'] as const
  return {
    status: new Gauge({
      name: 'sluice_canary_status',
      help: 'Canary status as in Flagger: 0 = Progressing (analysis running), 1 = any other phase, 2 = Failed',
      labelNames: perCanary, registers,
    }),
    phase: new Gauge({
      name: 'sluice_canary_phase',
      help: 'Current phase of the canary: 1 on the series of the current phase; other phases have no series',
      labelNames: [...perCanary, 'phase'] as const, registers,
    }),
    weight: new Gauge({
      name: 'sluice_canary_weight',
      help: 'Traffic weight (percent) routed to a workload: <target>-primary and <target>',
      labelNames: ['workload', 'namespace'] as const, registers,
    }),
    duration: new Histogram({
      name: 'sluice_canary_duration_seconds',
      help: 'Length of finished canary runs (succeeded or failed), from the new revision to the final phase',
      labelNames: perCanary, buckets: [...RUN_DURATION_BUCKETS], registers,
    }),
    analysis: new Gauge({
      name: 'sluice_canary_metric_analysis',
      help: 'Last value of each metric check of the canary analysis',
      labelNames: [...perCanary, 'metric'] as const, registers,
    }),
    successes: new Counter({ name: 'sluice_canary_successes_total', help: 'Canary runs that ended Succeeded', labelNames: perCanary, registers }),
    failures: new Counter({ name: 'sluice_canary_failures_total', help: 'Canary runs that ended Failed (rolled back)', labelNames: perCanary, registers }),
    deadline: new Gauge({
      name: 'sluice_canary_progress_deadline_timestamp_seconds',
      help: 'While a release runs (Progressing, Promoting, Finalising): the first analysis tick at or after its last progress plus progressDeadlineSeconds (Unix seconds)',
      labelNames: perCanary, registers,
    }),
    queueDepth: new Gauge({ name: 'sluice_workqueue_depth', help: 'Canaries waiting in the work queue', registers }),
    queueWait: new Histogram({
      name: 'sluice_workqueue_wait_seconds',
      help: 'Time a Canary waited in the work queue for a worker, by lane: urgent (a new revision, a user change; served first) or routine (interval ticks, retries, readiness changes)',
      labelNames: ['lane'] as const, buckets: [...RECONCILE_BUCKETS, 30, 60], registers,
    }),
    reconcile: new Histogram({
      name: 'sluice_reconcile_duration_seconds',
      help: 'Time taken by one reconcile of one canary',
      buckets: [...RECONCILE_BUCKETS], registers,
    }),
    reconcileErrors: new Counter({ name: 'sluice_reconcile_errors_total', help: 'Reconciles that ended in an error', registers }),
    leader: new Gauge({ name: 'sluice_controller_leader', help: '1 while this replica holds the leader Lease and reconciles, 0 while it waits', registers }),
  }
}

export function createControllerMetrics(registry: Registry = new Registry()): ControllerMetrics {
  ensureDefaultMetrics(registry)
  const { status, phase: phaseGauge, weight, duration, analysis, successes, failures, deadline, queueDepth, queueWait, reconcile, reconcileErrors, leader } = createSeries(registry)
  // A waiting replica exports 0, not nothing: "no replica leads" is then a sum, not an absent series.
  leader.set(0)

  // What exact-match removal needs to know about each Canary's series: prom-client removes by full label set.
  const tracked = new Map<string, Tracked>()
  const keyOf = (name: string, namespace: string) => `${namespace}/${name}`
  const trackOf = (name: string, namespace: string): Tracked => {
    const key = keyOf(name, namespace)
    let entry = tracked.get(key)
    if (entry === undefined) {
      entry = { metrics: new Set(), workloads: [] }
      tracked.set(key, entry)
    }
    return entry
  }
  const removeWorkloads = (entry: Tracked, namespace: string) => {
    for (const workload of entry.workloads) weight.remove({ workload, namespace })
    entry.workloads = []
  }

  return {
    registry,
    observePhase(name, namespace, phase, deadlineAtMs) {
      const entry = trackOf(name, namespace)
      const seen = `${phase}|${deadlineAtMs ?? ''}`
      if (entry.phase === seen) return
      entry.phase = seen
      status.set({ name, namespace }, canaryStatusValue(phase))
      for (const other of PHASES) if (other !== phase) phaseGauge.remove({ name, namespace, phase: other })
      phaseGauge.set({ name, namespace, phase }, 1)
      if (deadlineAtMs !== undefined && DEADLINE_PHASES.includes(phase)) deadline.set({ name, namespace }, deadlineAtMs / 1000)
      else deadline.remove({ name, namespace })
    },
    observeWeights(namespace, primaryWorkload, canaryWorkload, primaryWeight, canaryWeight, canary = canaryWorkload) {
      const entry = trackOf(canary, namespace)
      const seen = `${primaryWorkload}|${canaryWorkload}|${primaryWeight}|${canaryWeight}`
      if (entry.weights === seen) return
      entry.weights = seen
      const names = [primaryWorkload, canaryWorkload]
      // A renamed target leaves the old pair behind; drop it rather than keep exporting stale weights.
      if (entry.workloads.some(n => !names.includes(n))) removeWorkloads(entry, namespace)
      entry.workloads = names
      weight.set({ workload: primaryWorkload, namespace }, primaryWeight)
      weight.set({ workload: canaryWorkload, namespace }, canaryWeight)
    },
    observeMetric(name, namespace, metric, value) {
      trackOf(name, namespace).metrics.add(metric)
      analysis.set({ name, namespace, metric }, value)
    },
    runFinished(name, namespace, outcome, seconds) {
      duration.observe({ name, namespace }, seconds)
      if (outcome === 'succeeded') successes.inc({ name, namespace })
      else failures.inc({ name, namespace })
    },
    setQueueDepth(depth) {
      queueDepth.set(depth)
    },
    observeQueueWait(lane, seconds) {
      queueWait.observe({ lane }, seconds)
    },
    observeReconcile(seconds, ok) {
      reconcile.observe(seconds)
      if (!ok) reconcileErrors.inc()
    },
    setLeading(leading) {
      leader.set(leading ? 1 : 0)
    },
    forget(name, namespace) {
      const labels = { name, namespace }
      status.remove(labels)
      deadline.remove(labels)
      for (const phase of PHASES) phaseGauge.remove({ ...labels, phase })
      duration.remove(labels)
      successes.remove(labels)
      failures.remove(labels)
      const entry = tracked.get(keyOf(name, namespace))
      if (entry === undefined) return
      for (const metric of entry.metrics) analysis.remove({ ...labels, metric })
      removeWorkloads(entry, namespace)
      tracked.delete(keyOf(name, namespace))
    },
  }
}
