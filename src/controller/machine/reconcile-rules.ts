// The pure rules around one decision of the phase machine: what the machine sees (the interval floor),
// whether it may decide at all (a spec this version cannot run), the status written after it, whether the
// router is rebuilt or only re-weighted, and when the Canary is looked at again. The reconciler only acts.
import { lintCanary } from '../../api/lint.ts'
import { intervalMs } from '../../api/defaults.ts'
import { formatDuration } from '../../util/duration.ts'
import { canonicalJson } from '../../kube/revision.ts'
import { jsonEqual } from '../../util/json.ts'
import type { Canary, CanaryPhase, CanaryStatus } from '../../api/types.ts'
import type { Action } from './types.ts'
import { nextTickAt } from './phases.ts'

/** Pause after acting before looking again, to see what the actions did (a rollout started, a route set). */
export const SETTLE_MS = 500
/** The longest a Canary goes unlooked-at, whatever its schedule. */
export const RESYNC_MS = 5 * 60_000
/** Actions after which nothing needs settling. */
const QUIET: ReadonlySet<Action['kind']> = new Set(['event', 'alert', 'check', 'run-hooks'])
const RUNNING: ReadonlySet<CanaryPhase | undefined> = new Set(['Progressing', 'WaitingPromotion', 'Promoting', 'Finalising'])

/** The Canary as the phase machine should see it: an interval shorter than the floor is raised to it. */
export function withIntervalFloor(c: Canary, minIntervalMs: number): Canary {
  if (intervalMs(c.spec.analysis) >= minIntervalMs) return c
  return { ...c, spec: { ...c.spec, analysis: { ...c.spec.analysis, interval: formatDuration(minIntervalMs) } } }
}

/**
 * Why the Canary cannot be acted on: none when it can. Only rejections stop the controller: warnings (an
 * ignored field, an old name) were the webhook's to give; references are left to the checks that use them.
 */
export function specRejections(c: Canary): string[] {
  return lintCanary(c, { refs: { metricTemplate: () => true, alertProvider: () => true }, minIntervalMs: 1 }).rejections
}

/** specRejections once per Canary and generation: reconciles run often, the spec changes only with the generation. */
export function specLints(): { problems(c: Canary): readonly string[]; forget(key: string): void } {
  const known = new Map<string, { readonly uid: string | undefined; readonly generation: number; readonly problems: readonly string[] }>()
  return {
    problems(c) {
      const key = `${c.metadata.namespace ?? ''}/${c.metadata.name ?? ''}`
      const generation = c.metadata.generation
      const hit = known.get(key)
      if (hit && generation !== undefined && hit.uid === c.metadata.uid && hit.generation === generation) return hit.problems
      const problems = specRejections(c)
      if (generation !== undefined) known.set(key, { uid: c.metadata.uid, generation, problems })
      return problems
    },
    forget(key) { known.delete(key) },
  }
}

/**
 * The InvalidSpec message for `problems` (specRejections), or undefined when there are none. `idle` says the
 * target runs no pods while it waits (replicas 0 and no primary yet).
 */
export function invalidSpecMessage(c: Canary, idle: boolean, problems: readonly string[] = specRejections(c)): string | undefined {
  if (problems.length === 0) return undefined
  const waiting = idle ? `; ${c.spec.targetRef.name} runs no pods until then (or until sluice.dev/strategy is removed)` : ''
  return `${problems.join('; ')}; nothing is done until the Canary is fixed${waiting}`
}

/** The status with an InvalidSpec condition saying why the Canary is not acted on (kept as is when unchanged). */
export function withInvalidSpec(status: CanaryStatus, message: string, now: Date): CanaryStatus {
  const others = (status.conditions ?? []).filter(c => c.type !== 'InvalidSpec')
  const before = status.conditions?.find(c => c.type === 'InvalidSpec')
  if (before?.message === message) return status
  return { ...status, conditions: [...others, { type: 'InvalidSpec', status: 'True', reason: 'InvalidSpec', message, lastTransitionTime: before?.lastTransitionTime ?? now.toISOString() }] }
}

/** The status without the InvalidSpec condition, once the spec can run again. */
export function withoutInvalidSpec(status: CanaryStatus): CanaryStatus {
  if (!status.conditions?.some(c => c.type === 'InvalidSpec')) return status
  const conditions = status.conditions.filter(c => c.type !== 'InvalidSpec')
  const { conditions: _all, ...rest } = status
  return conditions.length > 0 ? { ...rest, conditions } : rest
}

/**
 * The status to write after the machine decided: without InvalidSpec, with the generation it was decided
 * from, and trackedConfigs set afresh to what the target uses now (a config no longer used leaves it).
 */
export function statusAfterDecision(decided: CanaryStatus, generation: number | undefined, trackedHashes: Readonly<Record<string, string>>): CanaryStatus {
  const { trackedConfigs: _recorded, ...rest } = decided
  return {
    ...withoutInvalidSpec(rest),
    ...(generation !== undefined && { observedGeneration: generation }),
    ...(Object.keys(trackedHashes).length > 0 && { trackedConfigs: { ...trackedHashes } }),
  }
}

/**
 * Whether the status is written: when it changed, and also when there are actions to confirm (the API server
 * stores no no-op, but the conditional write refuses a decision made from a stale read before anything acts).
 * An Event alone is not confirmed: it changes nothing, and a decision that only records one (a wait's notice
 * on each status change of a Deployment) would pay a write for it; at worst a stale read words one Event
 * from the Canary as it stood a moment before.
 */
export function mustWriteStatus(before: CanaryStatus, after: CanaryStatus, actions: readonly Action[]): boolean {
  // Equal as they stand (most ticks) means equal canonically too, without building two texts.
  return actions.some(a => a.kind !== 'event') || (!jsonEqual(after, before) && canonicalJson(after) !== canonicalJson(before))
}

/**
 * Whether a route action rebuilds the Services and router objects, or only sets the weights (a few API calls
 * instead of ten): rebuilt when they were not found, or when the spec changed since this process built them.
 */
export function needsRouterRebuild(routed: boolean, builtGeneration: number | undefined, generation: number | undefined): boolean {
  return !routed || builtGeneration !== generation
}

/**
 * The next look: the next interval, soon after acting, or a resync, whichever comes first. `phaseBefore` is the
 * phase the decision started from: a weight step taken at its tick (same phase, routes only) needs no look
 * soon after, as nothing moves on before the next tick, which reads the weights back (and re-applies them on
 * drift); that look was half of a running analysis's reconciles.
 */
export function nextLookAt(now: Date, c: Canary, actions: readonly Action[], phaseBefore?: CanaryPhase): Date {
  const at = now.getTime()
  const due = nextTickAt(c)?.getTime() ?? Infinity
  // A tick still due after this look was not taken: the machine waits (a canary not ready, a primary rolling
  // out). Looking again at once would spin without end; the watch brings the change it waits for, and a look an
  // interval on is where the progress deadline is checked, as at a tick.
  const tick = due <= at ? at + intervalMs(c.spec.analysis) : due
  const acted = actions.some(a => !QUIET.has(a.kind))
  const stepTaken = due > at && c.status?.phase === phaseBefore && actions.every(a => QUIET.has(a.kind) || a.kind === 'route')
  const soon = acted && !stepTaken ? at + SETTLE_MS : Infinity
  return new Date(Math.min(tick, soon, at + RESYNC_MS))
}

/** Whether a phase change starts a run (into a running phase) or ends one (into Succeeded or Failed). */
export function runTransition(before: CanaryPhase | undefined, after: CanaryPhase | undefined): 'start' | 'succeeded' | 'failed' | undefined {
  if (!RUNNING.has(before) && RUNNING.has(after)) return 'start'
  if (after === before) return undefined
  if (after === 'Succeeded') return 'succeeded'
  if (after === 'Failed') return 'failed'
  return undefined
}

/**
 * When the controller can first act on the progress deadline: progress is only marked, and the deadline only
 * checked, at a tick, so it is the first tick at or after the last progress plus the deadline.
 */
export function deadlineTickMs(progressMs: number, deadlineMs: number, intervalMs: number): number {
  return progressMs + Math.ceil(deadlineMs / intervalMs) * intervalMs
}
