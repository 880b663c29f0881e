// Config tracking: every place a pod spec names a ConfigMap or Secret, and the primary's copy of the spec
// pointing at the `-primary` configs.
import type { V1PodSpec } from '@kubernetes/client-node'
import t from 'tap'
import { configKey, configRefs, primaryConfigName, withPrimaryConfigs } from '../../../src/deployer/configs.ts'

/** A pod spec naming configs in every supported place, some of them twice. */
function podSpec(): V1PodSpec {
  return {
    volumes: [
      { name: 'v-cm', configMap: { name: 'vol-cm' } },
      { name: 'v-secret', secret: { secretName: 'vol-secret' } },
      { name: 'v-empty', emptyDir: {} },
      {
        name: 'v-projected',
        projected: {
          sources: [
            { configMap: { name: 'proj-cm' } },
            { secret: { name: 'proj-secret' } },
            { serviceAccountToken: { path: 'token' } },
          ],
        },
      },
    ],
    containers: [
      {
        name: 'app', image: 'podinfo',
        env: [
          { name: 'PLAIN', value: 'x' },
          { name: 'FROM_CM', valueFrom: { configMapKeyRef: { name: 'env-cm', key: 'a' } } },
          { name: 'FROM_SECRET', valueFrom: { secretKeyRef: { name: 'env-secret', key: 'b' } } },
          { name: 'FROM_FIELD', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
          { name: 'AGAIN', valueFrom: { configMapKeyRef: { name: 'vol-cm', key: 'c' } } },
        ],
        envFrom: [{ configMapRef: { name: 'envfrom-cm' } }, { secretRef: { name: 'envfrom-secret' } }],
      },
      { name: 'sidecar', image: 'proxy', envFrom: [{ configMapRef: { name: 'envfrom-cm' } }] },
    ],
    initContainers: [
      {
        name: 'init', image: 'migrate',
        env: [{ name: 'DB', valueFrom: { secretKeyRef: { name: 'init-secret', key: 'dsn' } } }],
        envFrom: [{ configMapRef: { name: 'init-cm' } }],
      },
    ],
  }
}

t.test('configRefs finds every ConfigMap and Secret once, sorted by kind and name', async t => {
  t.same(configRefs(podSpec()), [
    { kind: 'configmap', name: 'env-cm' },
    { kind: 'configmap', name: 'envfrom-cm' },
    { kind: 'configmap', name: 'init-cm' },
    { kind: 'configmap', name: 'proj-cm' },
    { kind: 'configmap', name: 'vol-cm' },
    { kind: 'secret', name: 'env-secret' },
    { kind: 'secret', name: 'envfrom-secret' },
    { kind: 'secret', name: 'init-secret' },
    { kind: 'secret', name: 'proj-secret' },
    { kind: 'secret', name: 'vol-secret' },
  ])
})

t.test('configRefs keeps a ConfigMap and a Secret of the same name apart', async t => {
  const spec: V1PodSpec = {
    containers: [{ name: 'app', envFrom: [{ secretRef: { name: 'app' } }, { configMapRef: { name: 'app' } }, { configMapRef: { name: 'app' } }] }],
  }
  t.same(configRefs(spec), [{ kind: 'configmap', name: 'app' }, { kind: 'secret', name: 'app' }])
})

t.test('configRefs of nothing', async t => {
  t.same(configRefs(undefined), [])
  t.same(configRefs({ containers: [{ name: 'app', image: 'podinfo' }] }), [])
})

t.test('keys and names', async t => {
  t.equal(configKey({ kind: 'configmap', name: 'settings' }), 'configmap/settings')
  t.equal(configKey({ kind: 'secret', name: 'token' }), 'secret/token')
  t.equal(primaryConfigName('settings'), 'settings-primary')
})

t.test('withPrimaryConfigs renames only the tracked configs, everywhere they appear', async t => {
  const input = podSpec()
  const before = structuredClone(input)
  const tracked = new Set(['configmap/vol-cm', 'secret/proj-secret', 'configmap/envfrom-cm', 'secret/init-secret', 'configmap/env-secret'])
  const out = withPrimaryConfigs(input, tracked)
  t.same(input, before, 'the input is not mutated')
  t.not(out, input)

  const expected = podSpec()
  const volumes = expected.volumes!
  volumes[0]!.configMap!.name = 'vol-cm-primary'
  volumes[3]!.projected!.sources![1]!.secret!.name = 'proj-secret-primary'
  const [app, sidecar] = expected.containers
  app!.env![4]!.valueFrom!.configMapKeyRef!.name = 'vol-cm-primary'
  app!.envFrom![0]!.configMapRef!.name = 'envfrom-cm-primary'
  sidecar!.envFrom![0]!.configMapRef!.name = 'envfrom-cm-primary'
  expected.initContainers![0]!.env![0]!.valueFrom!.secretKeyRef!.name = 'init-secret-primary'
  t.same(out, expected, 'renamed in volumes, projected sources, env, envFrom, every container and init container')
  t.equal(out.containers[0]?.env?.[2]?.valueFrom?.secretKeyRef?.name, 'env-secret', 'a tracked ConfigMap of a name does not rename a Secret of that name')
  t.equal(out.containers[0]?.env?.[4]?.valueFrom?.configMapKeyRef?.key, 'c', 'keys are kept')

  t.same(configRefs(out).map(configKey), [
    'configmap/env-cm', 'configmap/envfrom-cm-primary', 'configmap/init-cm', 'configmap/proj-cm', 'configmap/vol-cm-primary',
    'secret/env-secret', 'secret/envfrom-secret', 'secret/init-secret-primary', 'secret/proj-secret-primary', 'secret/vol-secret',
  ], 'nothing else changed')
})

t.test('withPrimaryConfigs with nothing tracked is an equal copy', async t => {
  const input = podSpec()
  const out = withPrimaryConfigs(input, new Set())
  t.same(out, input)
  t.not(out.containers, input.containers, 'a copy, not the same object')
})
