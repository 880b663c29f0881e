// The deployer against the real API server, writing as sluice's ServiceAccount (so sluice's RBAC and the
// guard on generated objects are exercised): `<target>-primary` by server-side apply, scale through the
// scale subresource, `-primary` copies of tracked configs, `<hpa>-primary`, and their removal. The admin
// plays the user and reads back what is stored.
import t from 'tap'
import { AppsV1Api, AutoscalingV2Api, CoreV1Api, CustomObjectsApi, type V1Deployment, type V2HorizontalPodAutoscaler } from '@kubernetes/client-node'
import type { ConfigRef } from '../../../src/deployer/configs.ts'
import { createDeployer } from '../../../src/deployer/deployer.ts'
import { applyClient } from '../../../src/kube/apply.ts'
import { STATE_ANNOTATIONS } from '../../../src/api/annotations.ts'
import { MANAGED_BY_LABEL, MANAGED_BY_VALUE } from '../../../src/api/resolve.ts'
import type { Canary, CanarySpec } from '../../../src/api/types.ts'
import { gone, kubeConfig, namespace, sluiceKubeConfig } from '../../helpers/kube.ts'
import { canary, container, deployment, hpa, manifest, type Overrides } from '../../helpers/objects.ts'

const admin = kubeConfig()
const core = admin.makeApiClient(CoreV1Api)
const apps = admin.makeApiClient(AppsV1Api)
const autoscaling = admin.makeApiClient(AutoscalingV2Api)
const custom = admin.makeApiClient(CustomObjectsApi)

const sluice = sluiceKubeConfig()
const deployer = createDeployer(sluice, applyClient(sluice))

const TRACKED: readonly ConfigRef[] = [{ kind: 'configmap', name: 'podinfo-config' }, { kind: 'secret', name: 'podinfo-secret' }]
const TRACKED_KEYS = TRACKED.map(r => `${r.kind}/${r.name}`)

/**
 * The user's side: a Deployment `podinfo` (selector app: podinfo) with rollout settings and a ConfigMap and
 * a Secret in its template, and a Canary for it (provider kubernetes, valid for the resources webhook),
 * both read back from the API as the controller would see them.
 */
async function setup(ns: string, spec: Overrides<CanarySpec> = {}): Promise<{ canary: Canary; target: V1Deployment }> {
  await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'podinfo-config', labels: { team: 'shop' } }, data: { 'greeting.txt': 'hello' } } })
  await core.createNamespacedSecret({ namespace: ns, body: { metadata: { name: 'podinfo-secret' }, type: 'Opaque', stringData: { token: 's3cr3t' } } })
  await apps.createNamespacedDeployment({ namespace: ns, body: manifest(deployment({
    metadata: { namespace: ns, labels: { app: 'podinfo', team: 'shop' }, annotations: { 'example.com/owner': 'shop' } },
    spec: {
      replicas: 0,
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '50%', maxUnavailable: 0 } },
      minReadySeconds: 7, revisionHistoryLimit: 4, progressDeadlineSeconds: 90,
      template: {
        spec: {
          containers: [container({
            image: 'example.invalid/podinfo:1',
            env: [{ name: 'TOKEN', valueFrom: { secretKeyRef: { name: 'podinfo-secret', key: 'token' } } }],
            volumeMounts: [{ name: 'config', mountPath: '/etc/podinfo' }],
          })],
          volumes: [{ name: 'config', configMap: { name: 'podinfo-config' } }],
        },
      },
    },
  })) })
  const body = manifest(canary({ metadata: { namespace: ns }, spec: { provider: 'kubernetes', analysis: { interval: '1m', threshold: 5, iterations: 2 }, ...spec } }))
  const created = await custom.createNamespacedCustomObject({ group: 'sluice.dev', version: 'v1beta1', namespace: ns, plural: 'canaries', body }) as Canary
  return { canary: created, target: await apps.readNamespacedDeployment({ name: 'podinfo', namespace: ns }) }
}

/** What sluice's apply of a Deployment can change, without the status other controllers write. */
// What sluice writes, without what the cluster's own controllers add in between (the Deployment controller's
// deployment.kubernetes.io/revision annotation, status): those change the object, not sluice's part of it.
function sluicePart(d: { metadata?: V1Deployment['metadata'] }): unknown {
  const m = d.metadata
  const annotations = Object.fromEntries(Object.entries(m?.annotations ?? {}).filter(([k]) => !k.startsWith('deployment.kubernetes.io/')))
  return { generation: m?.generation, labels: m?.labels, annotations, owners: m?.ownerReferences, sluice: m?.managedFields?.find(f => f.manager === 'sluice') }
}

t.test('ensurePrimary writes <target>-primary by server-side apply, with the configs it uses copied', async t => {
  const ns = await namespace(t)
  const { canary, target } = await setup(ns)
  await deployer.ensurePrimary(canary, target, 'rev-1', 2, TRACKED)

  const primary = await apps.readNamespacedDeployment({ name: 'podinfo-primary', namespace: ns })
  t.match(primary.metadata, {
    labels: { app: 'podinfo-primary', team: 'shop', [MANAGED_BY_LABEL]: MANAGED_BY_VALUE },
    annotations: { [STATE_ANNOTATIONS.revision]: 'rev-1', 'example.com/owner': 'shop' },
  }, 'the primary selector label, the target\'s labels and annotations, managed-by sluice, the revision it runs')
  t.same(primary.metadata?.ownerReferences?.map(o => ({ kind: o.kind, name: o.name, uid: o.uid, controller: o.controller })),
    [{ kind: 'Canary', name: 'podinfo', uid: canary.metadata.uid, controller: true }], 'owned by the Canary')
  t.ok(primary.metadata?.managedFields?.some(f => f.manager === 'sluice' && f.operation === 'Apply'), 'written by server-side apply as the sluice field manager')
  t.match(primary.spec, {
    replicas: 2,
    selector: { matchLabels: { app: 'podinfo-primary' } },
    strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '50%', maxUnavailable: 0 } },
    minReadySeconds: 7, revisionHistoryLimit: 4, progressDeadlineSeconds: 90,
  }, 'the replicas asked for, its own selector, the target\'s rollout settings')
  t.same(primary.spec?.selector.matchLabels, { app: 'podinfo-primary' }, 'selecting only primary pods')
  t.same(primary.spec?.template.metadata?.labels, { app: 'podinfo-primary' })
  t.match(primary.spec?.template.spec, {
    containers: [{ image: 'example.invalid/podinfo:1', env: [{ valueFrom: { secretKeyRef: { name: 'podinfo-secret-primary', key: 'token' } } }] }],
    volumes: [{ configMap: { name: 'podinfo-config-primary' } }],
  }, 'the target\'s template, reading the copies of the Secret and the ConfigMap')

  const cm = await core.readNamespacedConfigMap({ name: 'podinfo-config-primary', namespace: ns })
  t.same(cm.data, { 'greeting.txt': 'hello' })
  t.match(cm.metadata, { labels: { team: 'shop', [MANAGED_BY_LABEL]: MANAGED_BY_VALUE }, ownerReferences: [{ uid: canary.metadata.uid }] })
  const secret = await core.readNamespacedSecret({ name: 'podinfo-secret-primary', namespace: ns })
  t.equal(Buffer.from(secret.data?.token ?? '', 'base64').toString(), 's3cr3t')
  t.equal(secret.type, 'Opaque')
  t.match(secret.metadata, { labels: { [MANAGED_BY_LABEL]: MANAGED_BY_VALUE }, ownerReferences: [{ uid: canary.metadata.uid }] })

  // The controller calls this on every reconcile: the same input must not write anything. The copies'
  // resourceVersions show it; the Deployment's also moves with the status the deployment controller
  // writes, so for it what sluice writes is compared: its generation (any spec change bumps it), metadata.
  const before = { cm: cm.metadata?.resourceVersion, secret: secret.metadata?.resourceVersion, primary: sluicePart(primary) }
  await deployer.ensurePrimary(canary, target, 'rev-1', 2, TRACKED)
  t.same({
    cm: (await core.readNamespacedConfigMap({ name: 'podinfo-config-primary', namespace: ns })).metadata?.resourceVersion,
    secret: (await core.readNamespacedSecret({ name: 'podinfo-secret-primary', namespace: ns })).metadata?.resourceVersion,
    primary: sluicePart(await apps.readNamespacedDeployment({ name: 'podinfo-primary', namespace: ns })),
  }, before, 'a second ensurePrimary with the same input changed nothing')
})

t.test('promote brings the primary to the new revision, with the configs\' new data', async t => {
  const ns = await namespace(t)
  const { canary, target } = await setup(ns)
  await deployer.ensurePrimary(canary, target, 'rev-1', 2, TRACKED)
  await core.replaceNamespacedConfigMap({ name: 'podinfo-config', namespace: ns, body: { metadata: { name: 'podinfo-config', labels: { team: 'shop' } }, data: { 'greeting.txt': 'hi' } } })
  const changed = structuredClone(target)
  changed.spec!.template.spec!.containers[0]!.image = 'example.invalid/podinfo:2'
  await deployer.promote(canary, changed, 'rev-2', 2, TRACKED)
  const promoted = await apps.readNamespacedDeployment({ name: 'podinfo-primary', namespace: ns })
  t.equal(promoted.spec?.template.spec?.containers[0]?.image, 'example.invalid/podinfo:2')
  t.equal(promoted.metadata?.annotations?.[STATE_ANNOTATIONS.revision], 'rev-2')
  t.same((await core.readNamespacedConfigMap({ name: 'podinfo-config-primary', namespace: ns })).data, { 'greeting.txt': 'hi' })
  t.equal(promoted.spec?.template.spec?.volumes?.[0]?.configMap?.name, 'podinfo-config-primary')
})

t.test('scale goes through the scale subresource', async t => {
  const ns = await namespace(t)
  const { canary, target } = await setup(ns)
  await deployer.ensurePrimary(canary, target, 'rev-1', 1, [])
  await deployer.scale(ns, 'podinfo-primary', 3)
  await deployer.scale(ns, 'podinfo', 2)
  const primary = await apps.readNamespacedDeployment({ name: 'podinfo-primary', namespace: ns })
  t.equal(primary.spec?.replicas, 3)
  t.equal((await apps.readNamespacedDeploymentScale({ name: 'podinfo-primary', namespace: ns })).spec?.replicas, 3)
  t.ok(primary.metadata?.managedFields?.some(f => f.operation === 'Update' && f.subresource === 'scale'), 'the write was to /scale')
  const user = await apps.readNamespacedDeployment({ name: 'podinfo', namespace: ns })
  t.equal(user.spec?.replicas, 2, 'the user\'s Deployment is scaled the same way')
  t.same(user.spec?.template, target.spec?.template, 'without touching its template')
})

t.test('syncAutoscaler keeps <hpa>-primary on the primary and deletes it with the source', async t => {
  const ns = await namespace(t)
  const { canary, target } = await setup(ns, {
    autoscalerRef: { apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', name: 'podinfo', primaryScalerReplicas: { minReplicas: 3, maxReplicas: 6 } },
  })
  const metrics = [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } } }]
  const source = await autoscaling.createNamespacedHorizontalPodAutoscaler({ namespace: ns, body: manifest(hpa({
    metadata: { namespace: ns, labels: { team: 'shop' } }, spec: { minReplicas: 2, maxReplicas: 4, metrics },
  })) })
  await deployer.ensurePrimary(canary, target, 'rev-1', 1, [])
  const readPrimary = (): Promise<V2HorizontalPodAutoscaler> => autoscaling.readNamespacedHorizontalPodAutoscaler({ name: 'podinfo-primary', namespace: ns })

  await deployer.syncAutoscaler(canary, source, undefined)
  const written = await readPrimary()
  t.same(written.spec?.scaleTargetRef, { apiVersion: 'apps/v1', kind: 'Deployment', name: 'podinfo-primary' }, 'it scales the primary')
  t.equal(written.spec?.minReplicas, 3, 'primaryScalerReplicas.minReplicas')
  t.equal(written.spec?.maxReplicas, 6, 'primaryScalerReplicas.maxReplicas')
  t.same(written.spec?.metrics, metrics, 'the metrics are the source\'s')
  t.equal(written.metadata?.labels?.team, 'shop')
  t.equal(written.metadata?.labels?.[MANAGED_BY_LABEL], MANAGED_BY_VALUE)
  t.equal(written.metadata?.ownerReferences?.[0]?.uid, canary.metadata.uid, 'owned by the Canary')

  // As the controller calls it on every reconcile, with the stored copy as `existing`: no write.
  // Compared by sluice's part of the object: the HPA controller writes its status, which moves resourceVersion.
  await deployer.syncAutoscaler(canary, source, written)
  t.same(sluicePart(await readPrimary()), sluicePart(written), 'an unchanged source writes nothing')

  await autoscaling.deleteNamespacedHorizontalPodAutoscaler({ name: 'podinfo', namespace: ns })
  await deployer.syncAutoscaler(canary, undefined, written)
  t.ok(await gone(readPrimary, 'podinfo-primary HPA'), 'the primary autoscaler went with the source')
})

t.test('removeGenerated deletes the primary, its config copies and its autoscaler; the user\'s objects stay', async t => {
  const ns = await namespace(t)
  const { canary, target } = await setup(ns, {
    autoscalerRef: { apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', name: 'podinfo' },
  })
  const source = await autoscaling.createNamespacedHorizontalPodAutoscaler({ namespace: ns, body: manifest(hpa({ metadata: { namespace: ns } })) })
  await deployer.ensurePrimary(canary, target, 'rev-1', 1, TRACKED)
  await deployer.syncAutoscaler(canary, source, undefined)
  t.ok(await autoscaling.readNamespacedHorizontalPodAutoscaler({ name: 'podinfo-primary', namespace: ns }), 'the primary autoscaler exists')

  await deployer.removeGenerated(canary, TRACKED_KEYS)
  t.ok(await gone(() => apps.readNamespacedDeployment({ name: 'podinfo-primary', namespace: ns }), 'podinfo-primary Deployment'), 'the primary is gone')
  t.ok(await gone(() => core.readNamespacedConfigMap({ name: 'podinfo-config-primary', namespace: ns }), 'podinfo-config-primary'), 'the ConfigMap copy is gone')
  t.ok(await gone(() => core.readNamespacedSecret({ name: 'podinfo-secret-primary', namespace: ns }), 'podinfo-secret-primary'), 'the Secret copy is gone')
  t.ok(await gone(() => autoscaling.readNamespacedHorizontalPodAutoscaler({ name: 'podinfo-primary', namespace: ns }), 'podinfo-primary HPA'), 'the autoscaler copy is gone')
  t.ok(await apps.readNamespacedDeployment({ name: 'podinfo', namespace: ns }), 'the user\'s Deployment stays')
  t.ok(await core.readNamespacedConfigMap({ name: 'podinfo-config', namespace: ns }), 'and its ConfigMap')
  t.ok(await core.readNamespacedSecret({ name: 'podinfo-secret', namespace: ns }), 'and its Secret')
  t.ok(await autoscaling.readNamespacedHorizontalPodAutoscaler({ name: 'podinfo', namespace: ns }), 'and its autoscaler')
  // Removing what is already gone is not an error: revert may run again after a crash.
  await deployer.removeGenerated(canary, TRACKED_KEYS)
})
