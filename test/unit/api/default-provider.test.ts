// --default-provider: one default for the webhook's validation and the controller's router and queries.
import t from 'tap'
import { builtinQuery } from '../../../src/metrics/builtin.ts'
import { routerFor } from '../../../src/router/registry.ts'
import type { KubeObject, ObjectRef, ApplyClient } from '../../../src/kube/apply.ts'
import { DEFAULTS, setDefaultProvider, withDefaults } from '../../../src/api/defaults.ts'
import { lintCanary } from '../../../src/api/lint.ts'
import { canary, deployment, ingress } from '../../helpers/objects.ts'

t.teardown(() => setDefaultProvider('kubernetes'))

// Records what a router writes; it finds the target and the user's Ingress.
function kubeWith(): ApplyClient & { written: string[] } {
  const objects: KubeObject[] = [deployment(), ingress({}, 'podinfo', 80)]
  const written: string[] = []
  return {
    written,
    async apply(o) { written.push(`${o.kind}/${o.metadata?.name}`) },
    async get(ref: ObjectRef) { return objects.find(o => o.kind === ref.kind && o.metadata?.name === ref.name) },
    async delete() {},
  }
}

/** The objects the router for a Canary without spec.provider writes when it reconciles. */
async function writtenByDefaultRouter(): Promise<string[]> {
  const kube = kubeWith()
  await routerFor(undefined, kube).reconcile(noProvider)
  return kube.written
}
// A canary strategy without spec.provider: the kubernetes router cannot weigh traffic, nginx can (with an ingressRef).
const noProvider = canary({ spec: {
  service: { port: 80 },
  ingressRef: { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', name: 'podinfo' },
  analysis: { interval: '1m', threshold: 5, stepWeight: 10, metrics: [{ name: 'request-success-rate', thresholdRange: { min: 99 } }] },
} })

t.test('without the flag the default is kubernetes', async t => {
  t.equal(DEFAULTS.provider, 'kubernetes')
  t.match(lintCanary(noProvider).rejections, [/spec\.provider defaults to kubernetes, which cannot send a share of traffic/])
  t.equal(builtinQuery(undefined, 'request-success-rate'), builtinQuery('kubernetes', 'request-success-rate'))
  t.notOk((await writtenByDefaultRouter()).some(o => o.startsWith('Ingress/')), 'the kubernetes router writes no Ingress')
})

t.test('with nginx as the default, a Canary without spec.provider is validated, routed and measured as nginx', async t => {
  setDefaultProvider('nginx')
  t.teardown(() => setDefaultProvider('kubernetes'))
  t.same(lintCanary(noProvider).rejections, [], 'the webhook validates it as nginx')
  t.equal(withDefaults(noProvider.spec).provider, 'nginx', 'the phase machine sees nginx')
  t.equal(builtinQuery(undefined, 'request-success-rate'), builtinQuery('nginx', 'request-success-rate'), 'the builtin queries are nginx\'s')
  t.not(builtinQuery('nginx', 'request-success-rate'), builtinQuery('kubernetes', 'request-success-rate'))
  const written = await writtenByDefaultRouter()
  t.ok(written.includes('Ingress/podinfo-canary'), `the router is nginx's: it writes the canary Ingress (wrote ${written.join(', ')})`)
  t.match(lintCanary({ ...noProvider, spec: { ...noProvider.spec, provider: 'kubernetes' } }).rejections, [/provider kubernetes cannot send a share of traffic/], 'an explicit provider still wins')
})
