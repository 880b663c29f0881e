// Proof (a): kubectl apply of a Deployment becomes Available with 3 Ready pods through the real
// controller-manager, scheduler and kwok.
import t from 'tap'
import { AppsV1Api, CoreV1Api } from '@kubernetes/client-node'
import { kubeConfig, kubectlOk, namespace } from '../../helpers/kube.ts'
import { app } from '../../helpers/manifests.ts'
import { until } from '../../helpers/wait.ts'

t.test('kubectl apply of a 3-replica Deployment yields 3 Ready pods', async t => {
  const ns = await namespace(t)
  const out = await kubectlOk(['apply', '-f', '-'], app({ namespace: ns, replicas: 3 }))
  t.match(out, /deployment.apps\/podinfo created/)
  const apps = kubeConfig().makeApiClient(AppsV1Api)
  const d = await until(() => apps.readNamespacedDeployment({ name: 'podinfo', namespace: ns }),
    d => d.status?.availableReplicas === 3 && d.status.readyReplicas === 3, 'podinfo availableReplicas=3')
  t.equal(d.status?.updatedReplicas, 3)
  t.ok(d.status?.conditions?.some(c => c.type === 'Available' && c.status === 'True'), 'Available condition is True')

  const pods = await kubeConfig().makeApiClient(CoreV1Api).listNamespacedPod({ namespace: ns, labelSelector: 'app=podinfo' })
  t.equal(pods.items.length, 3)
  for (const p of pods.items) {
    t.equal(p.spec?.nodeName, 'kwok-node-0', `${p.metadata?.name} scheduled on the kwok node`)
    t.equal(p.status?.phase, 'Running')
    t.ok(p.status?.podIP, `${p.metadata?.name} has an IP`)
  }
  const rollout = await kubectlOk(['-n', ns, 'rollout', 'status', 'deployment/podinfo', '--timeout=30s'])
  t.match(rollout, /successfully rolled out/)
})

t.test('deleted pods go away and are replaced', async t => {
  const ns = await namespace(t)
  await kubectlOk(['apply', '-f', '-'], app({ namespace: ns, replicas: 3 }))
  const core = kubeConfig().makeApiClient(CoreV1Api)
  const first = await until(() => core.listNamespacedPod({ namespace: ns }), l => l.items.length === 3 &&
    l.items.every(p => p.status?.phase === 'Running'), '3 running pods')
  const victim = first.items[0]!.metadata!.name!
  await core.deleteNamespacedPod({ name: victim, namespace: ns })
  const after = await until(() => core.listNamespacedPod({ namespace: ns }), l => l.items.length === 3 &&
    !l.items.some(p => p.metadata?.name === victim) && l.items.every(p => p.status?.phase === 'Running'), 'pod replaced')
  t.notOk(after.items.some(p => p.metadata?.name === victim), 'the deleted pod is gone')
})
