// DeliveryPolicy: enforce opts matching Deployments in and refuses opt-outs and violations, naming the
// policy; audit admits with warnings. Policies reach the webhook through its cache and its registration.
import t from 'tap'
import { AppsV1Api, CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node'
import { randomBytes } from 'node:crypto'
import { kubeConfig, kubectl, namespace, type TestLike } from '../../helpers/kube.ts'
import { app } from '../../helpers/manifests.ts'
import { until } from '../../helpers/wait.ts'

const kc = kubeConfig()
const custom = kc.makeApiClient(CustomObjectsApi)
const core = kc.makeApiClient(CoreV1Api)
const apps = kc.makeApiClient(AppsV1Api)

const gatewayDefaults = {
  strategy: 'canary', provider: 'gatewayapi',
  service: { port: 9898, gatewayRefs: [{ name: 'public', namespace: 'gateways' }] },
  analysis: { interval: '1m', stepWeight: 10, maxWeight: 50, threshold: 3,
    metrics: [{ name: 'request-success-rate', interval: '1m', thresholdRange: { min: 99 } }] },
}

async function policyNamespace(t: TestLike, mode: 'enforce' | 'audit'): Promise<{ ns: string; policy: string }> {
  const ns = await namespace(t)
  const scope = randomBytes(4).toString('hex')
  await core.patchNamespace({ name: ns, body: [{ op: 'add', path: '/metadata/labels/policy-test', value: scope }] })
  const policy = `${mode}-${scope}`
  await custom.createClusterCustomObject({ group: 'sluice.dev', version: 'v1beta1', plural: 'deliverypolicies', body: {
    apiVersion: 'sluice.dev/v1beta1', kind: 'DeliveryPolicy', metadata: { name: policy },
    spec: { mode, namespaceSelector: { matchLabels: { 'policy-test': scope } }, defaults: gatewayDefaults,
      constraints: { maxStepWeight: 20, requiredMetrics: ['request-success-rate'] } },
  } })
  t.teardown(() => custom.deleteClusterCustomObject({ group: 'sluice.dev', version: 'v1beta1', plural: 'deliverypolicies', name: policy }))
  return { ns, policy }
}

t.test('enforce: a plain Deployment is opted in with the policy\'s defaults', async t => {
  const { ns, policy } = await policyNamespace(t, 'enforce')
  // The policy reaches the API server as a new webhook entry: wait until a dry run is intercepted.
  const r = await until(() => kubectl(['apply', '--dry-run=server', '-f', '-'], app({ namespace: ns, replicas: 3 })),
    res => res.stderr.includes('first deployment'), `policy ${policy} to take effect`)
  t.match(r.stderr, /canary [a-z0-9-]+\/podinfo: 5 steps of 10% every 1m/)
  const applied = await kubectl(['apply', '-f', '-'], app({ namespace: ns, replicas: 3 }))
  t.equal(applied.code, 0, applied.stderr)
  const d = await apps.readNamespacedDeployment({ name: 'podinfo', namespace: ns })
  t.equal(d.spec?.replicas, 0, 'held like any opted-in Deployment')
  t.equal(d.metadata?.annotations?.['status.sluice.dev/desired-replicas'], '3')
})

t.test('enforce: a violating spec and an opt-out are refused, naming the policy', async t => {
  const { ns, policy } = await policyNamespace(t, 'enforce')
  await until(() => kubectl(['apply', '--dry-run=server', '-f', '-'], app({ namespace: ns })), res => res.stderr.includes('first deployment'), `policy ${policy} to take effect`)
  const annotated = { 'sluice.dev/strategy': 'canary', 'sluice.dev/analysis': 'interval: 1m\nstepWeight: 50\nmetrics:\n- {name: request-success-rate, interval: 1m, thresholdRange: {min: 99}}' }
  const bad = await kubectl(['apply', '-f', '-'], app({ namespace: ns, annotations: annotated }))
  t.not(bad.code, 0)
  t.match(bad.stderr, new RegExp(`stepWeight must be at most 20 under DeliveryPolicy ${policy} \\(got 50\\)`))

  const good = { ...annotated, 'sluice.dev/analysis': 'interval: 1m\nstepWeight: 20\nmetrics:\n- {name: request-success-rate, interval: 1m, thresholdRange: {min: 99}}' }
  const ok = await kubectl(['apply', '-f', '-'], app({ namespace: ns, annotations: good }))
  t.equal(ok.code, 0, ok.stderr)
  const optOut = await kubectl(['apply', '-f', '-'], app({ namespace: ns }))
  t.not(optOut.code, 0, 'removing sluice.dev/strategy is refused')
  t.match(optOut.stderr, new RegExp(`annotation sluice.dev/strategy cannot be removed: DeliveryPolicy ${policy} \\(enforce\\) requires progressive delivery here`))
})

t.test('audit: a violating spec is admitted with a warning naming the policy', async t => {
  const { ns, policy } = await policyNamespace(t, 'audit')
  const annotated = { 'sluice.dev/strategy': 'canary', 'sluice.dev/analysis': 'interval: 1m\nstepWeight: 50\nmetrics:\n- {name: request-success-rate, interval: 1m, thresholdRange: {min: 99}}' }
  const r = await until(() => kubectl(['apply', '--dry-run=server', '-f', '-'], app({ namespace: ns, annotations: annotated })),
    res => res.stderr.includes(policy), `policy ${policy} in the webhook's cache`)
  t.equal(r.code, 0, 'admitted')
  t.match(r.stderr, new RegExp(`Warning: .*stepWeight must be at most 20 under DeliveryPolicy ${policy} \\(got 50\\)`))
})
