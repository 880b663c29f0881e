// What happens next to a release and when, in words: read from its status with the phase machine's own
// schedule (nextTickAt) and the operator requests it has not acted on yet (requestsOf, isPending).
import { hooksOfType, strategyOf } from '../../api/defaults.ts'
import { planOf } from '../../api/timing.ts'
import type { Canary, HookType } from '../../api/types.ts'
import { nextTickAt } from '../../controller/machine/phases.ts'
import { isPending } from '../../controller/machine/status.ts'
import { requestsOf } from '../../controller/observe.ts'
import { inTime } from './text.ts'

function gates(c: Canary, type: HookType): string {
  const names = hooksOfType(c.spec.analysis?.webhooks, type).map(w => w.name)
  const noun = names.length === 1 ? 'gate' : 'gates'
  return `the ${type} ${noun}${names.length > 0 ? ` ${names.join(', ')}` : ''}`
}

function tick(c: Canary, now: Date): string {
  const due = nextTickAt(c)
  return due ? inTime(due, now) : 'at the next look'
}

function rollbackNote(c: Canary): string {
  const failed = c.status?.failedChecks ?? 0
  if (failed === 0) return ''
  const left = Math.max(0, (c.spec.analysis?.threshold ?? 1) - failed)
  return `; ${left} more failed check${left === 1 ? '' : 's'} roll${left === 1 ? 's' : ''} it back`
}

function canaryProgress(c: Canary, now: Date): string {
  const weights = planOf(c.spec, 'canary').weights
  const weight = c.status?.canaryWeight ?? 0
  const next = weights.find(w => w > weight)
  const when = tick(c, now)
  if (weight === 0 && next !== undefined) return `first checks (pre-rollout) ${when}, then ${next}% of the traffic to the canary`
  if (next === undefined) return `last checks at ${weight}% ${when}, then promotion if they pass${rollbackNote(c)}`
  return `next checks ${when}, then ${next}% if they pass${rollbackNote(c)}`
}

function iterationProgress(c: Canary, now: Date): string {
  const strategy = strategyOf(c.spec)
  const total = planOf(c.spec, strategy).iterations
  const done = c.status?.iterations ?? 0
  const when = tick(c, now)
  if (done < total) return `iteration ${done + 1} of ${total} ${when}${rollbackNote(c)}`
  if (strategy === 'blue-green' && done === total) return `checks ${when}, then all traffic to the canary for one more interval${rollbackNote(c)}`
  return `last checks ${when}, then promotion if they pass${rollbackNote(c)}`
}

function pendingRequest(c: Canary): string | undefined {
  const { requests } = requestsOf(c)
  const status = c.status ?? {}
  const analysing = status.phase === 'Progressing' || status.phase === 'WaitingPromotion'
  if (analysing && isPending(requests.abort, status)) return `abort requested at ${requests.abort?.toISOString()}: the controller rolls back at its next look`
  if (analysing && isPending(requests.promote, status)) return `promotion requested at ${requests.promote?.toISOString()}: the controller promotes once the canary is ready`
  if (status.phase === 'Failed' && isPending(requests.retry, status)) return `retry requested at ${requests.retry?.toISOString()}: the controller starts the run again`
  return undefined
}

const IDLE: Readonly<Record<string, (c: Canary) => string>> = {
  Initializing: c => `initialization: ${c.spec.targetRef.name}-primary is created and must be ready before it takes the traffic`,
  Initialized: () => 'nothing until a new revision: apply a new pod template (or change a tracked ConfigMap or Secret)',
  Succeeded: () => 'nothing until a new revision: apply a new pod template (or change a tracked ConfigMap or Secret)',
  Failed: c => `nothing until a new revision, or a retry of this one (sluice retry ${c.metadata.name ?? ''})`,
  Promoting: c => `promotion: ${c.spec.targetRef.name}-primary rolls out the new revision, then all traffic returns to it`,
  Terminating: c => `removal: ${c.spec.targetRef.name} gets its replicas back before the generated objects go`,
  Terminated: () => 'removal: the generated objects are deleted',
}

// What holds the phase machine whatever the phase: an invalid spec, a suspension, a request not acted on yet.
function held(c: Canary): string | undefined {
  const invalid = c.status?.conditions?.find(k => k.type === 'InvalidSpec' && k.status === 'True')
  if (invalid) return `nothing: the Canary is not acted on until its spec is fixed (${invalid.message ?? 'InvalidSpec'})`
  if (c.spec.suspend === true) return `nothing: the Canary is suspended; sluice resume ${c.metadata.name ?? ''} lets it go on`
  return pendingRequest(c)
}

/** One line: what the controller does next with this release, and when. */
export function whatNext(c: Canary, now: Date): string {
  const holding = held(c)
  if (holding) return holding
  const phase = c.status?.phase ?? 'Initializing'
  switch (phase) {
    case 'Waiting': return `waiting for ${gates(c, 'confirm-rollout')} to open; asked again ${tick(c, now)}`
    case 'WaitingPromotion': return `waiting for ${gates(c, 'confirm-promotion')} to open; asked again ${tick(c, now)}, the analysis goes on meanwhile`
    case 'Progressing': return strategyOf(c.spec) === 'canary' ? canaryProgress(c, now) : iterationProgress(c, now)
    case 'Finalising': return `the canary is scaled to zero ${tick(c, now)}, then Succeeded`
    default: return (IDLE[phase] ?? (() => phase))(c)
  }
}
