import t from 'tap'
import { buildCanary, isOptedIn, resolve, type ResolveContext } from '../../../src/api/resolve.ts'
import { annotated, policy } from './fixtures.ts'

const prod = policy('prod', {
  mode: 'audit',
  defaults: {
    strategy: 'canary',
    provider: 'istio',
    service: { port: 80, portName: 'http-web' },
    analysis: {
      interval: '2m', threshold: 3, stepWeight: 10,
      metrics: [{ name: 'request-success-rate', thresholdRange: { min: 99 } }],
    },
  },
})

t.test('policy defaults, then sluice.dev/spec, then the shorthands', async t => {
  const r = resolve(annotated({
    'sluice.dev/strategy': 'canary',
    'sluice.dev/policy': 'prod',
    'sluice.dev/spec': 'provider: linkerd\nservice: {port: 8080}\nanalysis: {interval: 1m, threshold: 4}',
    'sluice.dev/analysis': 'threshold: 2',
    'sluice.dev/port': '9898',
  }), { policies: [prod] })
  t.same(r.errors, [])
  t.equal(r.spec.provider, 'linkerd', 'sluice.dev/spec overrides the policy')
  t.equal(r.spec.service.port, 9898, 'sluice.dev/port overrides sluice.dev/spec')
  t.equal(r.spec.service.portName, 'http-web', 'objects merge: the policy\'s portName stays')
  t.equal(r.spec.analysis?.interval, '1m', 'sluice.dev/spec overrides the policy')
  t.equal(r.spec.analysis?.threshold, 2, 'sluice.dev/analysis overrides sluice.dev/spec')
  t.equal(r.spec.analysis?.stepWeight, 10, 'untouched policy default kept')
  t.same(r.spec.targetRef, { apiVersion: 'apps/v1', kind: 'Deployment', name: 'podinfo' })
})

t.test('lists replace instead of merging', async t => {
  const r = resolve(annotated({
    'sluice.dev/strategy': 'canary', 'sluice.dev/policy': 'prod',
    'sluice.dev/analysis': 'metrics: [{name: request-duration, thresholdRange: {max: 500}}]',
  }), { policies: [prod] })
  t.same(r.spec.analysis?.metrics, [{ name: 'request-duration', thresholdRange: { max: 500 } }])
})

t.test('null removes a default', async t => {
  const r = resolve(annotated({
    'sluice.dev/strategy': 'canary', 'sluice.dev/policy': 'prod', 'sluice.dev/analysis': 'metrics: null',
  }), { policies: [prod] })
  t.notOk(r.spec.analysis && 'metrics' in r.spec.analysis)
})

t.test('stepWeights from an annotation replaces the policy\'s stepWeight', async t => {
  const r = resolve(annotated({
    'sluice.dev/strategy': 'canary', 'sluice.dev/policy': 'prod', 'sluice.dev/analysis': 'stepWeights: [5, 50]',
  }), { policies: [prod] })
  t.same(r.spec.analysis?.stepWeights, [5, 50])
  t.equal(r.spec.analysis?.stepWeight, undefined)
})

t.test('policy fields meant for another strategy are dropped, the user\'s are kept', async t => {
  const fromPolicy = resolve(annotated({
    'sluice.dev/strategy': 'blue-green', 'sluice.dev/policy': 'prod',
    'sluice.dev/spec': 'analysis: {maxWeight: 50}',
  }), { policies: [prod] })
  t.equal(fromPolicy.spec.analysis?.stepWeight, undefined, 'the policy\'s stepWeight does not apply to blue-green')
  t.equal(fromPolicy.spec.analysis?.maxWeight, 50, 'the user\'s maxWeight is kept (and validated)')
  t.equal(fromPolicy.spec.analysis?.threshold, 3)
})

t.test('resolving never changes the cached policy', async t => {
  const before = structuredClone(prod)
  const r = resolve(annotated({ 'sluice.dev/strategy': 'blue-green', 'sluice.dev/policy': 'prod' }), { policies: [prod] })
  r.spec.service.port = 1
  t.same(prod, before)
})

t.test('sourceOf names the layer that supplied a field', async t => {
  const r = resolve(annotated({
    'sluice.dev/strategy': 'canary', 'sluice.dev/policy': 'prod',
    'sluice.dev/spec': 'analysis: {webhooks: [{name: gate, url: "http://gate"}]}',
    'sluice.dev/analysis': 'threshold: 2', 'sluice.dev/port': '9898',
  }), { policies: [prod] })
  t.same(r.sourceOf('analysis.threshold'), { kind: 'annotation', key: 'sluice.dev/analysis', root: 'analysis' })
  t.same(r.sourceOf('analysis.stepWeight'), { kind: 'policy', name: 'prod' })
  t.same(r.sourceOf('service.port'), { kind: 'annotation', key: 'sluice.dev/port', root: 'service.port' })
  t.same(r.sourceOf('analysis.webhooks[0].url'), { kind: 'annotation', key: 'sluice.dev/spec', root: '' })
  t.same(r.sourceOf('analysis.webhooks[0].timeout'), { kind: 'annotation', key: 'sluice.dev/spec', root: '' },
    'a missing field inside a list entry belongs to the annotation that wrote the entry')
  t.same(r.sourceOf('analysis.iterations'), { kind: 'annotation', key: 'sluice.dev/analysis', root: 'analysis' })
  t.equal(r.sourceOf('service.gatewayRefs'), undefined, 'sluice.dev/port cannot hold service.gatewayRefs')
  t.equal(r.sourceOf('ingressRef'), undefined)
})

t.test('without the strategy annotation a Deployment is not opted in, unless an enforce policy selects it', async t => {
  t.notOk(resolve(annotated({})).optedIn)
  t.notOk(resolve(annotated({}), { policies: [prod] }).optedIn, 'an audit policy does not opt in')
  const enforce = policy('strict', {
    mode: 'enforce', namespaceSelector: { matchLabels: { tier: 'prod' } },
    defaults: { strategy: 'blue-green', analysis: { iterations: 5 } },
  })
  const inProd = resolve(annotated({}), { policies: [enforce], namespaceLabels: { tier: 'prod' } })
  t.ok(inProd.optedIn)
  t.equal(inProd.strategy, 'blue-green')
  t.equal(inProd.spec.analysis?.iterations, 5)
  t.equal(inProd.policy?.metadata.name, 'strict')
  t.notOk(resolve(annotated({}), { policies: [enforce], namespaceLabels: { tier: 'dev' } }).optedIn)
})

t.test('isOptedIn (asked on every reconcile) says what resolve says, without reading the spec annotations', async t => {
  const enforce = policy('strict', { mode: 'enforce', namespaceSelector: { matchLabels: { tier: 'prod' } }, defaults: { strategy: 'blue-green' } })
  const enforceNamed = policy('named-enforce', { mode: 'enforce', defaults: {} })
  const cases: [string, Record<string, string>, ResolveContext, boolean][] = [
    ['no annotation, no policy', {}, {}, false],
    ['the strategy annotation', { 'sluice.dev/strategy': 'canary' }, {}, true],
    ['a strategy annotation resolve finds wrong still opts in', { 'sluice.dev/strategy': 'sideways' }, {}, true],
    ['an audit policy', {}, { policies: [prod] }, false],
    ['an enforce policy selecting the namespace', {}, { policies: [enforce], namespaceLabels: { tier: 'prod' } }, true],
    ['an enforce policy not selecting it', {}, { policies: [enforce], namespaceLabels: { tier: 'dev' } }, false],
    ['named: the enforce policy it names does not opt it in alone', { 'sluice.dev/policy': 'named-enforce' }, { policies: [enforceNamed] }, false],
    ['named, beside another enforce policy that selects it', { 'sluice.dev/policy': ' prod ' }, { policies: [prod, enforce], namespaceLabels: { tier: 'prod' } }, true],
    ['a policy name that is not a name', { 'sluice.dev/policy': 'Not A Name' }, { policies: [enforce], namespaceLabels: { tier: 'prod' } }, true],
  ]
  for (const [what, annotations, context, expected] of cases) {
    const d = annotated(annotations)
    t.equal(resolve(d, context).optedIn, expected, `resolve: ${what}`)
    t.equal(isOptedIn(d, context), expected, `isOptedIn: ${what}`)
  }
})

t.test('a named policy that does not exist is an error on sluice.dev/policy', async t => {
  const r = resolve(annotated({ 'sluice.dev/strategy': 'canary', 'sluice.dev/policy': 'gone' }), { policies: [prod] })
  t.same(r.errors, [{
    field: 'sluice.dev/policy', scope: 'annotation',
    message: 'names DeliveryPolicy gone, which does not exist; create it or fix the name (kubectl get deliverypolicies)',
  }])
})

t.test('the generated Canary is named after and owned by the Deployment', async t => {
  const r = resolve(annotated({ 'sluice.dev/strategy': 'canary', 'sluice.dev/port': '9898' }))
  const canary = buildCanary(annotated({}), r.spec)
  t.same(canary, {
    apiVersion: 'sluice.dev/v1beta1',
    kind: 'Canary',
    metadata: {
      name: 'podinfo', namespace: 'shop',
      labels: { 'app.kubernetes.io/managed-by': 'sluice' },
      ownerReferences: [{
        apiVersion: 'apps/v1', kind: 'Deployment', name: 'podinfo', uid: 'uid-1234', controller: true, blockOwnerDeletion: true,
      }],
    },
    spec: { service: { port: 9898 }, targetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'podinfo' } },
  })
})
