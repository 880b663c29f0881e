// Proof (b): @kubernetes/client-node lists, watches and patches Deployments (JSON patch, merge patch,
// server-side apply) against the real API server.
import t from 'tap'
import { AppsV1Api, PatchStrategy, Watch, setHeaderOptions, type V1Deployment } from '@kubernetes/client-node'
import { kubeConfig, namespace } from '../../helpers/kube.ts'
import { container, deployment, manifest } from '../../helpers/objects.ts'
import { until } from '../../helpers/wait.ts'

const kc = kubeConfig()
const apps = kc.makeApiClient(AppsV1Api)

function body(ns: string, name: string, replicas = 1): V1Deployment {
  return manifest(deployment({
    metadata: { name, namespace: ns, labels: { app: name } },
    spec: { replicas, template: { spec: { containers: [container({ image: 'example.invalid/app:1' })] } } },
  }))
}

t.test('list and watch Deployments', async t => {
  const ns = await namespace(t)
  const seen: string[] = []
  const watch = new Watch(kc)
  const req = await watch.watch(`/apis/apps/v1/namespaces/${ns}/deployments`, {}, (type: string, obj: V1Deployment) => {
    seen.push(`${type} ${obj.metadata?.name}`)
  }, () => undefined)
  t.teardown(() => req.abort())
  await apps.createNamespacedDeployment({ namespace: ns, body: body(ns, 'one') })
  await apps.createNamespacedDeployment({ namespace: ns, body: body(ns, 'two') })
  const list = await apps.listNamespacedDeployment({ namespace: ns })
  t.same(list.items.map(d => d.metadata?.name).sort(), ['one', 'two'])
  await until(async () => seen, s => s.includes('ADDED one') && s.includes('ADDED two'), 'watch ADDED events')
  await apps.deleteNamespacedDeployment({ name: 'one', namespace: ns })
  await until(async () => seen, s => s.includes('DELETED one'), 'watch DELETED event')
})

t.test('JSON patch, merge patch and server-side apply', async t => {
  const ns = await namespace(t)
  await apps.createNamespacedDeployment({ namespace: ns, body: body(ns, 'app') })

  await apps.patchNamespacedDeployment({ name: 'app', namespace: ns, body: [
    { op: 'add', path: '/metadata/annotations', value: {} },
    { op: 'add', path: '/metadata/annotations/example.com~1json-patch', value: 'json' },
    { op: 'replace', path: '/spec/replicas', value: 2 },
  ] }, setHeaderOptions('Content-Type', PatchStrategy.JsonPatch))
  let d = await apps.readNamespacedDeployment({ name: 'app', namespace: ns })
  t.equal(d.spec?.replicas, 2, 'JSON patch replaced replicas')
  t.equal(d.metadata?.annotations?.['example.com/json-patch'], 'json', 'JSON patch added the annotation (escaped path)')

  await apps.patchNamespacedDeployment({ name: 'app', namespace: ns, body: { spec: { replicas: 3 } } },
    setHeaderOptions('Content-Type', PatchStrategy.MergePatch))
  d = await apps.readNamespacedDeployment({ name: 'app', namespace: ns })
  t.equal(d.spec?.replicas, 3, 'merge patch set replicas')

  const applied = body(ns, 'app', 4)
  await apps.patchNamespacedDeployment({ name: 'app', namespace: ns, body: applied, fieldManager: 'sluice-test', force: true },
    setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply))
  d = await apps.readNamespacedDeployment({ name: 'app', namespace: ns })
  t.equal(d.spec?.replicas, 4, 'server-side apply set replicas')
  t.ok(d.metadata?.managedFields?.some(f => f.manager === 'sluice-test' && f.operation === 'Apply'), 'the field manager is recorded')
})
