import t from 'tap'
import {
  apexService, apexSide, canaryService, primaryService, releasedApexService,
} from '../../../src/router/services.ts'
import { selectorLabel } from '../../../src/api/selector.ts'
import { canary } from '../../helpers/objects.ts'

const sel = { label: 'app', value: 'podinfo' }

t.test('the selector label is the first of app, name, app.kubernetes.io/name', async t => {
  t.same(selectorLabel({ 'app.kubernetes.io/name': 'x', name: 'n', app: 'a' }), { label: 'app', value: 'a' })
  t.same(selectorLabel({ 'app.kubernetes.io/name': 'x', name: 'n' }), { label: 'name', value: 'n' })
  t.same(selectorLabel({ 'app.kubernetes.io/name': 'x', tier: 'web' }), { label: 'app.kubernetes.io/name', value: 'x' })
  t.equal(selectorLabel({ tier: 'web' }), undefined)
  t.equal(selectorLabel(undefined), undefined)
})

t.test('primary and canary Services select each side, with defaults for the port', async t => {
  const p = primaryService(canary(), sel)
  t.equal(p.metadata.name, 'podinfo-primary')
  t.equal(p.metadata.namespace, 'shop')
  t.same(p.spec.selector, { app: 'podinfo-primary' })
  t.same(p.spec.ports, [{ name: 'http', port: 9898, targetPort: 9898, protocol: 'TCP' }])
  t.equal(p.spec.type, 'ClusterIP')
  t.notOk('clusterIP' in p.spec)
  const c = canaryService(canary(), sel)
  t.equal(c.metadata.name, 'podinfo-canary')
  t.same(c.spec.selector, { app: 'podinfo' })
})

t.test('generated Services carry the managed-by label, the owner reference and the GitOps opt-outs', async t => {
  const s = apexService(canary({ metadata: { uid: 'c0ffee' } }), sel)
  const meta = s.metadata as { labels: Record<string, string>; annotations: Record<string, string>; ownerReferences: unknown[] }
  t.equal(meta.labels['app.kubernetes.io/managed-by'], 'sluice')
  t.same(meta.ownerReferences, [{ apiVersion: 'sluice.dev/v1beta1', kind: 'Canary', name: 'podinfo', uid: 'c0ffee', controller: true, blockOwnerDeletion: true }])
  t.equal(meta.annotations['kustomize.toolkit.fluxcd.io/reconcile'], 'disabled')
  t.throws(() => apexService({ ...canary(), metadata: { name: 'podinfo', namespace: 'shop' } }, sel), /uid/, 'no owner reference without a uid')
})

t.test('the spec port, names, appProtocol, headless and custom metadata are honoured', async t => {
  const c = canary({ spec: { service: {
    name: 'web', port: 80, portName: 'grpc', targetPort: 'grpc', appProtocol: 'kubernetes.io/h2c', headless: true,
    apex: { labels: { tier: 'apex' } }, primary: { annotations: { note: 'p' } }, canary: { labels: { tier: 'canary' } },
  } } })
  const p = primaryService(c, sel)
  t.equal(p.metadata.name, 'web-primary')
  t.same(p.spec.ports, [{ name: 'grpc', port: 80, targetPort: 'grpc', protocol: 'TCP', appProtocol: 'kubernetes.io/h2c' }])
  t.equal(p.spec.clusterIP, 'None', 'headless side Service')
  t.equal((p.metadata as { annotations: Record<string, string> }).annotations.note, 'p')
  t.equal((canaryService(c, sel).metadata as { labels: Record<string, string> }).labels.tier, 'canary')
  const apex = apexService(c, sel)
  t.equal(apex.metadata.name, 'web')
  t.notOk('clusterIP' in apex.spec, 'the apex is never headless')
  const labels = (apex.metadata as { labels: Record<string, string> }).labels
  t.equal(labels.tier, 'apex')
  t.equal(labels['app.kubernetes.io/managed-by'], 'sluice', 'custom labels cannot drop the managed-by label')
})

t.test('the apex selects the primary unless told otherwise; released, it selects the target and is no longer sluice\'s', async t => {
  t.same(apexService(canary(), sel).spec.selector, { app: 'podinfo-primary' })
  t.same(apexService(canary(), sel, 'canary').spec.selector, { app: 'podinfo' })
  const r = releasedApexService(canary(), sel)
  t.same(r.spec.selector, { app: 'podinfo' })
  t.same(r.metadata, { name: 'podinfo', namespace: 'shop' }, 'no label, no owner reference')
})

t.test('apexSide reads the side from a stored selector', async t => {
  t.equal(apexSide({ app: 'podinfo-primary' }, sel), 'primary')
  t.equal(apexSide({ app: 'podinfo' }, sel), 'canary')
  t.equal(apexSide({ app: 'other' }, sel), undefined)
  t.equal(apexSide(undefined, sel), undefined)
})
