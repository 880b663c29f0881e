// What the phase machine needs to know of a Deployment, read from its status only.
import type { V1Deployment, V1DeploymentStatus } from '@kubernetes/client-node'
import { STATE_ANNOTATIONS } from '../api/annotations.ts'

/** A Deployment as its status reports it (the target runs the canary; `<target>-primary` runs the primary). */
export interface WorkloadState {
  readonly exists: boolean
  readonly generation: number
  readonly observedGeneration: number
  /** spec.replicas */
  readonly replicas: number
  readonly updatedReplicas: number
  /** status.availableReplicas */
  readonly availableReplicas: number
  /** status.replicas, old pods included; more than updatedReplicas while old pods are still terminating. */
  readonly totalReplicas?: number
  /** The Deployment's own Progressing condition says ProgressDeadlineExceeded. */
  readonly progressDeadlineExceeded?: boolean
  /** For the primary: the revision the deployer stamped on it at the last copy (initialize or promote). */
  readonly revision?: string
}

export const ABSENT: WorkloadState = { exists: false, generation: 0, observedGeneration: 0, replicas: 0, updatedReplicas: 0, availableReplicas: 0 }

function counts(status: V1DeploymentStatus): Pick<WorkloadState, 'observedGeneration' | 'updatedReplicas' | 'availableReplicas' | 'totalReplicas'> {
  return {
    observedGeneration: status.observedGeneration ?? 0,
    updatedReplicas: status.updatedReplicas ?? 0,
    availableReplicas: status.availableReplicas ?? 0,
    totalReplicas: status.replicas ?? 0,
  }
}

export function workloadState(d: V1Deployment | undefined): WorkloadState {
  if (!d) return ABSENT
  const status = d.status ?? {}
  const progressing = status.conditions?.find(c => c.type === 'Progressing')
  const revision = d.metadata?.annotations?.[STATE_ANNOTATIONS.revision]
  return {
    exists: true,
    generation: d.metadata?.generation ?? 0,
    replicas: d.spec?.replicas ?? 1,
    ...counts(status),
    ...(progressing?.reason === 'ProgressDeadlineExceeded' && { progressDeadlineExceeded: true }),
    ...(revision !== undefined && { revision }),
  }
}
