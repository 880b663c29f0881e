// Builders for phase-machine tests: a spec, a status in a given phase, an observation, check outcomes; and a
// small model of what the adapters do, to drive whole runs tick by tick.
import type { Test } from 'tap'
import { advance } from '../../../../src/controller/machine/phases.ts'
import type {
  Action, Advance, CanaryInput, CheckOutcome, CheckStage, HookOutcome, MetricOutcome, Observed, TrafficSplit, WorkloadState,
} from '../../../../src/controller/machine/phases.ts'
import type { CanaryAnalysis, CanaryPhase, CanarySpec, CanaryStatus, HookType, ThresholdRange } from '../../../../src/api/types.ts'

export const NOW = new Date('2025-03-01T12:00:00.000Z')
export const ago = (seconds: number): string => new Date(NOW.getTime() - seconds * 1000).toISOString()
export const later = (seconds: number): Date => new Date(NOW.getTime() + seconds * 1000)

export const OLD = 'rev-old'
export const NEW = 'rev-new'

/** nginx canary, 1m interval, threshold 5, stepWeight 20, one success-rate metric; override what a test needs. */
export function spec(analysis: Partial<CanaryAnalysis> = {}, top: Partial<CanarySpec> = {}): CanarySpec {
  return {
    provider: 'nginx',
    targetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'podinfo' },
    ingressRef: { name: 'podinfo' },
    service: { port: 9898 },
    analysis: {
      interval: '1m', threshold: 5, stepWeight: 20,
      metrics: [{ name: 'request-success-rate', interval: '1m', thresholdRange: { min: 99 } }],
      ...analysis,
    },
    ...top,
  }
}

export const blueGreen = (analysis: Partial<CanaryAnalysis> = {}): CanarySpec =>
  spec({ stepWeight: undefined, iterations: 3, ...analysis }, { provider: 'kubernetes' })

export const abTesting = (analysis: Partial<CanaryAnalysis> = {}): CanarySpec =>
  spec({ stepWeight: undefined, iterations: 3, match: [{ headers: { 'x-canary': { exact: 'insider' } } }], ...analysis })

export const hooks = (...list: Array<[HookType, string]>): CanaryAnalysis['webhooks'] =>
  list.map(([type, name]) => ({ name, type, url: `http://loadtester/${name}` }))

const PROMOTED: Partial<Record<CanaryPhase, 'True' | 'False' | 'Unknown'>> = {
  Initialized: 'True', Succeeded: 'True', Failed: 'False',
}

export interface StatusOptions extends Partial<CanaryStatus> {
  /** Seconds since the last progress (Promoted.lastUpdateTime); default 60, so a tick is due. */
  progressAgo?: number
  /** Seconds since the phase began; default 600. */
  transitionAgo?: number
}

/** A status in `phase`, running NEW over OLD unless told otherwise. */
export function status(phase: CanaryPhase, options: StatusOptions = {}): CanaryStatus {
  const { progressAgo = 60, transitionAgo = 600, ...fields } = options
  const idle = phase === 'Initialized' || phase === 'Succeeded'
  return {
    phase,
    canaryWeight: 0,
    failedChecks: 0,
    iterations: 0,
    lastAppliedSpec: idle ? OLD : NEW,
    lastPromotedSpec: OLD,
    lastTransitionTime: ago(transitionAgo),
    conditions: [{
      type: 'Promoted', status: PROMOTED[phase] ?? 'Unknown', reason: phase, message: `${phase}.`,
      lastUpdateTime: ago(progressAgo), lastTransitionTime: ago(transitionAgo),
    }],
    ...fields,
  }
}

export const progressing = (options: StatusOptions = {}): CanaryStatus => status('Progressing', options)

export function workload(overrides: Partial<WorkloadState> = {}): WorkloadState {
  const replicas = overrides.replicas ?? 3
  return {
    exists: true, generation: 2, observedGeneration: 2, replicas,
    updatedReplicas: replicas, availableReplicas: replicas, totalReplicas: replicas, ...overrides,
  }
}

export const routes = (canary: number, mirror?: number): TrafficSplit =>
  ({ primary: 100 - canary, canary, ...(mirror !== undefined && { mirror }) })

/** The target carries NEW, the primary runs OLD, the canary is up and ready, traffic is 100/0. */
export function observed(overrides: Partial<Observed> = {}): Observed {
  return {
    now: NOW,
    revision: NEW,
    replicas: 3,
    canary: workload(),
    primary: workload({ revision: OLD }),
    weights: routes(0),
    metricsOnline: true,
    ...overrides,
  }
}

const window = '1m'

export const passing = (name: string, value: number, range: ThresholdRange = { min: 99 }): MetricOutcome =>
  ({ kind: 'metric', name, value, range, window, verdict: 'pass' })
export const failing = (name: string, value: number, range: ThresholdRange = { min: 99 }): MetricOutcome =>
  ({ kind: 'metric', name, value, range, window, verdict: 'fail' })
export const noData = (name: string): MetricOutcome =>
  ({ kind: 'metric', name, value: null, range: { min: 99 }, window, verdict: 'no-data', message: 'no values found' })
export const providerError = (name: string): MetricOutcome =>
  ({ kind: 'metric', name, value: null, range: { min: 99 }, window, verdict: 'error', message: 'dial tcp 10.0.0.9:9090: connection refused' })
export const hook = (type: HookType, name: string, verdict: 'pass' | 'fail', message?: string): HookOutcome =>
  ({ kind: 'hook', type, name, verdict, ...(message !== undefined && { message }) })

export const kinds = (actions: readonly Action[]): string[] => actions.map(a => a.kind)
export const ofKind = <K extends Action['kind']>(actions: readonly Action[], kind: K): Array<Extract<Action, { kind: K }>> =>
  actions.filter((a): a is Extract<Action, { kind: K }> => a.kind === kind)
export const checkRequest = (r: Advance): CheckStage | undefined => ofKind(r.actions, 'check')[0]?.stage
export const events = (r: Advance): string[] => ofKind(r.actions, 'event').map(e => e.message)
export const alerts = (r: Advance): string[] => ofKind(r.actions, 'alert').map(a => `${a.severity}: ${a.message}`)
/** Actions that change the cluster (not events or alerts). */
export const effects = (r: Advance): Action[] => r.actions.filter(a => a.kind !== 'event' && a.kind !== 'alert')

export type Checker = (stage: CheckStage, canary: CanaryInput) => readonly CheckOutcome[]

/** Every configured check passes. */
export const allPass: Checker = (stage, canary) => {
  if (stage === 'metrics') return (canary.spec.analysis?.metrics ?? []).map(m => passing(m.name, 99.9))
  return (canary.spec.analysis?.webhooks ?? []).filter(w => (w.type ?? 'rollout') === stage).map(w => hook(stage, w.name, 'pass'))
}

/**
 * advance() with the check protocol run to the end, and the idempotency rule asserted on the way: calling it
 * again on its own output with the same observation leaves the status as it is.
 */
export function decide(t: Test, canary: CanaryInput, seen: Observed, checker: Checker = allPass): Advance & { stages: CheckStage[] } {
  const stages: CheckStage[] = []
  let checks: CheckOutcome[] = [...(seen.checks ?? [])]
  for (let round = 0; round < 10; round++) {
    const r = advance(canary, { ...seen, checks })
    const stage = checkRequest(r)
    if (stage === undefined) {
      const again = advance({ ...canary, status: r.status }, { ...seen, checks })
      t.same(again.status, r.status, `re-running the decision at ${seen.now.toISOString()} changes nothing`)
      t.equal(checkRequest(again), undefined, 'no checks are asked for twice in one tick')
      t.same(ofKind(again.actions, 'alert'), [], 'no alert is sent twice')
      return { ...r, stages }
    }
    t.equal(r.status, canary.status ?? r.status, 'a check request leaves the status as it was')
    t.equal(r.actions.length, 1, 'a check request is the only action')
    stages.push(stage)
    checks = [...checks, ...checker(stage, canary)]
  }
  throw new Error('the check protocol did not end')
}

/** What the adapters would make of the actions: routes, replica counts, the primary's revision. */
export interface World {
  now: Date
  revision: string
  replicas: number
  canaryReplicas: number
  primary: { exists: boolean; replicas: number; revision?: string }
  weights?: TrafficSplit
}

export function world(overrides: Partial<World> = {}): World {
  return {
    now: NOW, revision: NEW, replicas: 3, canaryReplicas: 0,
    primary: { exists: true, replicas: 3, revision: OLD }, weights: routes(0), ...overrides,
  }
}

export function observe(w: World, extra: Partial<Observed> = {}): Observed {
  return {
    now: w.now,
    revision: w.revision,
    replicas: w.replicas,
    canary: workload({ replicas: w.canaryReplicas }),
    primary: w.primary.exists ? workload({ replicas: w.primary.replicas, revision: w.primary.revision }) : workload({ exists: false, replicas: 0 }),
    metricsOnline: true,
    ...(w.weights && { weights: w.weights }),
    ...extra,
  }
}

/** Pods become ready at once: the model is about order and state, not about timing. */
export function perform(w: World, actions: readonly Action[]): World {
  let next = { ...w, primary: { ...w.primary } }
  for (const a of actions) {
    if (a.kind === 'route') next = { ...next, weights: a.weights }
    if (a.kind === 'scale' && a.workload === 'canary') next = { ...next, canaryReplicas: a.replicas }
    if (a.kind === 'scale' && a.workload === 'primary') next.primary.replicas = a.replicas
    if (a.kind === 'promote') next.primary.revision = a.revision
    if (a.kind === 'initialize') next.primary = { exists: true, replicas: a.replicas, revision: w.revision }
  }
  return next
}

export interface Trace {
  status: CanaryStatus
  world: World
  /** Every route applied, in order. */
  routes: TrafficSplit[]
  phases: CanaryPhase[]
  /** When each phase was first entered, in ms from the start of the run. */
  phaseAt: Partial<Record<CanaryPhase, number>>
  actions: Action[]
}

/**
 * Runs the scheduler's loop: decide, write the status, perform the actions, call again at once while
 * something changed, then wait one interval. Stops at `until` or after `ticks` intervals.
 */
export function run(t: Test, options: {
  spec: CanarySpec
  status?: CanaryStatus
  world?: World
  checker?: Checker
  ticks?: number
  until?: (s: CanaryStatus) => boolean
  extra?: (w: World) => Partial<Observed>
}): Trace {
  let w = options.world ?? world()
  let s = options.status ?? status('Succeeded')
  const trace: Trace = { status: s, world: w, routes: [], phases: [], phaseAt: {}, actions: [] }
  const start = w.now.getTime()
  const interval = 60_000
  for (let tick = 0; tick < (options.ticks ?? 40); tick++) {
    for (let call = 0; call < 5; call++) {
      const r = decide(t, { spec: options.spec, status: s }, observe(w, options.extra?.(w) ?? {}), options.checker)
      s = r.status
      w = perform(w, r.actions)
      trace.actions.push(...r.actions)
      trace.routes.push(...ofKind(r.actions, 'route').map(a => a.weights))
      if (s.phase && trace.phases.at(-1) !== s.phase) {
        trace.phases.push(s.phase)
        trace.phaseAt[s.phase] ??= w.now.getTime() - start
      }
      if (effects(r).length === 0) break
    }
    if (options.until?.(s)) break
    w = { ...w, now: new Date(w.now.getTime() + interval) }
  }
  return { ...trace, status: s, world: w }
}
