// A bad configuration is rejected at apply time: kubectl's error names the Deployment, the annotation
// or field, what is wrong and what would be right. Nothing is stored.
import t from 'tap'
import { AppsV1Api, CustomObjectsApi } from '@kubernetes/client-node'
import { kubeConfig, kubectl, namespace } from '../../helpers/kube.ts'
import { app } from '../../helpers/manifests.ts'
import { manifest, metricTemplate } from '../../helpers/objects.ts'

const gateway = 'service:\n  gatewayRefs:\n  - {name: public, namespace: gateways}'
const base = { 'sluice.dev/strategy': 'canary', 'sluice.dev/provider': 'gatewayapi', 'sluice.dev/port': '9898', 'sluice.dev/spec': gateway }
const analysis = (yaml: string) => ({ ...base, 'sluice.dev/analysis': yaml })

interface Case { readonly name: string; readonly annotations: Record<string, string>; readonly error: RegExp; readonly selectorLabel?: string }

const cases: Case[] = [
  { name: 'unparseable YAML', annotations: analysis('stepWeight: [1, 2'), error: /annotation sluice\.dev\/analysis is not valid YAML: .*line 1/ },
  { name: 'unknown strategy', annotations: { ...base, 'sluice.dev/strategy': 'rolling' }, error: /annotation sluice\.dev\/strategy must be one of canary, blue-green, ab \(got "rolling"\)/ },
  { name: 'unknown provider', annotations: { ...base, 'sluice.dev/provider': 'envoy' }, error: /provider.*envoy/ },
  { name: 'stepWeight 0', annotations: analysis('interval: 1m\nstepWeight: 0'), error: /stepWeight must be between 1 and 100 \(got 0\)/ },
  { name: 'stepWeight over 100', annotations: analysis('interval: 1m\nstepWeight: 120'), error: /stepWeight must be between 1 and 100 \(got 120\)/ },
  { name: 'maxWeight over 100', annotations: analysis('interval: 1m\nstepWeight: 10\nmaxWeight: 150'), error: /maxWeight.*150/ },
  { name: 'stepWeights not increasing', annotations: analysis('interval: 1m\nstepWeights: [10, 50, 30]'), error: /stepWeights.*increas/ },
  { name: 'blue-green without iterations', annotations: { ...base, 'sluice.dev/strategy': 'blue-green', 'sluice.dev/analysis': 'interval: 1m' }, error: /iterations/ },
  { name: 'match without A/B', annotations: analysis('interval: 1m\nstepWeight: 10\nmatch:\n- headers: {x-canary: {exact: "1"}}'), error: /match/ },
  { name: 'interval under the floor', annotations: analysis('interval: 500ms\nstepWeight: 10'), error: /interval.*at least 1s|interval.*500ms/ },
  { name: 'interval unparseable', annotations: analysis('interval: soon\nstepWeight: 10'), error: /interval.*soon/ },
  { name: 'threshold 0', annotations: analysis('interval: 1m\nstepWeight: 10\nthreshold: 0'), error: /threshold.*got 0/ },
  { name: 'thresholdRange min over max', annotations: analysis('interval: 1m\nstepWeight: 10\nmetrics:\n- {name: request-success-rate, interval: 1m, thresholdRange: {min: 99, max: 90}}'), error: /thresholdRange.*min.*max/ },
  { name: 'metric neither builtin nor templated', annotations: analysis('interval: 1m\nstepWeight: 10\nmetrics:\n- {name: error-budget, interval: 1m, thresholdRange: {max: 1}}'), error: /error-budget.*templateRef/ },
  { name: 'templateRef that does not exist', annotations: analysis('interval: 1m\nstepWeight: 10\nmetrics:\n- {name: latency, templateRef: {name: missing-template}, thresholdRange: {max: 500}}'), error: /MetricTemplate .*missing-template.* does not exist/ },
  { name: 'alert providerRef that does not exist', annotations: analysis('interval: 1m\nstepWeight: 10\nalerts:\n- {name: on-call, severity: error, providerRef: {name: missing-slack}}'), error: /AlertProvider .*missing-slack.* does not exist/ },
  { name: 'webhook URL not http(s)', annotations: analysis('interval: 1m\nstepWeight: 10\nwebhooks:\n- {name: smoke, url: "ftp://tester/"}'), error: /webhooks\[0\]\.url.*http/ },
  { name: 'unknown webhook type', annotations: analysis('interval: 1m\nstepWeight: 10\nwebhooks:\n- {name: smoke, type: pre-flight, url: "http://tester/"}'), error: /pre-flight/ },
  { name: 'missing service port', annotations: { 'sluice.dev/strategy': 'canary', 'sluice.dev/provider': 'gatewayapi', 'sluice.dev/spec': gateway, 'sluice.dev/analysis': 'interval: 1m\nstepWeight: 10' }, error: /port/ },
  { name: 'selector without a usable label', annotations: analysis('interval: 1m\nstepWeight: 10'), selectorLabel: 'component', error: /selector.*app.*name/ },
]

for (const c of cases) {
  t.test(`rejected at apply time: ${c.name}`, async t => {
    const ns = await namespace(t)
    const r = await kubectl(['apply', '-f', '-'], app({ namespace: ns, replicas: 2, annotations: c.annotations, ...(c.selectorLabel && { selectorLabel: c.selectorLabel }) }))
    t.not(r.code, 0, 'kubectl fails')
    t.match(r.stderr, /admission webhook "deployments\.sluice\.dev" denied the request: Deployment [a-z0-9-]+\/podinfo: /, 'names the webhook and the object')
    t.match(r.stderr, c.error)
    const stored = await kubeConfig().makeApiClient(AppsV1Api).listNamespacedDeployment({ namespace: ns })
    t.equal(stored.items.length, 0, 'nothing stored')
  })
}

t.test('stepWeight and maxWeight beside stepWeights (a Flagger shape) are admitted, and kubectl shows what is ignored', async t => {
  const ns = await namespace(t)
  const r = await kubectl(['apply', '-f', '-'], app({ namespace: ns, replicas: 2, annotations: analysis('interval: 1m\nstepWeight: 10\nmaxWeight: 50\nstepWeights: [10, 20]') }))
  t.equal(r.code, 0, `kubectl succeeds (${r.stderr})`)
  t.match(r.stderr, /Warning: Deployment [a-z0-9-]+\/podinfo: annotation sluice\.dev\/analysis: stepWeight is ignored: stepWeights sets every step \(10, 20\); remove stepWeight/)
  t.match(r.stderr, /Warning: Deployment [a-z0-9-]+\/podinfo: annotation sluice\.dev\/analysis: maxWeight is ignored: the last of stepWeights \(20\) is the maximum; remove maxWeight/)
})

t.test('a templateRef is accepted once the MetricTemplate exists (read from the webhook\'s cache)', async t => {
  const ns = await namespace(t)
  const deploymentYaml = app({ namespace: ns, replicas: 2, annotations: analysis('interval: 1m\nstepWeight: 10\nmetrics:\n- {name: latency, templateRef: {name: latency}, thresholdRange: {max: 500}}') })
  t.match((await kubectl(['apply', '-f', '-'], deploymentYaml)).stderr, /MetricTemplate .*latency.* does not exist/)
  await kubeConfig().makeApiClient(CustomObjectsApi).createNamespacedCustomObject({
    group: 'sluice.dev', version: 'v1beta1', namespace: ns, plural: 'metrictemplates',
    body: manifest(metricTemplate({ metadata: { name: 'latency', namespace: ns },
      spec: { provider: { type: 'prometheus', address: 'http://prometheus:9090' }, query: 'histogram_quantile(0.99, sum(rate(x[{{ interval }}])) by (le))' } })),
  })
  let last = ''
  for (let i = 0; i < 50; i++) {
    const r = await kubectl(['apply', '-f', '-'], deploymentYaml)
    last = r.stderr
    if (r.code === 0) break
    await new Promise(res => setTimeout(res, 200))
  }
  t.notMatch(last, /denied/, 'admitted once the cache has the template')
})
