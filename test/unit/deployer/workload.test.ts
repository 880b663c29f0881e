// What the phase machine knows of a Deployment, read from its status and sluice's revision annotation.
import type { V1Deployment } from '@kubernetes/client-node'
import t from 'tap'
import { ABSENT, workloadState } from '../../../src/deployer/workload.ts'
import { deployment } from '../../helpers/objects.ts'

/** podinfo-primary at generation 5 with 3 replicas, with `status` (none when undefined) and `annotations`. */
function primary(status: V1Deployment['status'], annotations?: Record<string, string>): V1Deployment {
  return deployment({ metadata: { name: 'podinfo-primary', generation: 5, annotations }, spec: { replicas: 3 }, status })
}

t.test('an absent Deployment', async t => {
  t.equal(workloadState(undefined), ABSENT)
  t.same(ABSENT, { exists: false, generation: 0, observedGeneration: 0, replicas: 0, updatedReplicas: 0, availableReplicas: 0 })
})

t.test('fields come from the metadata, spec and status', async t => {
  const w = workloadState(primary({ observedGeneration: 4, replicas: 4, updatedReplicas: 2, availableReplicas: 3 }))
  t.same(w, { exists: true, generation: 5, observedGeneration: 4, replicas: 3, updatedReplicas: 2, availableReplicas: 3, totalReplicas: 4 })
})

t.test('a Deployment without a status yet counts nothing ready', async t => {
  const w = workloadState(primary(undefined))
  t.same(w, { exists: true, generation: 5, observedGeneration: 0, replicas: 3, updatedReplicas: 0, availableReplicas: 0, totalReplicas: 0 })
  const noReplicas = primary(undefined)
  delete noReplicas.spec!.replicas
  t.equal(workloadState(noReplicas).replicas, 1, 'spec.replicas defaults to 1 as on the server')
})

t.test('the Progressing condition reports ProgressDeadlineExceeded', async t => {
  const exceeded = workloadState(primary({
    conditions: [
      { type: 'Available', status: 'False', reason: 'MinimumReplicasUnavailable' },
      { type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded' },
    ],
  }))
  t.equal(exceeded.progressDeadlineExceeded, true)
  const progressing = workloadState(primary({
    conditions: [{ type: 'Progressing', status: 'True', reason: 'NewReplicaSetAvailable' }],
  }))
  t.notOk('progressDeadlineExceeded' in progressing, 'a healthy rollout says nothing')
  const otherType = workloadState(primary({
    conditions: [{ type: 'ReplicaFailure', status: 'True', reason: 'ProgressDeadlineExceeded' }],
  }))
  t.notOk('progressDeadlineExceeded' in otherType, 'only the Progressing condition counts')
})

t.test('the revision is the one sluice stamped', async t => {
  t.equal(workloadState(primary({}, { 'status.sluice.dev/revision': 'rev-abc', 'deployment.kubernetes.io/revision': '7' })).revision, 'rev-abc')
  t.notOk('revision' in workloadState(primary({}, { 'deployment.kubernetes.io/revision': '7' })), 'not the Deployment controller\'s')
})
