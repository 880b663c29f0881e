// What the phase machine needs to know of a Deployment, read from its status only.
import type { V1Deployment, V1DeploymentStatus } from '@kubernetes/client-node'
import type { WorkloadState } from '../controller/machine/types.ts'
import { STATE_ANNOTATIONS } from '../api/annotations.ts'

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
