// The plan of a release as rows (start, each step or iteration, promotion), from the same planOf() the
// webhook's plan text comes from, and where a running release stands in it.
import { formatDuration } from '../../util/duration.ts'
import { planOf } from '../../api/timing.ts'
import type { CanarySpec, CanaryStatus, Strategy } from '../../api/types.ts'

export type Mark = 'done' | 'now' | ''

export interface StepRow {
  readonly label: string
  /** When the step is reached, counted from the start of the run: "+1m". */
  readonly at?: string
  readonly note?: string
  mark: Mark
}

const at = (k: number, intervalMs: number): string => `+${formatDuration(k * intervalMs)}`

function canaryRows(spec: CanarySpec, intervalMs: number): StepRow[] {
  const plan = planOf(spec, 'canary')
  const first = plan.mirrorStep ? 2 : 1
  const rows: StepRow[] = plan.weights.map((w, i) => ({ label: `step ${i + 1}`, at: at(i + first, intervalMs), note: `${w}%`, mark: '' }))
  if (plan.mirrorStep) rows.unshift({ label: 'mirror', at: at(1, intervalMs), note: 'a copy of the traffic to the canary', mark: '' })
  const promote = { label: 'promote', at: `+${formatDuration(plan.promotionMs)}`, mark: '' as Mark }
  if (plan.promotionSteps > 0) {
    rows.push({ ...promote, note: `then the primary takes traffic back in ${plan.promotionSteps} steps of ${spec.analysis?.stepWeightPromotion}%; done at +${formatDuration(plan.doneMs)}` })
  } else rows.push({ ...promote, note: `once the checks at the last step pass; done at +${formatDuration(plan.doneMs)}` })
  return rows
}

function iterationRows(spec: CanarySpec, strategy: Strategy, intervalMs: number): StepRow[] {
  const plan = planOf(spec, strategy)
  const scope = strategy === 'ab' ? 'matching requests to the canary' : 'every user on the primary'
  const rows: StepRow[] = Array.from({ length: plan.iterations }, (_, i) => ({ label: `iteration ${i + 1}`, at: at(i + 1, intervalMs), note: scope, mark: '' }))
  if (strategy === 'blue-green') {
    rows.push({ label: 'switch', at: at(plan.iterations + 1, intervalMs), note: 'all traffic to the canary for one more checked interval', mark: '' })
  }
  rows.push({ label: 'promote', at: `+${formatDuration(plan.promotionMs)}`, note: `the canary's template goes to the primary; done at +${formatDuration(plan.doneMs)}`, mark: '' })
  return rows
}

/** The rows of a plan, unmarked: what `sluice plan` prints. */
export function planRows(spec: CanarySpec, strategy: Strategy): StepRow[] {
  const plan = planOf(spec, strategy)
  if (plan.skipAnalysis) return [{ label: 'promote', note: 'analysis skipped: as soon as the new version is ready', mark: '' }]
  const start: StepRow = { label: 'start', at: '+0s', note: strategy === 'canary' ? '0%, the canary scaled up' : 'the canary scaled up', mark: '' }
  return [start, ...(strategy === 'canary' ? canaryRows(spec, plan.intervalMs) : iterationRows(spec, strategy, plan.intervalMs))]
}

const RUNNING: ReadonlySet<string> = new Set(['Waiting', 'Progressing', 'WaitingPromotion'])

// The row the release is on: the step whose weight it holds, the iteration it has reached, or the promotion.
function currentIndex(rows: readonly StepRow[], spec: CanarySpec, strategy: Strategy, status: CanaryStatus): number | undefined {
  const phase = status.phase
  const promote = rows.length - 1
  if (phase === 'Promoting' || phase === 'Finalising') return promote
  if (phase === 'Succeeded') return rows.length
  if (!RUNNING.has(phase ?? '') || planOf(spec, strategy).skipAnalysis) return undefined
  if (strategy === 'canary') {
    const plan = planOf(spec, strategy)
    const i = plan.weights.indexOf(status.canaryWeight ?? 0)
    // With mirroring first, the mirror row comes before the steps; the machine counts it as an iteration.
    if (i < 0) return plan.mirrorStep && (status.iterations ?? 0) > 0 ? 1 : 0
    return i + 1 + (plan.mirrorStep ? 1 : 0)
  }
  return Math.min(status.iterations ?? 0, promote)
}

/** The rows with the finished ones marked done and the current one marked now. */
export function markedRows(spec: CanarySpec, strategy: Strategy, status: CanaryStatus): StepRow[] {
  const rows = planRows(spec, strategy)
  const current = currentIndex(rows, spec, strategy, status)
  if (current === undefined) return rows
  rows.forEach((row, i) => { row.mark = i < current ? 'done' : i === current ? 'now' : '' })
  return rows
}

/** "2/5": the step (or iteration) reached of those planned; '-' when no run is on. */
export function stepText(spec: CanarySpec, strategy: Strategy, status: CanaryStatus): string {
  const phase = status.phase ?? ''
  if (!RUNNING.has(phase) && phase !== 'Promoting' && phase !== 'Finalising') return '-'
  const plan = planOf(spec, strategy)
  const total = strategy === 'canary' ? plan.weights.length : plan.iterations
  if (phase === 'Promoting' || phase === 'Finalising') return `${total}/${total}`
  const reached = strategy === 'canary' ? plan.weights.indexOf(status.canaryWeight ?? 0) + 1 : Math.min(status.iterations ?? 0, total)
  return `${reached}/${total}`
}
