// Whether a Deployment has finished its rollout, with Flagger's ready threshold (the share of updated replicas
// that must be available), and a sentence that says what it is still waiting for.
import type { WorkloadState } from './types.ts'

export interface Readiness {
  readonly ready: boolean
  /** What is missing, e.g. "podinfo-primary: 2 of 5 updated replicas available (needs 5)". */
  readonly message: string
  readonly available: number
  readonly needed: number
}

export function readiness(name: string, w: WorkloadState, thresholdPercent: number): Readiness {
  // floor as in Flagger, but at least one pod: a 50% threshold on one replica must not pass with none.
  const needed = Math.max(1, Math.floor(w.updatedReplicas * thresholdPercent / 100))
  const base = { available: w.availableReplicas, needed }
  const waiting = (why: string): Readiness => ({ ...base, ready: false, message: `${name}: ${why}` })
  if (!w.exists) return waiting('does not exist yet')
  if (w.replicas === 0) return waiting('is scaled to zero')
  if (w.generation > w.observedGeneration) return waiting(`the Deployment controller has not yet seen generation ${w.generation}`)
  if (w.updatedReplicas < w.replicas) return waiting(`${w.updatedReplicas} of ${w.replicas} replicas updated`)
  const old = (w.totalReplicas ?? w.updatedReplicas) - w.updatedReplicas
  if (old > 0) return waiting(`${old} old ${old === 1 ? 'replica is' : 'replicas are'} still terminating`)
  if (w.availableReplicas < needed) return waiting(`${w.availableReplicas} of ${w.updatedReplicas} updated replicas available (needs ${needed})`)
  return { ...base, ready: true, message: `${name}: ${w.availableReplicas} of ${w.replicas} replicas available` }
}
