// Transitions shared by several phases: starting a run, restarting it, promoting, rolling back, and settling
// when the target went back to the revision the primary already runs.
import { formatDuration } from '../../util/duration.ts'
import { hooksOfType } from '../../api/defaults.ts'
import { describe, hookRecordName, muted, stageOutcomes, summarize, toRecord } from './checks.ts'
import type { Summary } from './checks.ts'
import {
  ALL_PRIMARY, alert, canaryReplicas, dropActions, ensureReplicas, ensureRoute, event, isCanaryScale, requestCheck,
  result, update,
} from './context.ts'
import type { Ctx } from './context.ts'
import { appendChecks, enterPhase } from './status.ts'
import type { Advance } from './types.ts'

const short = (revision: string | undefined): string => revision ?? '(none)'

const RESET = { canaryWeight: 0, failedChecks: 0, iterations: 0 } as const

/**
 * A new revision (or a retry of the failed one) starts a run once confirm-rollout lets it: the canary is
 * scaled up and the analysis begins one interval later, as in Flagger.
 */
export function startRun(ctx: Ctx, why: 'revision' | 'retry'): Advance {
  const gate = stageOutcomes(ctx, 'confirm-rollout')
  if ('need' in gate) return requestCheck(ctx, gate.need)
  const summary = summarize(gate.outcomes)
  if (summary.verdict !== 'pass') return waitForApproval(ctx, summary)
  const revision = ctx.seen.revision
  dropActions(ctx, isCanaryScale)
  ctx.actions.push({ kind: 'scale', workload: 'canary', replicas: canaryReplicas(ctx) })
  ctx.status = enterPhase({ ...ctx.status, ...RESET, lastAppliedSpec: revision }, 'Progressing', ctx.now, ctx.kind)
  event(ctx, 'Normal', why === 'retry' ? 'Retry' : 'NewRevision', why === 'retry'
    ? `Retrying revision ${revision} of ${ctx.name} as requested: scaling up`
    : `New revision detected! Scaling up ${ctx.name} (revision ${revision})`)
  alert(ctx, 'info', 'New revision detected, progressing canary analysis.')
  return result(ctx)
}

function waitForApproval(ctx: Ctx, summary: Summary): Advance {
  const culprit = summary.culprit
  if (ctx.status.phase !== 'Waiting') {
    ctx.status = enterPhase(ctx.status, 'Waiting', ctx.now, ctx.kind)
    if (!muted(ctx, culprit)) alert(ctx, 'warn', 'Canary is waiting for approval.')
  }
  ctx.status = appendChecks(ctx.status, culprit ? [toRecord(culprit, ctx.now)] : [])
  const what = culprit ? describe(culprit) : 'confirm-rollout is closed'
  event(ctx, 'Normal', 'WaitingForApproval', `waiting for approval to start the rollout of revision ${ctx.seen.revision}: ${what}`)
  return result(ctx)
}

/** A new revision in the middle of an analysis starts it over from weight 0 (Flagger #30). */
export function restart(ctx: Ctx): Advance {
  const before = ctx.status.lastAppliedSpec
  ctx.actions.push({ kind: 'route', weights: ALL_PRIMARY })
  ensureReplicas(ctx, true)
  ctx.status = enterPhase({ ...ctx.status, ...RESET, lastAppliedSpec: ctx.seen.revision }, 'Progressing', ctx.now, ctx.kind)
  event(ctx, 'Normal', 'Restarted',
    `New revision detected! Restarting analysis for ${ctx.name}: revision ${ctx.seen.revision} replaces ${short(before)}, all traffic back to the primary`)
  return result(ctx)
}

/** The target went back to what the primary runs: nothing is left to release. */
export function settleReverted(ctx: Ctx): Advance {
  const revision = ctx.seen.revision
  ensureRoute(ctx, ALL_PRIMARY)
  ensureReplicas(ctx, false)
  ctx.status = enterPhase({ ...ctx.status, ...RESET, lastAppliedSpec: revision }, 'Succeeded', ctx.now, ctx.kind,
    `The ${ctx.kind} was reverted to the promoted revision ${revision}; nothing to release.`)
  event(ctx, 'Normal', 'Reverted',
    `${ctx.name} is back at revision ${revision}, which ${ctx.primaryName} already runs: analysis stopped, canary scaled down`)
  return result(ctx)
}

export function startPromotion(ctx: Ctx, why: 'analysis' | 'skip' | 'request'): Advance {
  const revision = ctx.status.lastAppliedSpec ?? ctx.seen.revision
  ctx.actions.push({ kind: 'promote', revision })
  ctx.status = enterPhase(ctx.status, 'Promoting', ctx.now, ctx.kind)
  const because = { analysis: '', skip: ' (analysis skipped: skipAnalysis is set)', request: ' (promotion requested by an operator)' }[why]
  event(ctx, 'Normal', 'Promoting', `Copying ${ctx.name} template spec to ${ctx.primaryName}${because}`)
  return result(ctx)
}

export type RollbackCause =
  | { readonly kind: 'threshold'; readonly detail?: string }
  | { readonly kind: 'deadline'; readonly detail: string }
  | { readonly kind: 'hook'; readonly name: string }
  | { readonly kind: 'abort' }

function rollbackText(ctx: Ctx, cause: RollbackCause): { why: string; severity: 'warn' | 'error'; alert: string } {
  switch (cause.kind) {
    case 'threshold': {
      const last = cause.detail ? `; last: ${cause.detail}` : ''
      return { why: `failed checks threshold reached ${ctx.threshold}${last}`, severity: 'error', alert: `Failed checks threshold reached ${ctx.threshold}${last}` }
    }
    case 'deadline':
      return {
        why: `no progress for longer than the progress deadline (${formatDuration(ctx.deadlineMs)}): ${cause.detail}`,
        severity: 'error',
        alert: `Progress deadline exceeded: ${cause.detail}`,
      }
    case 'hook':
      return { why: `rollback hook "${cause.name}" asked for a rollback`, severity: 'warn', alert: `Rolling back manual webhook invoked: ${cause.name}` }
    case 'abort':
      return { why: 'an operator asked for an abort', severity: 'warn', alert: 'Canary aborted by an operator, rolled back to the primary.' }
  }
}

/** All traffic to the primary, canary to zero, Failed, and an alert that says why. */
export function rollback(ctx: Ctx, cause: RollbackCause): Advance {
  const text = rollbackText(ctx, cause)
  dropActions(ctx, a => a.kind === 'route' || isCanaryScale(a))
  ctx.actions.push({ kind: 'route', weights: ALL_PRIMARY }, { kind: 'scale', workload: 'canary', replicas: 0 })
  if (hooksOfType(ctx.analysis.webhooks, 'post-rollout').length > 0) ctx.actions.push({ kind: 'run-hooks', type: 'post-rollout' })
  ctx.status = enterPhase({ ...ctx.status, canaryWeight: 0, iterations: 0 }, 'Failed', ctx.now, ctx.kind)
  event(ctx, 'Warning', 'RolledBack', `Canary failed! Scaling down ${ctx.name}: ${text.why}`)
  alert(ctx, text.severity, text.alert)
  return result(ctx)
}

/**
 * The rollback hooks of this tick (Flagger checks them in Progressing, Waiting and WaitingPromotion): a
 * request to run them, the rollback one of them asked for, or undefined when none did.
 */
export function rollbackHooks(ctx: Ctx): Advance | undefined {
  const found = stageOutcomes(ctx, 'rollback')
  if ('need' in found) return requestCheck(ctx, found.need)
  const fired = found.outcomes.find(o => o.verdict === 'pass')
  if (!fired) return undefined
  // A release rolled back while Waiting never started: its revision is recorded as the failed one, so that
  // Failed stays put until a new revision or a retry instead of asking confirm-rollout again.
  if (ctx.status.phase === 'Waiting') update(ctx, { lastAppliedSpec: ctx.seen.revision, failedChecks: 0 })
  return rollbackByHook(ctx, fired.name)
}

/** A rollback hook that passed (answered 200-202) is recorded, then rolls back. */
export function rollbackByHook(ctx: Ctx, name: string): Advance {
  ctx.status = appendChecks(ctx.status, [{
    name: hookRecordName('rollback', name), value: null, verdict: 'fail', time: ctx.now,
    message: `rollback hook "${name}" asked for a rollback`,
  }])
  return rollback(ctx, { kind: 'hook', name })
}
