// The webhook's memory of Deployment lints: the same verdicts as without it, in any order of reviews; kept per
// Deployment settings and cache generation, so a change to either is seen at once.
import t from 'tap'
import { decideDeployment, reviewDeployment, type DeploymentContext } from '../../../src/admission/deployments.ts'
import { lintKey } from '../../../src/admission/lint-memo.ts'
import type { AdmissionRequest, KubeObject, Operation } from '../../../src/admission/review.ts'
import type { DeliveryPolicy } from '../../../src/api/types.ts'
import { canaryAnnotations, policy } from '../api/fixtures.ts'
import { container, deployment, manifest } from '../../helpers/objects.ts'

interface Caches {
  policies: DeliveryPolicy[]
  templates: string[]
  generation: number
}

function context(caches: Caches, remember: boolean): DeploymentContext {
  return {
    sluiceUsername: 'system:serviceaccount:sluice-system:sluice',
    policies: () => caches.policies,
    namespaceLabels: ns => ({ 'kubernetes.io/metadata.name': ns }),
    refs: { metricTemplate: (ns, name) => caches.templates.includes(`${ns}/${name}`), alertProvider: () => false },
    ...(remember && { cacheGeneration: () => caches.generation }),
  }
}

function sent(o: { annotations?: Record<string, string>; labels?: Record<string, string>; image?: string; replicas?: number; namespace?: string } = {}): KubeObject {
  return manifest(deployment({
    metadata: { namespace: o.namespace ?? 'shop', labels: { app: 'podinfo', ...o.labels }, annotations: o.annotations ?? canaryAnnotations() },
    spec: { replicas: o.replicas ?? 3, template: { spec: { containers: [container({ image: o.image })] } } },
  })) as unknown as KubeObject
}

function request(operation: Operation, object: KubeObject, oldObject?: KubeObject, namespace = 'shop'): AdmissionRequest {
  return {
    uid: 'b7f3c2d4-0000-4000-8000-000000000002',
    kind: { group: 'apps', version: 'v1', kind: 'Deployment' },
    resource: { group: 'apps', version: 'v1', resource: 'deployments' },
    namespace, name: 'podinfo', operation,
    userInfo: { username: 'alice', groups: ['system:authenticated'] },
    object, ...(oldObject && { oldObject }),
  }
}

const templated = canaryAnnotations({ 'sluice.dev/analysis': 'interval: 1m\nstepWeight: 20\nmetrics:\n- {name: latency, templateRef: {name: latency}, thresholdRange: {max: 500}}' })
const stored = (o: Parameters<typeof sent>[0] = {}): KubeObject => {
  const object = sent(o)
  const r = decideDeployment(request('CREATE', object), context({ policies: [], templates: [], generation: 0 }, false))
  if (!r.allowed) throw new Error('the fixture is denied')
  return object
}

// Every kind of answer: a first deployment, a new image, a re-apply with a replica change, an opt-in of a live
// app, an app that is not opted in, a stray annotation, a broken annotation, a missing MetricTemplate.
const requests: AdmissionRequest[] = [
  request('CREATE', sent()),
  request('UPDATE', sent({ image: 'ghcr.io/stefanprodan/podinfo:6.1.0' }), stored()),
  request('UPDATE', sent({ replicas: 5 }), stored()),
  request('UPDATE', sent(), sent({ annotations: {} })),
  request('CREATE', sent({ annotations: {} })),
  request('CREATE', sent({ annotations: { 'sluice.dev/analysis': 'interval: 1m' } })),
  request('CREATE', sent({ annotations: canaryAnnotations({ 'sluice.dev/analysis': 'stepWeight: [1, 2' }) })),
  request('CREATE', sent({ annotations: templated })),
  request('CREATE', sent({ namespace: 'other' }), undefined, 'other'),
]

t.test('with the memory, every verdict is the one made without it, in any order and however often', async t => {
  const caches: Caches = { policies: [policy('max-step-10', { mode: 'audit', constraints: { maxStepWeight: 10 } })], templates: [], generation: 7 }
  const plain = context(caches, false)
  const expected = requests.map(r => decideDeployment(r, plain))
  const remembering = context(caches, true)
  for (const order of [requests.keys(), [...requests.keys()].reverse(), [...requests.keys(), ...requests.keys()]]) {
    for (const i of order) t.same(decideDeployment(requests[i]!, remembering), expected[i], `request ${i}`)
  }
  t.ok(expected.some(v => !v.allowed) && expected.some(v => v.patch !== undefined) && expected.some(v => v.allowed && v.patch === undefined),
    'the requests cover denials, patches and plain admissions')
})

t.test('a lint is remembered per Deployment settings, and forgotten when a cache it read changes', async t => {
  const caches: Caches = { policies: [], templates: [], generation: 1 }
  const ctx = context(caches, true)
  const report = (r: AdmissionRequest): unknown => reviewDeployment(r, ctx).report
  const first = report(request('CREATE', sent()))
  t.equal(report(request('UPDATE', sent({ image: 'podinfo:2' }), sent())), first, 'a new image: the same settings, the same report')
  t.equal(report(request('CREATE', sent({ annotations: { ...canaryAnnotations(), 'kubectl.kubernetes.io/last-applied-configuration': '{}' } }))), first,
    'another annotation than sluice.dev\'s is not read')
  t.not(report(request('CREATE', sent({ annotations: canaryAnnotations({ 'sluice.dev/port': '8080' }) }))), first, 'a sluice.dev annotation is')
  t.not(report(request('CREATE', sent({ labels: { team: 'a' } }))), first, 'so are the labels (policies select by them)')
  t.not(report(request('CREATE', sent({ namespace: 'other' }), undefined, 'other')), first, 'and the namespace')

  const missing = request('CREATE', sent({ annotations: templated }))
  t.equal(decideDeployment(missing, ctx).allowed, false, 'the MetricTemplate does not exist')
  caches.templates.push('shop/latency')
  t.equal(decideDeployment(missing, ctx).allowed, false, 'a cache that changed without a new generation: the remembered answer (this is why the webhook bumps it)')
  caches.generation++
  t.equal(decideDeployment(missing, ctx).allowed, true, 'the generation moved: linted again, and admitted')

  caches.policies.push(policy('max-step-10', { mode: 'enforce', constraints: { maxStepWeight: 10 } }))
  caches.generation++
  t.equal(decideDeployment(request('CREATE', sent()), ctx).allowed, false, 'a new enforce policy is applied at once')
})

t.test('settings too large to keep are linted every time', async t => {
  const caches: Caches = { policies: [], templates: [], generation: 1 }
  const ctx = context(caches, true)
  const huge = sent({ annotations: canaryAnnotations({ 'sluice.dev/analysis': `interval: 1m\nstepWeight: 20\n# ${'x'.repeat(40_000)}` }) })
  t.equal(lintKey(huge as never, 'shop'), undefined, 'no key over 32 KiB')
  const a = reviewDeployment(request('CREATE', huge), ctx)
  const b = reviewDeployment(request('CREATE', huge), ctx)
  t.not(b.report, a.report, 'a fresh report each time')
  t.same(b.verdict, a.verdict, 'with the same answer')
  t.ok(a.verdict.allowed)
})

t.test('without a cache generation (offline, sluice plan) nothing is remembered', async t => {
  const ctx = context({ policies: [], templates: [], generation: 1 }, false)
  t.not(reviewDeployment(request('CREATE', sent()), ctx).report, reviewDeployment(request('CREATE', sent()), ctx).report)
})
