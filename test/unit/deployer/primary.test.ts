// The objects the deployer builds: `<target>-primary`, the `-primary` copies of tracked configs, and the
// primary's autoscaler.
import type { V1ConfigMap, V1Deployment, V1Secret, V2HorizontalPodAutoscaler } from '@kubernetes/client-node'
import t from 'tap'
import { podSelectorOf, primaryAutoscaler, primaryConfig, primaryDeployment, primaryName, type PrimaryInput } from '../../../src/deployer/primary.ts'
import type { AutoscalerReference } from '../../../src/api/types.ts'
import { canary, deployment, hpa } from '../../helpers/objects.ts'

const CANARY_OWNER = { apiVersion: 'sluice.dev/v1beta1', kind: 'Canary', name: 'podinfo', uid: canary().metadata.uid, controller: true, blockOwnerDeletion: true }

/** The user's Deployment as the API returns it, with rollout settings, labels and annotations the primary must (or must not) copy. */
function target(matchLabels: Record<string, string> = { app: 'podinfo' }): V1Deployment {
  // The default selector label is removed unless matchLabels names it again: labels merge key by key.
  const labels = { app: null, ...matchLabels }
  return deployment({
    metadata: {
      labels: { ...matchLabels, team: 'checkout' },
      annotations: {
        'sluice.dev/strategy': 'canary',
        'sluice.dev/analysis': 'interval: 1m',
        'status.sluice.dev/desired-replicas': '3',
        'status.sluice.dev/revision': 'stale-revision',
        'kubectl.kubernetes.io/last-applied-configuration': '{"big":"json"}',
        'deployment.kubernetes.io/revision': '7',
        'example.com/owner': 'team-checkout',
      },
    },
    spec: {
      replicas: 0,
      selector: { matchLabels: labels },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: 0 } },
      minReadySeconds: 5,
      revisionHistoryLimit: 3,
      progressDeadlineSeconds: 120,
      template: {
        metadata: { labels: { ...labels, version: 'v2' }, annotations: { 'prometheus.io/scrape': 'true' } },
        spec: {
          containers: [{
            name: 'app', image: 'podinfo:6.0.1',
            envFrom: [{ configMapRef: { name: 'settings' } }, { configMapRef: { name: 'shared' } }],
            env: [{ name: 'TOKEN', valueFrom: { secretKeyRef: { name: 'token', key: 't' } } }],
          }],
        },
      },
    },
  })
}

function input(overrides: Partial<PrimaryInput> = {}): PrimaryInput {
  return { canary: canary(), target: target(), revision: 'rev-abc', replicas: 3, tracked: new Set(['configmap/settings', 'secret/token']), ...overrides }
}

t.test('the primary selects, labels and runs `<value>-primary` pods', async t => {
  const p = primaryDeployment(input())
  t.equal(primaryName('podinfo'), 'podinfo-primary')
  t.equal(p.apiVersion, 'apps/v1')
  t.equal(p.kind, 'Deployment')
  t.equal(p.metadata?.name, 'podinfo-primary')
  t.equal(p.metadata?.namespace, 'shop')
  t.same(p.spec?.selector, { matchLabels: { app: 'podinfo-primary' } })
  t.same(p.spec?.template.metadata?.labels, { app: 'podinfo-primary', version: 'v2' })
  t.same(p.metadata?.labels, { app: 'podinfo-primary', team: 'checkout', 'app.kubernetes.io/managed-by': 'sluice' })
  t.equal(p.spec?.replicas, 3, 'the replicas asked for, not the target\'s 0')
})

t.test('each selector label is renamed the same way', async t => {
  const byName = primaryDeployment(input({ target: target({ name: 'web' }) }))
  t.same(byName.spec?.selector.matchLabels, { name: 'web-primary' })
  t.equal(byName.spec?.template.metadata?.labels?.name, 'web-primary')
  t.equal(byName.metadata?.labels?.name, 'web-primary')
  const k8s = primaryDeployment(input({ target: target({ 'app.kubernetes.io/name': 'web', tier: 'front' }) }))
  t.same(k8s.spec?.selector.matchLabels, { 'app.kubernetes.io/name': 'web-primary' }, 'only the selector label, as in Flagger')
  t.equal(k8s.spec?.template.metadata?.labels?.['app.kubernetes.io/name'], 'web-primary')
  t.equal(k8s.spec?.template.metadata?.labels?.tier, 'front', 'other template labels are kept')
})

t.test('annotations: sluice\'s and the tools\' are stripped, the revision is stamped', async t => {
  const p = primaryDeployment(input())
  t.same(p.metadata?.annotations, {
    'example.com/owner': 'team-checkout',
    'status.sluice.dev/revision': 'rev-abc',
    'kustomize.toolkit.fluxcd.io/reconcile': 'disabled',
    'helm.toolkit.fluxcd.io/driftDetection': 'disabled',
  })
  t.same(p.spec?.template.metadata?.annotations, { 'prometheus.io/scrape': 'true' }, 'pod annotations are the template\'s')
})

t.test('owned by the Canary, with the managed-by label', async t => {
  const p = primaryDeployment(input())
  t.same(p.metadata?.ownerReferences, [CANARY_OWNER])
  t.equal(p.metadata?.labels?.['app.kubernetes.io/managed-by'], 'sluice')
  t.notOk(p.metadata?.uid || p.metadata?.resourceVersion || p.metadata?.generation, 'none of the target\'s server fields')
})

t.test('strategy, minReadySeconds, revisionHistoryLimit and progressDeadlineSeconds are copied', async t => {
  const p = primaryDeployment(input())
  t.same(p.spec?.strategy, { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: 0 } })
  t.equal(p.spec?.minReadySeconds, 5)
  t.equal(p.spec?.revisionHistoryLimit, 3)
  t.equal(p.spec?.progressDeadlineSeconds, 120)
  const bare = target()
  delete bare.spec!.strategy
  delete bare.spec!.minReadySeconds
  delete bare.spec!.revisionHistoryLimit
  delete bare.spec!.progressDeadlineSeconds
  const q = primaryDeployment(input({ target: bare }))
  t.notOk(q.spec && ('strategy' in q.spec || 'minReadySeconds' in q.spec || 'revisionHistoryLimit' in q.spec || 'progressDeadlineSeconds' in q.spec),
    'absent fields stay absent (server-side apply would otherwise own them)')
  const zero = target()
  zero.spec!.minReadySeconds = 0
  t.equal(primaryDeployment(input({ target: zero })).spec?.minReadySeconds, 0, 'a 0 is copied too')
})

t.test('the template uses the `-primary` copies of the tracked configs only', async t => {
  const p = primaryDeployment(input())
  const expected = structuredClone(target().spec!.template.spec!)
  const app = expected.containers[0]!
  app.envFrom![0]!.configMapRef!.name = 'settings-primary'
  app.env![0]!.valueFrom!.secretKeyRef!.name = 'token-primary'
  t.same(p.spec?.template.spec, expected, 'settings and token renamed; shared (untracked) used as is; nothing else changed')
})

t.test('the target is never changed', async t => {
  const d = target()
  const before = structuredClone(d)
  primaryDeployment(input({ target: d }))
  t.same(d, before)
})

t.test('a selector with none of app, name, app.kubernetes.io/name is a clear error', async t => {
  const d = target({ tier: 'web' })
  t.throws(() => primaryDeployment(input({ target: d })), {
    message: 'Deployment shop/podinfo: spec.selector.matchLabels has none of app, name, app.kubernetes.io/name; add one so sluice can tell primary from canary pods',
  })
  t.throws(() => podSelectorOf({ metadata: { name: 'x', namespace: 'shop' } }), /none of app, name, app\.kubernetes\.io\/name/)
  t.same(podSelectorOf(target()), { label: 'app', value: 'podinfo' })
})

t.test('primaryConfig copies a ConfigMap', async t => {
  const source: V1ConfigMap = {
    apiVersion: 'v1', kind: 'ConfigMap',
    metadata: {
      name: 'settings', namespace: 'shop', uid: 'cm-uid', resourceVersion: '9', labels: { app: 'podinfo' },
      annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{}', 'sluice.dev/config-tracking': 'enabled', 'example.com/note': 'n' },
    },
    data: { 'app.yaml': 'debug: false' },
    binaryData: { logo: 'iVBORw0=' },
  }
  const before = structuredClone(source)
  const copy = primaryConfig(canary(), source, 'configmap') as V1ConfigMap
  t.equal(copy.apiVersion, 'v1')
  t.equal(copy.kind, 'ConfigMap')
  t.equal(copy.metadata?.name, 'settings-primary')
  t.equal(copy.metadata?.namespace, 'shop')
  t.same(copy.metadata?.labels, { app: 'podinfo', 'app.kubernetes.io/managed-by': 'sluice' })
  t.same(copy.metadata?.annotations, {
    'example.com/note': 'n', 'kustomize.toolkit.fluxcd.io/reconcile': 'disabled', 'helm.toolkit.fluxcd.io/driftDetection': 'disabled',
  })
  t.same(copy.metadata?.ownerReferences, [CANARY_OWNER])
  t.same(copy.data, { 'app.yaml': 'debug: false' })
  t.same(copy.binaryData, { logo: 'iVBORw0=' })
  t.notOk('type' in copy)
  t.same(source, before, 'the source is not mutated')
  const empty = primaryConfig(canary(), { metadata: { name: 'empty' } }, 'configmap') as V1ConfigMap
  t.notOk('data' in empty || 'binaryData' in empty, 'no data, no field')
})

t.test('primaryConfig copies a Secret with its type', async t => {
  const source: V1Secret = {
    apiVersion: 'v1', kind: 'Secret', type: 'kubernetes.io/tls',
    metadata: { name: 'token', namespace: 'shop' },
    data: { 'tls.crt': 'Y2VydA==', 'tls.key': 'a2V5' },
  }
  const copy = primaryConfig(canary(), source, 'secret') as V1Secret
  t.equal(copy.kind, 'Secret')
  t.equal(copy.metadata?.name, 'token-primary')
  t.equal(copy.type, 'kubernetes.io/tls')
  t.same(copy.data, { 'tls.crt': 'Y2VydA==', 'tls.key': 'a2V5' })
  t.same(copy.metadata?.labels, { 'app.kubernetes.io/managed-by': 'sluice' })
  t.same(copy.metadata?.ownerReferences, [CANARY_OWNER])
  t.notOk('binaryData' in copy)
})

/** The target's autoscaler `podinfo-hpa`, 2 to 10 replicas on CPU. */
const targetAutoscaler = (): V2HorizontalPodAutoscaler => hpa({
  metadata: { name: 'podinfo-hpa', labels: { app: 'podinfo' } },
  spec: {
    scaleTargetRef: { name: 'podinfo' }, minReplicas: 2, maxReplicas: 10,
    metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } } }],
  },
})

t.test('primaryAutoscaler points the target\'s autoscaler at the primary', async t => {
  const source = targetAutoscaler()
  const before = structuredClone(source)
  const p = primaryAutoscaler(canary({ spec: { autoscalerRef: { apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', name: 'podinfo-hpa' } } }), source)
  t.equal(p.apiVersion, 'autoscaling/v2')
  t.equal(p.kind, 'HorizontalPodAutoscaler')
  t.equal(p.metadata?.name, 'podinfo-hpa-primary')
  t.equal(p.metadata?.namespace, 'shop')
  t.same(p.metadata?.labels, { app: 'podinfo', 'app.kubernetes.io/managed-by': 'sluice' })
  t.same(p.metadata?.ownerReferences, [CANARY_OWNER])
  t.same(p.spec.scaleTargetRef, { apiVersion: 'apps/v1', kind: 'Deployment', name: 'podinfo-primary' })
  t.equal(p.spec.minReplicas, 2, 'bounds kept without primaryScalerReplicas')
  t.equal(p.spec.maxReplicas, 10)
  t.same(p.spec, { ...before.spec, scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'podinfo-primary' } }, 'metrics and the rest as the target\'s')
  t.same(source, before, 'the target\'s autoscaler is not mutated')
})

t.test('primaryAutoscaler applies primaryScalerReplicas', async t => {
  const ref: AutoscalerReference = { apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', name: 'podinfo-hpa' }
  const both = primaryAutoscaler(canary({ spec: { autoscalerRef: { ...ref, primaryScalerReplicas: { minReplicas: 4, maxReplicas: 20 } } } }), targetAutoscaler())
  t.equal(both.spec.minReplicas, 4)
  t.equal(both.spec.maxReplicas, 20)
  const onlyMax = primaryAutoscaler(canary({ spec: { autoscalerRef: { ...ref, primaryScalerReplicas: { maxReplicas: 6 } } } }), targetAutoscaler())
  t.equal(onlyMax.spec.minReplicas, 2, 'an unset bound keeps the target\'s')
  t.equal(onlyMax.spec.maxReplicas, 6)
})
