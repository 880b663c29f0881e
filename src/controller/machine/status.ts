// Writers and readers of Canary status. Three clocks live in it (the schema has no other place for them):
// - status.lastTransitionTime: the last phase change, or the start of a new run; operator requests older than
//   it are stale.
// - Promoted.lastUpdateTime: the last progress (a phase change, or an analysis tick whose checks all passed),
//   as a Deployment's Progressing condition does; the progress deadline of a holding canary counts from it.
// - the last tick: the later of the last progress and the newest check record; a tick that did not progress
//   always leaves a record, so ticks stay `interval` apart across restarts.
import { MAX_STATUS_CHECKS } from '../../api/types.ts'
import type { CanaryCondition, CanaryPhase, CanaryStatus, CheckRecord, ConditionStatus } from '../../api/types.ts'

const CONDITIONS: Readonly<Record<CanaryPhase, readonly [ConditionStatus, (kind: string) => string]>> = {
  Initializing: ['Unknown', kind => `New ${kind} detected, starting initialization.`],
  Initialized: ['True', kind => `${kind} initialization completed.`],
  Waiting: ['Unknown', () => 'Waiting for approval.'],
  WaitingPromotion: ['Unknown', () => 'Waiting for approval.'],
  Progressing: ['Unknown', () => 'New revision detected, progressing canary analysis.'],
  Promoting: ['Unknown', () => 'Canary analysis completed, starting primary rolling update.'],
  Finalising: ['Unknown', () => 'Canary analysis completed, routing all traffic to primary.'],
  Succeeded: ['True', () => 'Canary analysis completed successfully, promotion finished.'],
  Failed: ['False', kind => `Canary analysis failed, ${kind} scaled to zero.`],
  Terminating: ['Unknown', kind => `Canary is being removed, the ${kind} takes its traffic back.`],
  Terminated: ['Unknown', kind => `Canary removed, the ${kind} serves its traffic again.`],
}

export function promotedCondition(status: CanaryStatus): CanaryCondition | undefined {
  return status.conditions?.find(c => c.type === 'Promoted')
}

function withCondition(status: CanaryStatus, condition: CanaryCondition): CanaryStatus {
  const others = (status.conditions ?? []).filter(c => c.type !== 'Promoted')
  return { ...status, conditions: [...others, condition] }
}

/** Moves to `phase` (or starts a new run in the same phase): both clocks are set to now. */
export function enterPhase(status: CanaryStatus, phase: CanaryPhase, now: string, kind: string, message?: string): CanaryStatus {
  const [conditionStatus, text] = CONDITIONS[phase]
  const before = promotedCondition(status)
  const unchanged = before?.status === conditionStatus && before.lastTransitionTime !== undefined
  return withCondition({ ...status, phase, lastTransitionTime: now }, {
    type: 'Promoted',
    status: conditionStatus,
    reason: phase,
    message: message ?? text(kind),
    lastUpdateTime: now,
    lastTransitionTime: unchanged ? before.lastTransitionTime : now,
  })
}

/** Records that the rollout moved forward (or was confirmed healthy) without changing phase. */
export function markProgress(status: CanaryStatus, now: string, kind: string): CanaryStatus {
  const before = promotedCondition(status)
  if (!before) return enterPhase(status, status.phase ?? 'Initializing', now, kind)
  return withCondition(status, { ...before, lastUpdateTime: now })
}

export function appendChecks(status: CanaryStatus, records: readonly CheckRecord[]): CanaryStatus {
  if (records.length === 0) return status
  return { ...status, checks: [...(status.checks ?? []), ...records].slice(-MAX_STATUS_CHECKS) }
}

function parse(time: string | undefined): number | undefined {
  if (time === undefined) return undefined
  const ms = Date.parse(time)
  return Number.isNaN(ms) ? undefined : ms
}

export function lastProgressMs(status: CanaryStatus): number | undefined {
  return parse(promotedCondition(status)?.lastUpdateTime) ?? parse(status.lastTransitionTime)
}

export function lastTickMs(status: CanaryStatus): number | undefined {
  const times = [lastProgressMs(status), parse(status.checks?.at(-1)?.time)].filter((t): t is number => t !== undefined)
  return times.length > 0 ? Math.max(...times) : undefined
}

/** An operator request counts once: when it was made after the canary's last transition. */
export function isPending(request: Date | undefined, status: CanaryStatus): boolean {
  if (request === undefined) return false
  const since = parse(status.lastTransitionTime)
  return since === undefined || request.getTime() > since
}

export const weightOf = (status: CanaryStatus): number => status.canaryWeight ?? 0
export const iterationsOf = (status: CanaryStatus): number => status.iterations ?? 0
export const failedChecksOf = (status: CanaryStatus): number => status.failedChecks ?? 0

/** Says something about the current phase in the Promoted condition without touching its clocks. */
export function withMessage(status: CanaryStatus, message: string): CanaryStatus {
  const before = promotedCondition(status)
  return before ? withCondition(status, { ...before, message }) : status
}
