// The phase machine: a pure function from (Canary, what the controller observed) to (actions, next status).
// No I/O and no clock in here: time comes in observed.now, and adapters perform the actions in order.
//
// Protocol, per call:
// - When the decision needs checks (webhooks of one type, or the metrics), the result is a single
//   `{ kind: 'check', stage }` action and the status as it came in. The caller runs that stage and calls
//   advance again with the same observation plus the outcomes in observed.checks; a tick may ask for several
//   stages in Flagger's order (rollback, pre-rollout | rollout, metrics, a gate). `advanceWithChecks` in
//   tick.ts is that loop.
// - Otherwise the caller writes the status, then performs the actions. Every action is an absolute "ensure",
//   and phases move on only once the observation shows what earlier actions did (routes before scale-down,
//   the primary's copy before Finalising), so a controller that dies between the two resumes where it stood.
// - Analysis ticks, promotion steps and Finalising are `interval` apart (see nextTickAt); calls between them
//   (watch events) only keep the cluster in line with the status, so calling advance again on its own
//   output with the same observation never steps twice.
import { analysisTick } from './analysis.ts'
import { withSessionCookies } from './affinity.ts'
import {
  ALL_PRIMARY, contextOf, deadlineText, describeWeights, ensureReplicas, ensureRoute, event, expectedRoute,
  isDue, pastDeadline, position, result, alert, dropActions, isCanaryScale, stepEvent, update, waitEvent,
} from './context.ts'
import type { Ctx } from './context.ts'
import { readiness } from './readiness.ts'
import type { Readiness } from './readiness.ts'
import {
  appendChecks, enterPhase, failedChecksOf, isPending, iterationsOf, lastTickMs, markProgress, weightOf, withMessage,
} from './status.ts'
import { restart, rollback, rollbackHooks, settleReverted, startPromotion, startRun } from './transitions.ts'
import { offlineServers } from './checks.ts'
import { hooksOfType } from '../../api/defaults.ts'
import { intervalMs } from '../../api/defaults.ts'
import { formatDuration } from '../../util/duration.ts'
import type { CanaryPhase } from '../../api/types.ts'
import type { Advance, CanaryInput, Observed } from './types.ts'

export type {
  Action, Advance, CanaryInput, CheckOutcome, CheckStage, HookOutcome, MetricOutcome, Observed, OperatorRequests,
  TrafficSplit, WorkloadState,
} from './types.ts'

const HANDLERS: Readonly<Record<CanaryPhase, (ctx: Ctx) => Advance>> = {
  Initializing: ctx => initializing(ctx),
  Terminating: ctx => initializing(ctx),
  Terminated: ctx => initializing(ctx),
  Initialized: ctx => idle(ctx),
  Succeeded: ctx => idle(ctx),
  Failed: ctx => idle(ctx),
  Waiting: ctx => waiting(ctx),
  Progressing: ctx => analysing(ctx),
  WaitingPromotion: ctx => analysing(ctx),
  Promoting: ctx => promoting(ctx),
  Finalising: ctx => finalising(ctx),
}

export function advance(canary: CanaryInput, observed: Observed): Advance {
  const ctx = contextOf(canary, observed)
  // Deletion goes first so that a suspended canary can still be removed; Terminating and Terminated without
  // it mean the app opted in again.
  if (observed.deleting === true || observed.optedOut === true) return terminating(ctx)
  if (ctx.spec.suspend === true) return suspended(ctx)
  const decided = HANDLERS[ctx.status.phase ?? 'Initializing'](ctx)
  // A check request keeps the status as it came; any other decision carries the cookies its routes need.
  if (decided.actions.some(a => a.kind === 'check')) return decided
  return { ...decided, status: withSessionCookies(ctx, decided.status) }
}

const TIMED: ReadonlySet<CanaryPhase> = new Set(['Waiting', 'Progressing', 'WaitingPromotion', 'Promoting', 'Finalising'])

/**
 * When the next timed decision is due, for the scheduler; undefined in phases that only react to the watch
 * (a resync now and then is still wise). A time in the past means "now".
 */
export function nextTickAt(canary: CanaryInput): Date | undefined {
  const status = canary.status ?? {}
  if (status.phase === undefined || !TIMED.has(status.phase) || canary.spec.suspend === true) return undefined
  return new Date((lastTickMs(status) ?? 0) + intervalMs(canary.spec.analysis))
}

/** Where the machine reads metricsOnline: a new Canary (an Event) and an analysis tick. */
const HEALTH_PHASES: ReadonlySet<CanaryPhase | undefined> = new Set([undefined, 'Progressing', 'WaitingPromotion'])
/** A tick is taken up to a second early (the scheduler's jitter, see isDue): so is the health check. */
const HEALTH_EARLY_MS = 1000

/**
 * Whether this call of advance may read observed.metricsOnline, so that the controller asks the metrics
 * servers only then: for a new Canary, or when an analysis tick is due (not on every watch event).
 */
export function needsMetricsHealth(canary: CanaryInput, now: Date): boolean {
  const { spec, status } = canary
  if (!HEALTH_PHASES.has(status?.phase) || spec.skipAnalysis === true || spec.suspend === true) return false
  if ((spec.analysis?.metrics ?? []).length === 0) return false
  const due = nextTickAt(canary)
  return due === undefined || due.getTime() - HEALTH_EARLY_MS <= now.getTime()
}

function suspended(ctx: Ctx): Advance {
  waitEvent(ctx, 'Normal', 'Suspended', 'skipping canary run as object is suspended')
  return { actions: ctx.actions, status: ctx.input }
}

// Flow 1 and 2 of DESIGN.md: the primary is created and must be ready before the apex Service points at it,
// and the target is scaled to zero only once the router shows all traffic on the primary.
function initializing(ctx: Ctx): Advance {
  const { seen } = ctx
  if (ctx.status.phase !== 'Initializing') {
    ctx.status = enterPhase(ctx.status, 'Initializing', ctx.now, ctx.kind)
    event(ctx, 'Normal', 'Initializing', `New ${ctx.kind} ${ctx.name} detected, starting initialization`)
    if (seen.metricsOnline === false) {
      event(ctx, 'Warning', 'MetricsProviderOffline', `${offlineServers(ctx)} does not answer; analyses of new revisions will hold until it does`)
    }
  }
  ctx.actions.push({ kind: 'initialize', replicas: seen.replicas })
  const ready = primaryReadiness(ctx, seen.revision)
  if (!ready.ready) {
    if (pastDeadline(ctx)) {
      waitEvent(ctx, 'Warning', 'PrimaryNotReady',
        `${ctx.primary} is not ready after ${formatDuration(ctx.deadlineMs)}: ${ready.message}; ${ctx.target} keeps serving and is not scaled down`)
    }
    return result(ctx)
  }
  if (!ensureRoute(ctx, ALL_PRIMARY)) return result(ctx)
  if (seen.canary.replicas > 0) ctx.actions.push({ kind: 'scale', workload: 'canary', replicas: 0 })
  ctx.status = enterPhase({
    ...ctx.status, lastAppliedSpec: seen.revision, lastPromotedSpec: seen.revision, canaryWeight: 0, failedChecks: 0, iterations: 0,
  }, 'Initialized', ctx.now, ctx.kind)
  event(ctx, 'Normal', 'Initialized', `Initialization done! ${ctx.name}`)
  alert(ctx, 'info', `New ${ctx.kind} detected, initialization completed.`)
  return result(ctx)
}

/** Ready, and running the revision it was last given (the deployer stamps it on every copy). */
function primaryReadiness(ctx: Ctx, revision: string): Readiness {
  const ready = readiness(ctx.primary, ctx.seen.primary, ctx.analysis.primaryReadyThreshold ?? 100)
  if (!ready.ready || ctx.seen.primary.revision === revision) return ready
  return { ...ready, ready: false, message: `${ctx.primary}: runs revision ${ctx.seen.primary.revision ?? '(unknown)'}, not ${revision} yet` }
}

// Flagger's hasSpecChanged: a revision equal to the promoted one is no change (a manual rollback is a no-op).
function idle(ctx: Ctx): Advance {
  const { seen, status } = ctx
  if (seen.revision !== status.lastAppliedSpec) {
    if (status.lastAppliedSpec !== undefined && seen.revision === status.lastPromotedSpec) return settleReverted(ctx)
    return startRun(ctx, 'revision')
  }
  // A failed release is retried with the same template when asked (Flagger #862).
  if (status.phase === 'Failed' && isPending(seen.requests?.retry, status)) return startRun(ctx, 'retry')
  ensureRoute(ctx, ALL_PRIMARY)
  ensureReplicas(ctx, false)
  return result(ctx)
}

// Waiting means "a run is pending approval" for whatever the target now holds, a new revision or a retry.
// Unlike Flagger, where confirm-rollout is asked first and a closed gate ends the tick (#1432), the rollback
// hooks are asked before it: a release whose gate never opens can still be called off.
function waiting(ctx: Ctx): Advance {
  if (ctx.seen.revision === ctx.status.lastPromotedSpec) return settleReverted(ctx)
  ensureRoute(ctx, ALL_PRIMARY)
  ensureReplicas(ctx, false)
  if (!isDue(ctx)) return result(ctx)
  const rolledBack = rollbackHooks(ctx)
  if (rolledBack) return rolledBack
  return startRun(ctx, ctx.seen.revision === ctx.status.lastAppliedSpec ? 'retry' : 'revision')
}

function analysing(ctx: Ctx): Advance {
  const { seen, status } = ctx
  if (seen.revision !== status.lastAppliedSpec) {
    return seen.revision === status.lastPromotedSpec ? settleReverted(ctx) : restart(ctx)
  }
  if (isPending(seen.requests?.abort, status)) return rollback(ctx, { kind: 'abort' })
  if (failedChecksOf(status) >= ctx.threshold) return rollback(ctx, { kind: 'threshold' })
  ensureReplicas(ctx, true)
  if (!ensureRoute(ctx, expectedRoute(ctx) ?? ALL_PRIMARY)) return routeDrift(ctx)
  const ready = readiness(ctx.target, seen.canary, ctx.analysis.canaryReadyThreshold ?? 100)
  if (!ready.ready) return canaryNotReady(ctx, ready)
  if (ctx.spec.skipAnalysis === true) return startPromotion(ctx, 'skip')
  if (isPending(seen.requests?.promote, status)) return startPromotion(ctx, 'request')
  if (!isDue(ctx)) return result(ctx)
  return analysisTick(ctx)
}

// Unlike Flagger (#1816), a canary that never becomes ready is rolled back with an alert.
function canaryNotReady(ctx: Ctx, ready: Readiness): Advance {
  if (ctx.seen.canary.progressDeadlineExceeded === true || pastDeadline(ctx)) {
    return rollback(ctx, { kind: 'deadline', detail: `the canary is not ready: ${ready.message}` })
  }
  // Every release's canary takes a moment to start: the wait is worth an Event once it holds back a due tick.
  if (isDue(ctx)) waitEvent(ctx, 'Normal', 'CanaryNotReady', `waiting for the canary before analysing ${position(ctx)}: ${ready.message}; ${deadlineText(ctx)}`)
  return result(ctx)
}

// The status says where traffic should be; a router showing otherwise (an action lost in a crash) is put
// right before any analysis, so that no step is taken from a weight the users never saw.
function routeDrift(ctx: Ctx): Advance {
  const route = expectedRoute(ctx) ?? ALL_PRIMARY
  const reported = ctx.seen.weights ? describeWeights(ctx.seen.weights) : 'nothing'
  if (pastDeadline(ctx)) {
    return rollback(ctx, { kind: 'deadline', detail: `the router never applied ${describeWeights(route)} (it reports ${reported})` })
  }
  event(ctx, 'Warning', 'RouteDrift', `the router reports ${reported} but the canary stands ${position(ctx)}: re-applying ${describeWeights(route)}`)
  return result(ctx)
}

function promoting(ctx: Ctx): Advance {
  const { seen } = ctx
  const promoted = ctx.status.lastAppliedSpec ?? seen.revision
  if (seen.revision !== promoted && (weightOf(ctx.status) > 0 || iterationsOf(ctx.status) > 0)) {
    // The target's pods now run a revision nobody analysed: take all traffic off them at once.
    update(ctx, { canaryWeight: 0, iterations: 0 })
    event(ctx, 'Warning', 'NewRevision',
      `revision ${seen.revision} arrived while ${promoted} is being promoted: all traffic goes to the primary now; the new revision is analysed once this promotion ends`)
  }
  ensureReplicas(ctx, true)
  if (seen.primary.revision !== promoted) ctx.actions.push({ kind: 'promote', revision: promoted })
  const ready = primaryReadiness(ctx, promoted)
  if (!ready.ready) {
    ensureRoute(ctx, expectedRoute(ctx) ?? ALL_PRIMARY)
    return primaryNotReady(ctx, ready)
  }
  const step = ctx.analysis.stepWeightPromotion ?? 0
  if (ctx.strategy === 'canary' && step > 0 && weightOf(ctx.status) > 0) return promotionStep(ctx, step)
  return finalise(ctx)
}

function finalise(ctx: Ctx): Advance {
  ctx.actions.push({ kind: 'route', weights: ALL_PRIMARY })
  ctx.status = enterPhase({ ...ctx.status, canaryWeight: 0, iterations: 0 }, 'Finalising', ctx.now, ctx.kind)
  event(ctx, 'Normal', 'Finalising', `Routing all traffic to primary ${ctx.primaryName}`)
  return result(ctx)
}

// stepWeightPromotion: the primary takes traffic back one step per interval once it runs the new revision.
function promotionStep(ctx: Ctx, step: number): Advance {
  if (!ensureRoute(ctx, expectedRoute(ctx) ?? ALL_PRIMARY) || !isDue(ctx)) return result(ctx)
  const next = Math.max(0, weightOf(ctx.status) - step)
  if (next === 0) return finalise(ctx)
  update(ctx, { canaryWeight: next })
  ctx.status = markProgress(ctx.status, ctx.now, ctx.kind)
  ctx.actions.push({ kind: 'route', weights: { primary: 100 - next, canary: next } })
  stepEvent(ctx, `Advance ${ctx.primaryName} primary weight ${100 - next}`)
  return result(ctx)
}

const STUCK = 'primary-ready'

// A primary that does not finish its rollout is reported, never hidden (Flagger #1898). Past the deadline
// the users go to the canary, which passed its analysis, and the promotion waits for the primary; it is not
// marked Failed, because the release is not at fault and the canary must keep serving. Before the deadline
// the wait is every promotion's (the primary rolls out what it was given): a Normal Event, not a Warning.
function primaryNotReady(ctx: Ctx, ready: Readiness): Advance {
  const stuck = ctx.seen.primary.progressDeadlineExceeded === true || pastDeadline(ctx)
  if (!stuck) {
    // Every promotion waits for the primary's rollout: worth an Event once it has lasted an interval.
    if (isDue(ctx)) waitEvent(ctx, 'Normal', 'PrimaryNotReady', `promotion waits for the primary's rollout: ${ready.message}; traffic stays at ${describeWeights(expectedRoute(ctx) ?? ALL_PRIMARY)}`)
    return result(ctx)
  }
  const last = ctx.status.checks?.at(-1)
  if (last?.name === STUCK && last.verdict === 'fail') return result(ctx)
  const message = `${ctx.primary} did not become ready within the progress deadline (${formatDuration(ctx.deadlineMs)}): ${ready.message}`
  ctx.status = appendChecks(ctx.status, [{
    name: STUCK, value: ready.available, range: { min: ready.needed }, verdict: 'fail', message, time: ctx.now,
  }])
  const toCanary = ctx.strategy !== 'ab' && weightOf(ctx.status) < 100
  if (toCanary) {
    update(ctx, { canaryWeight: 100 })
    dropActions(ctx, a => a.kind === 'route')
    ctx.actions.push({ kind: 'route', weights: { primary: 0, canary: 100 } })
  }
  const traffic = ctx.strategy === 'ab' ? 'traffic stays as it is' : 'all traffic goes to the canary'
  ctx.status = withMessage(ctx.status, `Promotion is stuck: ${message}; ${traffic} until the primary is ready.`)
  event(ctx, 'Warning', 'PromotionStuck', `${message}; ${traffic} until the primary is ready`)
  alert(ctx, 'error', `Promotion of ${ctx.name} is stuck: ${message}`)
  return result(ctx)
}

// Traffic must be off the canary before it is scaled down; the extra interval lets in-flight requests end,
// as Flagger's extra tick does.
function finalising(ctx: Ctx): Advance {
  if (!ensureRoute(ctx, ALL_PRIMARY) || !isDue(ctx)) return result(ctx)
  dropActions(ctx, isCanaryScale)
  ctx.actions.push({ kind: 'scale', workload: 'canary', replicas: 0 })
  if (hooksOfType(ctx.analysis.webhooks, 'post-rollout').length > 0) ctx.actions.push({ kind: 'run-hooks', type: 'post-rollout' })
  ctx.status = enterPhase({
    ...ctx.status, canaryWeight: 0, iterations: 0, lastPromotedSpec: ctx.status.lastAppliedSpec,
  }, 'Succeeded', ctx.now, ctx.kind)
  event(ctx, 'Normal', 'Promoted', `Promotion completed! Scaling down ${ctx.name}`)
  alert(ctx, 'info', ctx.spec.skipAnalysis === true
    ? 'Canary analysis was skipped, promotion finished.'
    : 'Canary analysis completed successfully, promotion finished.')
  return result(ctx)
}

// Opt-out or deletion (DESIGN.md flow 5): the target gets its replicas back and must be ready before the
// apex Service points at it again and the generated objects go.
function terminating(ctx: Ctx): Advance {
  const { seen } = ctx
  if (ctx.status.phase === 'Terminated') {
    ctx.actions.push({ kind: 'finalize' })
    return result(ctx)
  }
  if (ctx.status.phase !== 'Terminating') {
    ctx.status = enterPhase(ctx.status, 'Terminating', ctx.now, ctx.kind)
    const why = seen.deleting === true ? 'is being deleted' : 'opted out'
    event(ctx, 'Normal', 'Terminating', `${ctx.name} ${why}: scaling ${ctx.target} back up before ${ctx.primary} is removed`)
  }
  if (seen.deleting === true && ctx.spec.revertOnDeletion === false) return terminated(ctx)
  const replicas = Math.max(1, seen.replicas)
  if (seen.canary.replicas !== replicas) ctx.actions.push({ kind: 'scale', workload: 'canary', replicas })
  const ready = readiness(ctx.target, seen.canary, 100)
  if (!ready.ready) {
    waitEvent(ctx, 'Normal', 'Terminating', `waiting for ${ctx.target} to be ready before it takes its traffic back: ${ready.message}`)
    return result(ctx)
  }
  return terminated(ctx)
}

function terminated(ctx: Ctx): Advance {
  ctx.actions.push({ kind: 'finalize' })
  ctx.status = enterPhase(ctx.status, 'Terminated', ctx.now, ctx.kind)
  event(ctx, 'Normal', 'Terminated', `${ctx.target} serves its traffic again; the objects sluice generated are being removed`)
  return result(ctx)
}
