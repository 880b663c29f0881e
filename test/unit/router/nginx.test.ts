import t from 'tap'
import { abAnnotations, canaryIngress, canaryIngressRef, ingressWeights, type IngressObject } from '../../../src/router/nginx.ts'
import { canary, ingress } from '../../helpers/objects.ts'

const P = 'nginx.ingress.kubernetes.io'
const withRef = canary({ metadata: { uid: 'c0ffee' }, spec: { provider: 'nginx', ingressRef: { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', name: 'web' } } })

function user(): IngressObject {
  return ingress({
    metadata: { name: 'web', labels: { team: 'shop' }, annotations: {
      'example.com/keep': 'yes', 'kubectl.kubernetes.io/last-applied-configuration': '{}', [`${P}/canary-weight`]: '77',
    } },
    spec: {
      ingressClassName: 'nginx', tls: [{ hosts: ['app.example.com'], secretName: 'tls' }],
      rules: [{ host: 'app.example.com', http: { paths: [
        { path: '/', pathType: 'Prefix', backend: { service: { name: 'podinfo', port: { number: 9898 } } } },
        { path: '/static', pathType: 'Prefix', backend: { service: { name: 'cdn', port: { number: 80 } } } },
      ] } }],
    },
  })
}

t.test('the canary Ingress is a clone named <ingress>-canary whose apex backends go to <svc>-canary', async t => {
  const u = user()
  const before = JSON.stringify(u)
  const ing = canaryIngress(withRef, u, { primary: 100, canary: 0 })
  t.equal(ing.metadata.name, 'web-canary')
  t.equal(ing.metadata.namespace, 'shop')
  t.equal(ing.spec?.ingressClassName, 'nginx')
  t.same(ing.spec?.tls, u.spec?.tls)
  const paths = ing.spec?.rules?.[0]?.http?.paths ?? []
  t.equal(paths[0]?.backend.service?.name, 'podinfo-canary')
  t.same(paths[0]?.backend.service?.port, { number: 9898 })
  t.equal(paths[1]?.backend.service?.name, 'cdn', 'backends of other Services are left alone')
  t.equal(JSON.stringify(u), before, 'the user Ingress object is not mutated')
  t.same(canaryIngressRef(withRef), { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', namespace: 'shop', name: 'web-canary' })
})

t.test('annotations: canary marker and weight; user annotations kept except canary keys and last-applied', async t => {
  const ing = canaryIngress(withRef, user(), { primary: 80, canary: 20 })
  const meta = ing.metadata as { labels: Record<string, string>; annotations: Record<string, string>; ownerReferences: { uid: string }[] }
  t.equal(meta.annotations[`${P}/canary`], 'true')
  t.equal(meta.annotations[`${P}/canary-weight`], '20')
  t.equal(meta.annotations['example.com/keep'], 'yes')
  t.notOk('kubectl.kubernetes.io/last-applied-configuration' in meta.annotations)
  t.equal(meta.labels.team, 'shop')
  t.equal(meta.labels['app.kubernetes.io/managed-by'], 'sluice')
  t.equal(meta.ownerReferences[0]?.uid, 'c0ffee')
  const zero = canaryIngress(withRef, user(), { primary: 100, canary: 0 }).metadata.annotations ?? {}
  t.equal(zero[`${P}/canary-weight`], '0', 'weight 0 is written, not omitted')
})

t.test('A/B: header exact → value, regex → pattern, cookie → canary-by-cookie; weight only when idle', async t => {
  t.same(abAnnotations([{ headers: { 'x-canary': { exact: 'insider' } } }, { headers: { cookie: { exact: 'canary' } } }]), {
    [`${P}/canary-by-header`]: 'x-canary', [`${P}/canary-by-header-value`]: 'insider', [`${P}/canary-by-cookie`]: 'canary',
  })
  t.same(abAnnotations([{ headers: { 'user-agent': { regex: '.*Firefox.*' } } }]), {
    [`${P}/canary-by-header`]: 'user-agent', [`${P}/canary-by-header-pattern`]: '.*Firefox.*',
  })
  const ab = { ...withRef, spec: { ...withRef.spec, analysis: { match: [{ headers: { 'x-canary': { exact: 'insider' } } }] } } }
  const on = canaryIngress(ab, user(), { primary: 0, canary: 100 }).metadata.annotations ?? {}
  t.equal(on[`${P}/canary-by-header`], 'x-canary')
  t.notOk(`${P}/canary-weight` in on)
  const off = canaryIngress(ab, user(), { primary: 100, canary: 0 }).metadata.annotations ?? {}
  t.notOk(`${P}/canary-by-header` in off, 'no header routing while the canary gets no traffic')
  t.equal(off[`${P}/canary-weight`], '0')
})

t.test('weights are read back from the annotations', async t => {
  t.same(ingressWeights({ [`${P}/canary`]: 'true', [`${P}/canary-weight`]: '35' }), { primary: 65, canary: 35 })
  t.same(ingressWeights({ [`${P}/canary`]: 'true', [`${P}/canary-by-header`]: 'x' }), { primary: 0, canary: 100 })
  t.same(ingressWeights({ [`${P}/canary`]: 'true', [`${P}/canary-weight`]: 'junk' }), { primary: 100, canary: 0 })
  t.same(ingressWeights({}), { primary: 100, canary: 0 }, 'not a canary Ingress: nothing routed to the canary')
})

t.test('errors name the Canary or Ingress and say what is needed', async t => {
  t.throws(() => canaryIngress(canary({ spec: { provider: 'nginx' } }), user(), { primary: 100, canary: 0 }), /spec.ingressRef/)
  const other = user()
  other.spec!.rules![0]!.http!.paths = [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'elsewhere' } } }]
  t.throws(() => canaryIngress(withRef, other, { primary: 100, canary: 0 }), /Ingress shop\/web: no backend points at Service podinfo/)
})
