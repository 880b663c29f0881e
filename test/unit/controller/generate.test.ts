// What the controller does about a Deployment's Canary: generate, keep, rewrite, drop on opt-out, or
// leave a user's Canary alone.
import type { V1Deployment } from '@kubernetes/client-node'
import t from 'tap'
import { generation, isGenerated } from '../../../src/controller/generate.ts'
import { resolve } from '../../../src/api/resolve.ts'
import type { Canary, DeliveryPolicy } from '../../../src/api/types.ts'
import { canary, deployment } from '../../helpers/objects.ts'

const ANNOTATIONS = {
  'sluice.dev/strategy': 'canary',
  'sluice.dev/provider': 'nginx',
  'sluice.dev/port': '9898',
  'sluice.dev/analysis': 'interval: 1m\nthreshold: 5\nstepWeight: 20',
}

/** The Deployment podinfo, applied with kubectl (so with its last-applied annotation besides `annotations`). */
function target(annotations: Record<string, string> = ANNOTATIONS, uid = 'dep-uid-1'): V1Deployment {
  return deployment({
    metadata: { uid, annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{}', ...annotations } },
    spec: { replicas: 3, template: { spec: { containers: [{ name: 'app', image: 'podinfo:6.0.0' }] } } },
  })
}

/** The Canary as the API returns it after an apply: a uid, a resourceVersion, a status. */
function stored(c: Canary): Canary {
  return {
    ...structuredClone(c),
    metadata: { ...structuredClone(c.metadata), uid: 'canary-uid', resourceVersion: '42', generation: 1 },
    status: { phase: 'Initialized', canaryWeight: 0, failedChecks: 0, iterations: 0 },
  }
}

function applied(d: V1Deployment): Canary {
  const g = generation(d, undefined, {})
  if (g.kind !== 'apply') throw new Error(`expected apply, got ${g.kind}`)
  return g.canary
}

const userCanary = (): Canary => canary({ metadata: { uid: 'user-canary' }, spec: { provider: 'kubernetes', service: { port: 80 } } })

t.test('an annotated Deployment without a Canary: apply the resolved spec, owned by the Deployment', async t => {
  const d = target()
  const g = generation(d, undefined, {})
  t.equal(g.kind, 'apply')
  if (g.kind !== 'apply') return
  const c = g.canary
  t.equal(c.apiVersion, 'sluice.dev/v1beta1')
  t.equal(c.kind, 'Canary')
  t.equal(c.metadata.name, 'podinfo')
  t.equal(c.metadata.namespace, 'shop')
  t.same(c.metadata.labels, { 'app.kubernetes.io/managed-by': 'sluice' })
  t.same(c.metadata.ownerReferences, [{
    apiVersion: 'apps/v1', kind: 'Deployment', name: 'podinfo', uid: 'dep-uid-1', controller: true, blockOwnerDeletion: true,
  }])
  t.same(c.spec, resolve(d).spec, 'the same spec the webhook validated')
  t.equal(c.spec.provider, 'nginx')
  t.equal(c.spec.service.port, 9898)
  t.equal(c.spec.analysis?.stepWeight, 20)
  t.same(c.spec.targetRef, { apiVersion: 'apps/v1', kind: 'Deployment', name: 'podinfo' })
  t.ok(isGenerated(c))
})

t.test('the stored Canary matching the annotations is left unchanged', async t => {
  const d = target()
  t.same(generation(d, stored(applied(d)), {}), { kind: 'unchanged' })
  const other = structuredClone(d)
  other.metadata!.annotations!['example.com/unrelated'] = 'x'
  t.same(generation(other, stored(applied(d)), {}), { kind: 'unchanged' }, 'an annotation outside sluice.dev/ changes nothing')
})

t.test('changed annotations rewrite the Canary', async t => {
  const before = stored(applied(target()))
  const g = generation(target({ ...ANNOTATIONS, 'sluice.dev/analysis': 'interval: 1m\nthreshold: 5\nstepWeight: 10' }), before, {})
  t.equal(g.kind, 'apply')
  if (g.kind === 'apply') t.equal(g.canary.spec.analysis?.stepWeight, 10)
  const port = generation(target({ ...ANNOTATIONS, 'sluice.dev/port': '8080' }), before, {})
  t.equal(port.kind, 'apply', 'a shorthand counts too')
  if (port.kind === 'apply') t.equal(port.canary.spec.service.port, 8080)
})

t.test('a recreated Deployment (new uid) gets its Canary re-owned', async t => {
  const before = stored(applied(target()))
  const g = generation(target(ANNOTATIONS, 'dep-uid-2'), before, {})
  t.equal(g.kind, 'apply')
  if (g.kind === 'apply') t.equal(g.canary.metadata.ownerReferences?.[0]?.uid, 'dep-uid-2')
})

t.test('removing the opt-in annotation with a generated Canary is an opt-out', async t => {
  const existing = stored(applied(target()))
  const { 'sluice.dev/strategy': _strategy, ...rest } = ANNOTATIONS
  t.same(generation(target(rest), existing, {}), { kind: 'opted-out' })
  t.same(generation(target({}), existing, {}), { kind: 'opted-out' })
})

t.test('a user-written Canary of the same name is a conflict naming it', async t => {
  const g = generation(target(), userCanary(), {})
  t.equal(g.kind, 'conflict')
  if (g.kind === 'conflict') {
    t.match(g.message, /^Canary podinfo exists and was written by a user/)
    t.match(g.message, /remove the annotations or the Canary/)
  }
  t.notOk(isGenerated(userCanary()))
})

t.test('a user Canary is never taken for a generated one', async t => {
  const labelled = userCanary()
  labelled.metadata.labels = { 'app.kubernetes.io/managed-by': 'sluice' }
  t.notOk(isGenerated(labelled), 'the label alone is not enough')
  t.equal(generation(target(), labelled, {}).kind, 'conflict')
  const owned = userCanary()
  owned.metadata.ownerReferences = [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'podinfo', uid: 'dep-uid-1' }]
  t.notOk(isGenerated(owned), 'nor the owner reference alone')
  t.same(generation(target({}), owned, {}), { kind: 'none' }, 'and removing annotations never deletes it')
})

t.test('a Deployment that is not opted in and has no Canary: nothing to do', async t => {
  t.same(generation(target({}), undefined, {}), { kind: 'none' })
  t.same(generation(target({ 'sluice.dev/provider': 'nginx' }), undefined, {}), { kind: 'none' }, 'a shorthand without the strategy is no opt-in')
  t.same(generation(target({}), userCanary(), {}), { kind: 'none' }, 'a user Canary without annotations is the user\'s')
})

t.test('an enforce policy selecting the namespace opts a Deployment in without annotations', async t => {
  const strict: DeliveryPolicy = {
    apiVersion: 'sluice.dev/v1beta1', kind: 'DeliveryPolicy', metadata: { name: 'strict' },
    spec: {
      mode: 'enforce', namespaceSelector: { matchLabels: { tier: 'prod' } },
      defaults: { strategy: 'blue-green', provider: 'kubernetes', service: { port: 80 }, analysis: { interval: '1m', threshold: 2, iterations: 5 } },
    },
  }
  const g = generation(target({}), undefined, { policies: [strict], namespaceLabels: { tier: 'prod' } })
  t.equal(g.kind, 'apply')
  if (g.kind === 'apply') t.equal(g.canary.spec.analysis?.iterations, 5)
  t.same(generation(target({}), undefined, { policies: [strict], namespaceLabels: { tier: 'dev' } }), { kind: 'none' })
})
