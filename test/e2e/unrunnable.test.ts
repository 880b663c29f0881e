// A Canary this version cannot run (stored before an upgrade, or written past the webhook) is reported
// and left alone, never retried in a loop, and can still be deleted or opted out of. Such objects are
// written here as sluice's own user, which the webhook lets through as it lets through sluice's writes.
import t from 'tap'
import { readFile } from 'node:fs/promises'
import { AppsV1Api, CustomObjectsApi } from '@kubernetes/client-node'
import { kubectlOk, sluiceKubeConfig } from '../helpers/kube.ts'
import { until } from '../helpers/wait.ts'
import { apps, canary, eventsOf, testNamespace } from './env.ts'

const asSluice = sluiceKubeConfig()
const sluiceCustom = asSluice.makeApiClient(CustomObjectsApi)

t.test('a hand-written Canary with a provider that has no router: Event and condition, no retry loop, deletable', async t => {
  const { ns, controller } = await testNamespace(t)
  await kubectlOk(['-n', ns, 'create', 'deployment', 'podinfo', '--image=ghcr.io/stefanprodan/podinfo:6.7.0', '--replicas=1'])
  await sluiceCustom.createNamespacedCustomObject({
    group: 'sluice.dev', version: 'v1beta1', namespace: ns, plural: 'canaries',
    body: {
      apiVersion: 'sluice.dev/v1beta1', kind: 'Canary', metadata: { name: 'podinfo' },
      spec: { provider: 'kuma', targetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'podinfo' }, service: { port: 9898 }, analysis: { interval: '1m', stepWeight: 10 } },
    },
  })
  const reported = await until(() => canary(ns, 'podinfo'), c => c?.status?.conditions?.some(x => x.type === 'InvalidSpec') === true, 'InvalidSpec condition')
  const condition = reported?.status?.conditions?.find(x => x.type === 'InvalidSpec')
  t.equal(condition?.status, 'True')
  t.match(condition?.message, `spec.provider kuma is not available yet in this version of sluice; available: kubernetes, nginx, gatewayapi, gatewayapi:v1beta1, istio, linkerd, traefik, contour`)
  const events = await eventsOf(ns, 'Canary', 'podinfo')
  t.ok(events.some(e => e.startsWith('Warning InvalidSpec: ') && e.includes('spec.provider kuma is not available yet')), 'a Warning Event names the field')
  t.equal(reported?.status?.phase, undefined, 'nothing was started')
  t.equal((await apps.readNamespacedDeployment({ namespace: ns, name: 'podinfo' })).spec?.replicas, 1, 'the target keeps its replicas')

  // Deletion goes through the finalizer: the revert does not need the missing router.
  await kubectlOk(['-n', ns, 'delete', 'canary', 'podinfo', '--wait=false'])
  await until(() => canary(ns, 'podinfo'), c => c === undefined, 'the Canary is gone')
  const log = await readFile(controller.log, 'utf8')
  t.notMatch(log, /reconcile failed/, 'the controller never retried it as a failure')
})

t.test('a Deployment opted in with a provider that has no router can still opt out', async t => {
  const { ns } = await testNamespace(t)
  // Written as sluice, as an earlier version's webhook would have admitted it.
  await asSluice.makeApiClient(AppsV1Api).createNamespacedDeployment({
    namespace: ns,
    body: {
      metadata: { name: 'podinfo', annotations: { 'sluice.dev/strategy': 'canary', 'sluice.dev/provider': 'kuma', 'sluice.dev/port': '9898', 'sluice.dev/analysis': 'interval: 1m\nstepWeight: 10' } },
      spec: { replicas: 1, selector: { matchLabels: { app: 'podinfo' } }, template: { metadata: { labels: { app: 'podinfo' } }, spec: { containers: [{ name: 'app', image: 'ghcr.io/stefanprodan/podinfo:6.7.0' }] } } },
    },
  })
  await until(() => canary(ns, 'podinfo'), c => c?.status?.conditions?.some(x => x.type === 'InvalidSpec' && x.message?.includes('provider kuma is not available yet')) === true, 'the generated Canary is reported')
  await kubectlOk(['-n', ns, 'annotate', 'deployment', 'podinfo', 'sluice.dev/strategy-', 'sluice.dev/provider-', 'sluice.dev/port-', 'sluice.dev/analysis-'])
  await until(() => canary(ns, 'podinfo'), c => c === undefined, 'the generated Canary is removed with the opt-out')
  const target = await apps.readNamespacedDeployment({ namespace: ns, name: 'podinfo' })
  t.equal(target.spec?.replicas, 1, 'the Deployment runs as before')
  t.notOk(Object.keys(target.metadata?.annotations ?? {}).some(k => k.startsWith('status.sluice.dev/')), 'sluice\'s state is gone from it')
})
