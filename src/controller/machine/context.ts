// The state of one call of advance(): the spec with its defaults, the observation, the status being built and
// the actions so far; plus the "ensure" helpers every phase shares.
import { intervalMs, strategyOf, withDefaults } from '../../api/defaults.ts'
import { formatDuration } from '../../util/duration.ts'
import type { AlertSeverity, CanaryAnalysis, CanarySpec, CanaryStatus, Strategy } from '../../api/types.ts'
import { iterationsOf, lastProgressMs, lastTickMs, weightOf } from './status.ts'
import type { Action, Advance, CanaryInput, CheckStage, Observed, TrafficSplit } from './types.ts'

export interface Ctx {
  readonly spec: CanarySpec
  readonly analysis: CanaryAnalysis
  readonly strategy: Strategy
  readonly seen: Observed
  /** The status as given, returned untouched when checks are requested. */
  readonly input: CanaryStatus
  readonly now: string
  readonly nowMs: number
  /** The target's kind, for the Promoted condition's messages. */
  readonly kind: string
  /** The target Deployment's name, and its primary's. */
  readonly target: string
  readonly primary: string
  /** name.namespace, as Flagger's events say it. */
  readonly name: string
  readonly primaryName: string
  readonly intervalMs: number
  readonly deadlineMs: number
  readonly threshold: number
  status: CanaryStatus
  readonly actions: Action[]
}

export function contextOf(canary: CanaryInput, seen: Observed): Ctx {
  const spec = withDefaults(canary.spec)
  const analysis = spec.analysis ?? {}
  const target = spec.targetRef.name
  const namespace = canary.metadata?.namespace
  const qualify = (name: string): string => (namespace ? `${name}.${namespace}` : name)
  const status = canary.status ?? {}
  return {
    spec,
    analysis,
    strategy: strategyOf(spec),
    seen,
    input: status,
    now: seen.now.toISOString(),
    nowMs: seen.now.getTime(),
    kind: spec.targetRef.kind ?? 'Deployment',
    target,
    primary: `${target}-primary`,
    name: qualify(target),
    primaryName: qualify(`${target}-primary`),
    intervalMs: intervalMs(analysis),
    deadlineMs: (spec.progressDeadlineSeconds ?? 600) * 1000,
    threshold: Math.max(1, analysis.threshold ?? 1),
    status,
    actions: [],
  }
}

export function result(ctx: Ctx): Advance {
  return { actions: ctx.actions, status: ctx.status }
}

/** Nothing is decided until the checks have run: the only action is the request, the status stays as it was. */
export function requestCheck(ctx: Ctx, stage: CheckStage): Advance {
  return { actions: [{ kind: 'check', stage }], status: ctx.input }
}

/** Removes earlier actions a decision overrides (e.g. the ensures computed before a rollback). */
export function dropActions(ctx: Ctx, drop: (a: Action) => boolean): void {
  const keep = ctx.actions.filter(a => !drop(a))
  ctx.actions.splice(0, ctx.actions.length, ...keep)
}

export const isCanaryScale = (a: Action): boolean => a.kind === 'scale' && a.workload === 'canary'

export function event(ctx: Ctx, type: 'Normal' | 'Warning', reason: string, message: string): void {
  ctx.actions.push({ kind: 'event', type, reason, message })
}

/** The notice of a wait that goes on, recorded at most once an interval however often it is decided. */
export function waitEvent(ctx: Ctx, type: 'Normal' | 'Warning', reason: string, message: string): void {
  ctx.actions.push({ kind: 'event', type, reason, message, onceEvery: ctx.intervalMs })
}

/** The reason of a step's announcement: a weight, an iteration, mirroring, all traffic to the canary. */
export const STEP_REASON = 'Advanced'

/** A step's announcement, which `--step-events=off` keeps out of the Kubernetes Events. */
export function stepEvent(ctx: Ctx, message: string): void {
  event(ctx, 'Normal', STEP_REASON, message)
}

export function alert(ctx: Ctx, severity: AlertSeverity, message: string): void {
  ctx.actions.push({ kind: 'alert', severity, message })
}

export function update(ctx: Ctx, patch: Partial<CanaryStatus>): void {
  ctx.status = { ...ctx.status, ...patch }
}

export const ALL_PRIMARY: TrafficSplit = { primary: 100, canary: 0 }

const ROUTED: ReadonlySet<string> = new Set(['Progressing', 'WaitingPromotion', 'Promoting'])
const UNROUTED: ReadonlySet<string | undefined> = new Set([undefined, 'Initializing', 'Terminating', 'Terminated'])

/** The traffic split the status stands for, so that a restarted controller restores exactly that. */
export function expectedRoute(ctx: Ctx, status: CanaryStatus = ctx.status): TrafficSplit | undefined {
  if (UNROUTED.has(status.phase)) return undefined
  return ROUTED.has(status.phase ?? '') ? routeOfRun(ctx, status) : ALL_PRIMARY
}

function routeOfRun(ctx: Ctx, status: CanaryStatus): TrafficSplit {
  const weight = weightOf(status)
  const iterations = iterationsOf(status)
  // A/B sends the requests that match to the canary and keeps the weight at 0 in status, as Flagger does.
  if (ctx.strategy === 'ab') return iterations > 0 ? { primary: 0, canary: 100 } : ALL_PRIMARY
  // iterations >= 1 at weight 0 marks the mirrored step (blue-green iterations, or the canary's first step).
  if (ctx.analysis.mirror === true && weight === 0 && iterations > 0 && status.phase !== 'Promoting') {
    return { primary: 100, canary: 0, mirror: ctx.analysis.mirrorWeight ?? 100 }
  }
  return { primary: 100 - weight, canary: weight }
}

export function sameWeights(a: TrafficSplit | undefined, b: TrafficSplit): boolean {
  return a !== undefined && a.primary === b.primary && a.canary === b.canary && (a.mirror ?? 0) === (b.mirror ?? 0)
}

export function describeWeights(w: TrafficSplit): string {
  return `primary ${w.primary}% / canary ${w.canary}%${w.mirror ? ` (mirroring ${w.mirror}%)` : ''}`
}

/** Emits a route when the router does not show `weights`; true when it already does. */
export function ensureRoute(ctx: Ctx, weights: TrafficSplit): boolean {
  if (sameWeights(ctx.seen.weights, weights)) return true
  ctx.actions.push({ kind: 'route', weights })
  return false
}

export function canaryReplicas(ctx: Ctx): number {
  return Math.max(1, ctx.seen.replicas)
}

/** The user's replica count reaches the primary at once, and the canary while it runs (unless an autoscaler owns them). */
export function ensureReplicas(ctx: Ctx, canaryActive: boolean): void {
  const { seen } = ctx
  if (canaryActive && (seen.canary.replicas === 0 || (!seen.autoscaled && seen.canary.replicas !== canaryReplicas(ctx)))) {
    ctx.actions.push({ kind: 'scale', workload: 'canary', replicas: canaryReplicas(ctx) })
  }
  if (!canaryActive && seen.canary.exists && seen.canary.replicas > 0) {
    ctx.actions.push({ kind: 'scale', workload: 'canary', replicas: 0 })
  }
  if (!seen.autoscaled && seen.primary.exists && seen.primary.replicas !== seen.replicas) {
    ctx.actions.push({ kind: 'scale', workload: 'primary', replicas: seen.replicas })
  }
}

// A scheduler firing a hair early must not lose a whole interval.
function toleranceMs(ctx: Ctx): number {
  return Math.min(1000, ctx.intervalMs / 10)
}

/** An interval has passed since the last tick (or there never was one). */
export function isDue(ctx: Ctx): boolean {
  const last = lastTickMs(ctx.status)
  return last === undefined || ctx.nowMs >= last + ctx.intervalMs - toleranceMs(ctx)
}

export function deadlineAtMs(ctx: Ctx): number | undefined {
  const since = lastProgressMs(ctx.status)
  return since === undefined ? undefined : since + ctx.deadlineMs
}

/** No progress for longer than progressDeadlineSeconds. */
export function pastDeadline(ctx: Ctx): boolean {
  const at = deadlineAtMs(ctx)
  return at !== undefined && ctx.nowMs > at
}

export function deadlineText(ctx: Ctx): string {
  const at = deadlineAtMs(ctx)
  const when = at === undefined ? '' : ` at ${new Date(at).toISOString()}`
  return `rolling back${when} if it cannot progress (progress deadline ${formatDuration(ctx.deadlineMs)})`
}

/** Where the analysis stands, for messages: "at weight 40" or "at iteration 2/10". */
export function position(ctx: Ctx, status: CanaryStatus = ctx.status): string {
  if (ctx.strategy === 'canary') {
    const mirrored = ctx.analysis.mirror === true && weightOf(status) === 0 && iterationsOf(status) > 0
    return `at weight ${weightOf(status)}${mirrored ? ' (mirroring)' : ''}`
  }
  const total = ctx.analysis.iterations ?? 0
  if (iterationsOf(status) > total) return `with all traffic on the canary after ${total} iterations`
  return `at iteration ${iterationsOf(status)}/${total}`
}
