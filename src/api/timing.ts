// The rollout plan and its timings (Flagger's formulas, flagger-semantics §13), as data and as the one-line
// preview the webhook returns as an admission warning.
import { DEFAULTS, effectiveMaxWeight, intervalMs, strategyOf } from './defaults.ts'
import { formatDuration } from '../util/duration.ts'
import type { CanaryAnalysis, CanarySpec, Strategy } from './types.ts'

export interface Plan {
  readonly strategy: Strategy
  readonly skipAnalysis: boolean
  readonly intervalMs: number
  /** Canary weight after each step (canary only). */
  readonly weights: readonly number[]
  /** A mirrored interval before the first weight step (canary with mirror). */
  readonly mirrorStep: boolean
  /** Checks before promotion (blue-green and ab). */
  readonly iterations: number
  /** Intervals the primary needs to take all traffic back when stepWeightPromotion is set (canary only). */
  readonly promotionSteps: number
  /** From the start of the run to the promotion (the primary gets the new version), when every check passes. */
  readonly promotionMs: number
  /** From the start of the run to Succeeded. */
  readonly doneMs: number
  readonly threshold: number
  /** From the start of the run to Failed, when every check fails. */
  readonly rollbackMs: number
}

// Flagger adds stepWeight until the weight reaches maxWeight, so the last step may overshoot it
// (maxWeight 50, stepWeight 20 gives 20, 40, 60); a weight never exceeds 100.
export function canaryWeights(analysis: CanaryAnalysis | undefined): number[] {
  const ladder = analysis?.stepWeights
  if (ladder && ladder.length > 0) return ladder.map(w => Math.min(100, w))
  const step = analysis?.stepWeight ?? 0
  if (step <= 0) return []
  const max = effectiveMaxWeight(analysis)
  const weights: number[] = []
  for (let weight = 0; weight < max;) {
    weight = Math.min(100, weight + step)
    weights.push(weight)
  }
  return weights
}

function promotionSteps(analysis: CanaryAnalysis | undefined, lastWeight: number): number {
  const step = analysis?.stepWeightPromotion ?? 0
  return step > 0 && lastWeight > 0 ? Math.ceil(lastWeight / step) : 0
}

/**
 * Intervals from the start of the run, as the phase machine takes them (one tick per interval, the first one
 * interval after the canary is scaled up; the primary's own rollout time comes on top):
 * - canary: a tick per weight step (and one for mirroring first), the promotion on the tick after the last
 *   step, the primary's hand-back steps (stepWeightPromotion) on the ticks after it, Succeeded one tick later;
 * - blue-green: a tick per iteration, one more with all traffic on the canary, then the promotion, then done;
 * - ab: a tick per iteration, then the promotion, then done;
 * - rollback: failed checks are counted one per tick, and the tick after the threshold is reached rolls back.
 */
function ticksOf(strategy: Strategy, weights: number, mirrorStep: boolean, iterations: number, promotionSteps: number): { promotion: number; done: number } {
  if (strategy === 'canary') {
    const promotion = weights + (mirrorStep ? 1 : 0) + 1
    return { promotion, done: promotion + promotionSteps + 1 }
  }
  const promotion = iterations + (strategy === 'blue-green' ? 2 : 1)
  return { promotion, done: promotion + 1 }
}

export function planOf(spec: Pick<CanarySpec, 'analysis' | 'skipAnalysis'>, strategy: Strategy = strategyOf(spec)): Plan {
  const analysis = spec.analysis
  const interval = intervalMs(analysis)
  const threshold = analysis?.threshold ?? DEFAULTS.threshold
  const weights = strategy === 'canary' ? canaryWeights(analysis) : []
  const mirrorStep = strategy === 'canary' && analysis?.mirror === true && weights.length > 0
  const iterations = strategy === 'canary' ? 0 : analysis?.iterations ?? 0
  const gradual = strategy === 'canary' ? promotionSteps(analysis, weights[weights.length - 1] ?? 0) : 0
  const ticks = ticksOf(strategy, weights.length, mirrorStep, iterations, gradual)
  return {
    strategy,
    skipAnalysis: spec.skipAnalysis === true,
    intervalMs: interval,
    weights,
    mirrorStep,
    iterations,
    promotionSteps: gradual,
    promotionMs: interval * ticks.promotion,
    doneMs: interval * ticks.done,
    threshold,
    rollbackMs: interval * (threshold + 1),
  }
}

const plural = (n: number, one: string, many: string): string => `${n} ${n === 1 ? one : many}`

function progressText(plan: Plan, analysis: CanaryAnalysis | undefined): string {
  const every = `every ${formatDuration(plan.intervalMs)}`
  if (plan.strategy !== 'canary') {
    const scope = plan.strategy === 'ab' ? ' on matching requests' : analysis?.mirror ? ' with mirrored traffic' : ''
    return `${plural(plan.iterations, 'iteration', 'iterations')} ${every}${scope}`
  }
  const size = analysis?.stepWeights?.length ? '' : ` of ${analysis?.stepWeight ?? 0}%`
  const mirrored = plan.mirrorStep ? ', after one interval of mirrored traffic' : ''
  const steps = `${plural(plan.weights.length, 'step', 'steps')}${size} ${every} (${plan.weights.join(', ')})${mirrored}`
  if (plan.promotionSteps === 0) return steps
  return `${steps}, then the primary takes traffic back in ${plural(plan.promotionSteps, 'step', 'steps')} of ${analysis?.stepWeightPromotion}%`
}

/**
 * "canary shop/podinfo: 5 steps of 20% every 1m (20, 40, 60, 80, 100), promotion in about 6m, done in about 7m;
 * rollback after 5 failed checks, about 6m"
 */
export function planText(
  target: { readonly namespace?: string; readonly name: string },
  spec: Pick<CanarySpec, 'analysis' | 'skipAnalysis'>,
  strategy: Strategy = strategyOf(spec),
): string {
  const plan = planOf(spec, strategy)
  const who = `${strategy} ${target.namespace ? `${target.namespace}/` : ''}${target.name}`
  if (plan.skipAnalysis) return `${who}: analysis skipped, promotion as soon as the new version is ready`
  const rollback = `rollback after ${plural(plan.threshold, 'failed check', 'failed checks')}, about ${formatDuration(plan.rollbackMs)}`
  const promotion = `promotion in about ${formatDuration(plan.promotionMs)}, done in about ${formatDuration(plan.doneMs)}`
  return `${who}: ${progressText(plan, spec.analysis)}, ${promotion}; ${rollback}`
}
