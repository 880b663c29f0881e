// What this version cannot run is refused at apply, through the real kubectl, for every way it can be
// written: a Deployment's annotations, a hand-written Canary, a MetricTemplate, an AlertProvider, a
// DeliveryPolicy. The message names the object and the field and lists what is available; nothing is stored.
import t from 'tap'
import { CustomObjectsApi } from '@kubernetes/client-node'
import { kubeConfig, kubectl, namespace } from '../../helpers/kube.ts'
import { app, yamlOf } from '../../helpers/manifests.ts'
import { canary, manifest, metricTemplate, type Overrides } from '../../helpers/objects.ts'
import type { CanarySpec, MetricProviderType } from '../../../src/api/types.ts'

const custom = kubeConfig().makeApiClient(CustomObjectsApi)
const AVAILABLE = 'available: kubernetes, nginx, gatewayapi, gatewayapi:v1beta1, istio, linkerd, traefik, contour'

async function stored(plural: string, ns?: string): Promise<number> {
  const list = (ns
    ? await custom.listNamespacedCustomObject({ group: 'sluice.dev', version: 'v1beta1', namespace: ns, plural })
    : await custom.listClusterCustomObject({ group: 'sluice.dev', version: 'v1beta1', plural })) as { items: unknown[] }
  return list.items.length
}

const canaryYaml = (ns: string, spec: Overrides<CanarySpec>): string => yamlOf(manifest(canary({ metadata: { namespace: ns }, spec })))

t.test('a Deployment naming a provider sluice does not run yet is refused, listing what it runs', async t => {
  const ns = await namespace(t)
  const r = await kubectl(['apply', '-f', '-'], app({ namespace: ns, annotations: { 'sluice.dev/strategy': 'canary', 'sluice.dev/provider': 'kuma', 'sluice.dev/port': '9898', 'sluice.dev/analysis': 'interval: 1m\nstepWeight: 10' } }))
  t.not(r.code, 0)
  t.match(r.stderr, `Deployment ${ns}/podinfo: annotation sluice.dev/provider kuma is not available yet in this version of sluice; ${AVAILABLE}`)
  t.equal((await kubectl(['-n', ns, 'get', 'deploy', '-o', 'name'])).stdout.trim(), '', 'nothing stored')
})

t.test('an option the provider does not read is refused, not ignored, naming the providers that do', async t => {
  const ns = await namespace(t)
  const r = await kubectl(['apply', '-f', '-'], app({ namespace: ns, annotations: {
    'sluice.dev/strategy': 'canary', 'sluice.dev/provider': 'nginx', 'sluice.dev/port': '9898',
    'sluice.dev/spec': 'ingressRef: {name: podinfo}', 'sluice.dev/analysis': 'interval: 1m\nstepWeight: 10\nsessionAffinity: {cookieName: canary}\nmirrorWeight: 20',
  } }))
  t.not(r.code, 0)
  t.match(r.stderr, 'annotation sluice.dev/analysis: sessionAffinity is not used by provider nginx in this version of sluice (it is used by gatewayapi, gatewayapi:v1beta1, istio); remove it or change the provider')
  t.match(r.stderr, 'annotation sluice.dev/analysis: mirrorWeight is not used by provider nginx in this version of sluice (it is used by gatewayapi, gatewayapi:v1beta1, istio, traefik, contour); remove it or change the provider')
  t.equal((await kubectl(['-n', ns, 'get', 'deploy', '-o', 'name'])).stdout.trim(), '', 'nothing stored')
})

t.test('traefik: an A/B test is refused at apply (a TraefikService cannot match headers), naming the routers that can', async t => {
  const ns = await namespace(t)
  const r = await kubectl(['apply', '-f', '-'], app({ namespace: ns, annotations: {
    'sluice.dev/strategy': 'ab', 'sluice.dev/provider': 'traefik', 'sluice.dev/port': '9898',
    'sluice.dev/analysis': 'interval: 1m\niterations: 3\nmatch: [{headers: {x-canary: {exact: insider}}}]',
  } }))
  t.not(r.code, 0)
  t.match(r.stderr, `Deployment ${ns}/podinfo: annotation sluice.dev/provider traefik cannot route requests by header or cookie; strategy ab needs one of nginx, gatewayapi:v1, gatewayapi:v1beta1, istio`)
  t.equal((await kubectl(['-n', ns, 'get', 'deploy', '-o', 'name'])).stdout.trim(), '', 'nothing stored')
})

t.test('a hand-written Canary is validated at apply like a Deployment\'s annotations', async t => {
  const ns = await namespace(t)
  const kuma = await kubectl(['apply', '-f', '-'], canaryYaml(ns, { provider: 'kuma', analysis: { interval: '1m', stepWeight: 10 } }))
  t.not(kuma.code, 0)
  t.match(kuma.stderr, /admission webhook "resources\.sluice\.dev" denied the request/)
  t.match(kuma.stderr, `Canary ${ns}/podinfo: spec.provider kuma is not available yet in this version of sluice; ${AVAILABLE}`)
  const daemonSet = await kubectl(['apply', '-f', '-'], canaryYaml(ns, { provider: 'kubernetes', targetRef: { apiVersion: 'apps/v1', kind: 'DaemonSet', name: 'podinfo' }, analysis: { interval: '1m', iterations: 2 } }))
  t.match(daemonSet.stderr, `Canary ${ns}/podinfo: spec.targetRef.kind is DaemonSet, which sluice does not release`)
  const scaledObject = await kubectl(['apply', '-f', '-'], canaryYaml(ns, { provider: 'kubernetes', autoscalerRef: { apiVersion: 'keda.sh/v1alpha1', kind: 'ScaledObject', name: 'podinfo' }, analysis: { interval: '1m', iterations: 2 } }))
  t.match(scaledObject.stderr, 'spec.autoscalerRef.kind must be HorizontalPodAutoscaler (got "ScaledObject"): KEDA ScaledObjects are not available yet in this version of sluice')
  t.equal(await stored('canaries', ns), 0, 'nothing stored')
  // What runs is admitted, so the webhook is not simply refusing every Canary.
  const ok = await kubectl(['apply', '-f', '-'], canaryYaml(ns, { provider: 'kubernetes', analysis: { interval: '1m', iterations: 2 } }))
  t.equal(ok.code, 0, ok.stderr)
  t.equal(await stored('canaries', ns), 1)
})

t.test('a MetricTemplate of a provider type sluice has no client for is refused', async t => {
  const ns = await namespace(t)
  const template = (type: MetricProviderType): string => yamlOf(manifest(metricTemplate({
    metadata: { namespace: ns }, spec: { provider: { type, address: 'https://api.datadoghq.com' }, query: 'sum:errors{*}' },
  })))
  const r = await kubectl(['apply', '-f', '-'], template('datadog'))
  t.not(r.code, 0)
  t.match(r.stderr, `MetricTemplate ${ns}/errors: spec.provider.type datadog is not available yet in this version of sluice; available: prometheus`)
  t.equal(await stored('metrictemplates', ns), 0, 'nothing stored')
  t.equal((await kubectl(['apply', '-f', '-'], template('prometheus'))).code, 0, 'prometheus is admitted')
})

t.test('an AlertProvider field its type does not use is refused', async t => {
  const ns = await namespace(t)
  const r = await kubectl(['apply', '-f', '-'], yamlOf({
    apiVersion: 'sluice.dev/v1beta1', kind: 'AlertProvider', metadata: { name: 'teams', namespace: ns },
    spec: { type: 'msteams', channel: 'ops', address: 'https://example.webhook.office.com/x' },
  }))
  t.not(r.code, 0)
  t.match(r.stderr, `AlertProvider ${ns}/teams: spec.channel is not used by type msteams (only by slack, rocket); remove it`)
  t.equal(await stored('alertproviders', ns), 0, 'nothing stored')
})

t.test('a DeliveryPolicy whose defaults no Deployment could run is refused', async t => {
  const name = `kuma-${Date.now().toString(36)}`
  const r = await kubectl(['apply', '-f', '-'], yamlOf({
    apiVersion: 'sluice.dev/v1beta1', kind: 'DeliveryPolicy', metadata: { name },
    spec: { mode: 'audit', namespaceSelector: { matchLabels: { never: name } }, defaults: { provider: 'kuma', strategy: 'canary' } },
  }))
  t.not(r.code, 0)
  t.match(r.stderr, `DeliveryPolicy ${name}: spec.defaults.provider kuma is not available yet in this version of sluice; ${AVAILABLE}`)
  const names = ((await custom.listClusterCustomObject({ group: 'sluice.dev', version: 'v1beta1', plural: 'deliverypolicies' })) as { items: { metadata: { name: string } }[] }).items.map(p => p.metadata.name)
  t.notOk(names.includes(name), 'nothing stored')
})
