// Every interception case through real `kubectl apply`, with sluice's webhook registered by URL.
import t from 'tap'
import { AppsV1Api, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node'
import { kubeConfig, kubectl, kubectlOk, namespace, sluiceKubeConfig } from '../../helpers/kube.ts'
import { app } from '../../helpers/manifests.ts'

const apps = kubeConfig().makeApiClient(AppsV1Api)
const canary = {
  'sluice.dev/strategy': 'canary', 'sluice.dev/provider': 'gatewayapi', 'sluice.dev/port': '9898',
  'sluice.dev/spec': 'service:\n  gatewayRefs:\n  - {name: public, namespace: gateways}',
  'sluice.dev/analysis': 'interval: 1m\nstepWeight: 20\nmaxWeight: 100\nthreshold: 5',
}
const read = (ns: string, name = 'podinfo') => apps.readNamespacedDeployment({ name, namespace: ns })

t.test('CREATE of an opted-in Deployment: replicas held at 0, desired replicas and revision recorded, plan shown', async t => {
  const ns = await namespace(t)
  const r = await kubectl(['apply', '-f', '-'], app({ namespace: ns, replicas: 3, annotations: canary }))
  t.equal(r.code, 0, r.stderr)
  t.match(r.stderr, /Warning: Deployment .*\/podinfo: first deployment: 3 replica\(s\) go to podinfo-primary without analysis/)
  t.match(r.stderr, /5 steps of 20% every 1m \(20, 40, 60, 80, 100\), promotion in about 6m, done in about 7m; rollback after 5 failed checks, about 6m/)
  const d = await read(ns)
  t.equal(d.spec?.replicas, 0, 'the target is held at zero')
  t.equal(d.metadata?.annotations?.['status.sluice.dev/desired-replicas'], '3')
  t.match(d.metadata?.annotations?.['status.sluice.dev/revision'], /^[0-9a-f]{16}$/)
})

t.test('UPDATE opting a live app in leaves its replicas alone', async t => {
  const ns = await namespace(t)
  await kubectlOk(['apply', '-f', '-'], app({ namespace: ns, replicas: 3 }))
  const r = await kubectl(['apply', '-f', '-'], app({ namespace: ns, replicas: 3, annotations: canary }))
  t.equal(r.code, 0, r.stderr)
  t.match(r.stderr, /opted in: podinfo-primary takes over the current version before podinfo is scaled down/)
  const d = await read(ns)
  t.equal(d.spec?.replicas, 3, 'live replicas untouched')
  t.equal(d.metadata?.annotations?.['status.sluice.dev/desired-replicas'], '3')
})

t.test('UPDATE with a new revision keeps the live replicas, records the user\'s, and shows the plan', async t => {
  const ns = await namespace(t)
  await kubectlOk(['apply', '-f', '-'], app({ namespace: ns, replicas: 3, annotations: canary }))
  const before = await read(ns)
  const r = await kubectl(['apply', '-f', '-'], app({ namespace: ns, replicas: 4, annotations: canary, image: 'ghcr.io/stefanprodan/podinfo:6.7.1' }))
  t.equal(r.code, 0, r.stderr)
  t.match(r.stderr, /new revision [0-9a-f]{8}: canary .*\/podinfo: 5 steps of 20%/)
  const d = await read(ns)
  t.equal(d.spec?.replicas, 0, 'still at its live value')
  t.equal(d.metadata?.annotations?.['status.sluice.dev/desired-replicas'], '4')
  t.not(d.metadata?.annotations?.['status.sluice.dev/revision'], before.metadata?.annotations?.['status.sluice.dev/revision'], 'revision changed')
  t.equal(d.spec?.template?.spec?.containers?.[0]?.image, 'ghcr.io/stefanprodan/podinfo:6.7.1', 'the template is stored as written')
})

t.test('UPDATE of replicas only is recorded, not applied to the target, and shows no plan', async t => {
  const ns = await namespace(t)
  await kubectlOk(['apply', '-f', '-'], app({ namespace: ns, replicas: 3, annotations: canary }))
  const revision = (await read(ns)).metadata?.annotations?.['status.sluice.dev/revision']
  const r = await kubectl(['apply', '-f', '-'], app({ namespace: ns, replicas: 5, annotations: canary }))
  t.equal(r.code, 0, r.stderr)
  t.match(r.stderr, /replicas 5 go to podinfo-primary at once, without analysis/)
  t.notMatch(r.stderr, /new revision/)
  const d = await read(ns)
  t.equal(d.spec?.replicas, 0)
  t.equal(d.metadata?.annotations?.['status.sluice.dev/desired-replicas'], '5')
  t.equal(d.metadata?.annotations?.['status.sluice.dev/revision'], revision, 'same revision')
})

t.test('a re-apply of the same manifest changes nothing', async t => {
  const ns = await namespace(t)
  const manifest = app({ namespace: ns, replicas: 3, annotations: canary })
  await kubectlOk(['apply', '-f', '-'], manifest)
  const first = await read(ns)
  // kubectl's three-way merge sends replicas: 3 again (the live value is 0); the webhook holds it.
  const r = await kubectl(['apply', '-f', '-'], manifest)
  t.equal(r.code, 0, r.stderr)
  t.notMatch(r.stderr, /new revision|replicas \d+ go to/, 'no plan, no replica note')
  const d = await read(ns)
  t.equal(d.spec?.replicas, 0, 'still held')
  // generation moves only with the spec (the Deployment controller's status writes bump resourceVersion).
  t.equal(d.metadata?.generation, first.metadata?.generation, 'the spec was not written')
  t.same(d.metadata?.annotations, { ...first.metadata?.annotations, 'deployment.kubernetes.io/revision': d.metadata?.annotations?.['deployment.kubernetes.io/revision'] }, 'annotations unchanged')
})

t.test('UPDATE removing the opt-in is admitted so that the controller can revert', async t => {
  const ns = await namespace(t)
  await kubectlOk(['apply', '-f', '-'], app({ namespace: ns, replicas: 3, annotations: canary }))
  const r = await kubectl(['apply', '-f', '-'], app({ namespace: ns, replicas: 3 }))
  t.equal(r.code, 0, r.stderr)
  t.match(r.stderr, /opted out of sluice/)
  const d = await read(ns)
  t.notOk(d.metadata?.annotations?.['sluice.dev/strategy'], 'the opt-in is gone')
})

t.test('sluice\'s own writes pass unchanged: its scaling of the target is not held', async t => {
  const ns = await namespace(t)
  await kubectlOk(['apply', '-f', '-'], app({ namespace: ns, replicas: 3, annotations: canary }))
  const asSluice = sluiceKubeConfig().makeApiClient(AppsV1Api)
  await asSluice.patchNamespacedDeployment({ name: 'podinfo', namespace: ns, body: { spec: { replicas: 2 } } },
    setHeaderOptions('Content-Type', PatchStrategy.MergePatch))
  t.equal((await read(ns)).spec?.replicas, 2, 'sluice scaled it')
  // The same patch from the admin is held at the live value.
  await apps.patchNamespacedDeployment({ name: 'podinfo', namespace: ns, body: { spec: { replicas: 7 } } },
    setHeaderOptions('Content-Type', PatchStrategy.MergePatch))
  const d = await read(ns)
  t.equal(d.spec?.replicas, 2, 'the admin\'s change is held')
  t.equal(d.metadata?.annotations?.['status.sluice.dev/desired-replicas'], '7')
})

t.test('server-side dry run shows the plan and stores nothing', async t => {
  const ns = await namespace(t)
  const r = await kubectl(['apply', '--dry-run=server', '-f', '-'], app({ namespace: ns, replicas: 3, annotations: canary }))
  t.equal(r.code, 0, r.stderr)
  t.match(r.stdout, /created \(server dry run\)/)
  t.match(r.stderr, /first deployment: 3 replica\(s\)/)
  t.match(r.stderr, /5 steps of 20% every 1m/)
  const list = await apps.listNamespacedDeployment({ namespace: ns })
  t.equal(list.items.length, 0, 'nothing stored')
})

t.test('unrelated Deployments are never sent to sluice', async t => {
  const ns = await namespace(t)
  const r = await kubectl(['apply', '-f', '-'], app({ namespace: ns, replicas: 2 }))
  t.equal(r.code, 0)
  t.equal(r.stderr, '', 'no warnings')
  const d = await read(ns)
  t.equal(d.spec?.replicas, 2)
  t.notOk(d.metadata?.annotations?.['status.sluice.dev/desired-replicas'], 'no state recorded')
})
