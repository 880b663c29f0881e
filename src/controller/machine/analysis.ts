// One analysis tick (flagger-semantics §5 steps 18-23): rollback hooks, then pre-rollout hooks on the first
// tick or rollout hooks and metrics after it, then the strategy's step with its gates.
//
// sluice's change to Flagger: a metric without data, or one the provider could not answer, is not a failed
// check. The canary holds where it is (no step, no promotion, failedChecks unchanged) and says so; the hold is
// bounded by the progress deadline, counted from the last tick that passed, after which it rolls back with an
// alert. A failing metric in the same tick still counts as a failed check.
import { canaryWeights } from '../../api/timing.ts'
import type { HookType } from '../../api/types.ts'
import { describe, hookRecordName, metricsOffline, muted, offlineServers, parenthesis, stageOutcomes, summarize, toRecord } from './checks.ts'
import type { Summary } from './checks.ts'
import { alert, deadlineText, ensureRoute, event, expectedRoute, pastDeadline, position, requestCheck, result, stepEvent } from './context.ts'
import type { Ctx } from './context.ts'
import { appendChecks, enterPhase, failedChecksOf, iterationsOf, markProgress, weightOf } from './status.ts'
import { rollback, rollbackHooks, startPromotion } from './transitions.ts'
import type { Advance, CheckOutcome, CheckStage } from './types.ts'

export function analysisTick(ctx: Ctx): Advance {
  const rolledBack = rollbackHooks(ctx)
  if (rolledBack) return rolledBack

  // Without traffic on the canary the metrics have nothing to measure: the first tick runs pre-rollout only.
  const first = weightOf(ctx.status) === 0 && iterationsOf(ctx.status) === 0
  const stages: readonly CheckStage[] = first ? ['pre-rollout'] : ['rollout', 'metrics']
  const outcomes: CheckOutcome[] = []
  for (const stage of stages) {
    const found = stageOutcomes(ctx, stage)
    if ('need' in found) return requestCheck(ctx, found.need)
    outcomes.push(...found.outcomes)
    if (summarize(found.outcomes).verdict === 'fail') break
  }
  ctx.status = appendChecks(ctx.status, outcomes.map(o => toRecord(o, ctx.now)))
  const summary = summarize(outcomes)
  if (summary.verdict === 'fail') return failedCheck(ctx, summary.culprit)
  if (summary.verdict !== 'pass') return hold(ctx, summary)
  return step(ctx, first)
}

function failedCheck(ctx: Ctx, culprit: CheckOutcome | undefined): Advance {
  const failed = failedChecksOf(ctx.status) + 1
  const where = position(ctx)
  ctx.status = { ...ctx.status, failedChecks: failed }
  const what = culprit ? describe(culprit) : 'a check failed'
  if (failed >= ctx.threshold) return rollback(ctx, { kind: 'threshold', detail: `${what}${parenthesis(culprit)}` })
  const more = ctx.threshold - failed
  event(ctx, 'Warning', 'Halted',
    `halted ${where}: ${what}${parenthesis(culprit, `${failed} of ${ctx.threshold} failed checks`)}; rolling back after ${more} more`)
  return result(ctx)
}

function hold(ctx: Ctx, summary: Summary): Advance {
  const culprit = summary.culprit
  // A server that failed its health check explains every metric at once: said once, with its address.
  const offline = summary.verdict === 'error' && culprit?.kind === 'metric' && metricsOffline(ctx)
  const what = offline
    ? `${offlineServers(ctx)} (health query vector(1) failed), so no metric was queried`
    : `${culprit ? describe(culprit) : 'a check had no data'}${parenthesis(culprit)}`
  const where = position(ctx)
  if (pastDeadline(ctx)) return rollback(ctx, { kind: 'deadline', detail: `holding ${where}: ${what}` })
  const why = summary.verdict === 'error'
    ? 'the canary is neither advanced nor promoted while its checks cannot run'
    : `not counted as a failed check (${failedChecksOf(ctx.status)} of ${ctx.threshold} so far), so the canary stays where it is`
  event(ctx, 'Warning', offline ? 'MetricsProviderOffline' : 'Holding', `holding ${where}: ${what}; ${why}; ${deadlineText(ctx)}`)
  return result(ctx)
}

function progressed(ctx: Ctx): void {
  ctx.status = markProgress(ctx.status, ctx.now, ctx.kind)
}

function routeToStatus(ctx: Ctx): void {
  const weights = expectedRoute(ctx)
  if (weights) ensureRoute(ctx, weights)
}

function started(ctx: Ctx, first: boolean): void {
  if (first) event(ctx, 'Normal', 'Started', `Starting canary analysis for ${ctx.name}`)
}

function step(ctx: Ctx, first: boolean): Advance {
  switch (ctx.strategy) {
    case 'canary': return canaryStep(ctx, first)
    case 'blue-green': return blueGreenStep(ctx, first)
    case 'ab': return abStep(ctx, first)
  }
}

/**
 * Runs a gate (confirm-traffic-increase or confirm-promotion); undefined when it is open. A closed gate is
 * a healthy tick: the checks passed, a person has yet to decide, so it counts as progress.
 */
function gate(ctx: Ctx, type: HookType, closed: (culprit: CheckOutcome | undefined) => void): Advance | undefined {
  const found = stageOutcomes(ctx, type)
  if ('need' in found) return requestCheck(ctx, found.need)
  const summary = summarize(found.outcomes)
  if (summary.verdict === 'pass') return undefined
  ctx.status = appendChecks(ctx.status, summary.culprit ? [toRecord(summary.culprit, ctx.now)] : [])
  progressed(ctx)
  closed(summary.culprit)
  return result(ctx)
}

function gateText(culprit: CheckOutcome | undefined, type: HookType): string {
  return culprit ? describe(culprit) : `${type} is closed`
}

/** The gate was already closed on the previous tick, so its alert went out then. */
function stillClosed(ctx: Ctx, type: HookType): boolean {
  const last = ctx.input.checks?.at(-1)
  return last !== undefined && last.verdict === 'fail' && last.name.startsWith(hookRecordName(type, ''))
}

function promotionGate(ctx: Ctx): Advance | undefined {
  return gate(ctx, 'confirm-promotion', culprit => {
    if (ctx.status.phase !== 'WaitingPromotion') {
      ctx.status = enterPhase(ctx.status, 'WaitingPromotion', ctx.now, ctx.kind)
      if (!muted(ctx, culprit)) alert(ctx, 'warn', 'Canary promotion is waiting for approval.')
    }
    event(ctx, 'Normal', 'WaitingForApproval',
      `waiting for approval to promote ${ctx.name} ${position(ctx)}: ${gateText(culprit, 'confirm-promotion')}; the analysis goes on meanwhile`)
  })
}

function trafficGate(ctx: Ctx, from: number, to: number): Advance | undefined {
  return gate(ctx, 'confirm-traffic-increase', culprit => {
    if (!stillClosed(ctx, 'confirm-traffic-increase') && !muted(ctx, culprit)) {
      alert(ctx, 'warn', 'Canary traffic increase is waiting for approval.')
    }
    event(ctx, 'Normal', 'WaitingForApproval',
      `waiting for approval to increase the canary's traffic from ${from}% to ${to}%: ${gateText(culprit, 'confirm-traffic-increase')}`)
  })
}

function canaryStep(ctx: Ctx, first: boolean): Advance {
  const weight = weightOf(ctx.status)
  const iterations = iterationsOf(ctx.status)
  // canaryWeights is the plan the webhook announced (overshoot included), so the machine follows it exactly.
  const next = canaryWeights(ctx.analysis).find(w => w > weight)
  if (next === undefined) return promotionGate(ctx) ?? startPromotion(ctx, 'analysis')
  const mirror = ctx.analysis.mirror === true && weight === 0
  // As in Flagger, the step out of the mirrored phase needs no traffic approval: the mirror step had one.
  if (!(mirror && iterations > 0)) {
    const waiting = trafficGate(ctx, weight, next)
    if (waiting) return waiting
  }
  started(ctx, first)
  if (mirror && iterations === 0) {
    ctx.status = { ...ctx.status, iterations: 1 }
    stepEvent(ctx, `Start traffic mirroring to ${ctx.name}`)
  } else {
    ctx.status = { ...ctx.status, canaryWeight: next }
    stepEvent(ctx, `Advance ${ctx.name} canary weight ${next}`)
  }
  progressed(ctx)
  routeToStatus(ctx)
  return result(ctx)
}

function blueGreenStep(ctx: Ctx, first: boolean): Advance {
  const iterations = iterationsOf(ctx.status)
  const total = ctx.analysis.iterations ?? 0
  if (iterations < total) return nextIteration(ctx, first, iterations, total, ctx.analysis.mirror === true)
  if (iterations > total) return startPromotion(ctx, 'analysis')
  // Flagger's blue/green: after the last iteration all traffic goes to the canary for one more checked tick.
  const waiting = promotionGate(ctx)
  if (waiting) return waiting
  // Approved: the last checked tick runs in Progressing, with every user on the canary.
  if (ctx.status.phase === 'WaitingPromotion') ctx.status = enterPhase(ctx.status, 'Progressing', ctx.now, ctx.kind)
  ctx.status = { ...ctx.status, canaryWeight: 100, iterations: total + 1 }
  stepEvent(ctx, `Routing all traffic to canary ${ctx.name}`)
  progressed(ctx)
  routeToStatus(ctx)
  return result(ctx)
}

function abStep(ctx: Ctx, first: boolean): Advance {
  const iterations = iterationsOf(ctx.status)
  const total = ctx.analysis.iterations ?? 0
  if (iterations >= total) return promotionGate(ctx) ?? startPromotion(ctx, 'analysis')
  return nextIteration(ctx, first, iterations, total, false)
}

/** One more checked iteration of blue/green or A/B; blue/green's mirroring starts with the first. */
function nextIteration(ctx: Ctx, first: boolean, iterations: number, total: number, mirror: boolean): Advance {
  started(ctx, first)
  ctx.status = { ...ctx.status, iterations: iterations + 1 }
  if (mirror && iterations === 0) stepEvent(ctx, `Start traffic mirroring to ${ctx.name}`)
  stepEvent(ctx, `Advance ${ctx.name} canary iteration ${iterations + 1}/${total}`)
  progressed(ctx)
  routeToStatus(ctx)
  return result(ctx)
}
