import t from 'tap'
import { createCA, createLeaf } from '../../../src/certs/pki.ts'
import { fromSecretData, secretStore, toSecretData } from '../../../src/certs/store.ts'
import type { CertificateSet } from '../../../src/certs/rotation.ts'
import type { CoreV1Api } from '@kubernetes/client-node'

const ca = createCA('store-ca', 600)
const set: CertificateSet = {
  ca, serving: createLeaf(ca, { commonName: 'x', dnsNames: ['x'], usage: 'server', lifetimeSeconds: 60 }),
  trusted: [ca.certPem, createCA('old-ca', 600).certPem],
}

t.test('the set round-trips through Secret data (base64, kubernetes.io/tls keys)', async t => {
  const data = toSecretData(set)
  t.same(Object.keys(data).sort(), ['ca-bundle.crt', 'ca.crt', 'ca.key', 'tls.crt', 'tls.key'])
  t.equal(Buffer.from(data['tls.crt'] ?? '', 'base64').toString(), set.serving.certPem)
  const back = fromSecretData(data)
  t.same(back?.ca, set.ca)
  t.same(back?.serving, set.serving)
  t.same(back?.trusted.map(p => p.trim()), set.trusted.map(p => p.trim()))
})

t.test('a Secret missing a key holds no set', async t => {
  const data = toSecretData(set)
  delete data['ca.key']
  t.equal(fromSecretData(data), undefined)
  t.equal(fromSecretData(undefined), undefined)
})

// The calls the store makes; the Secret semantics themselves are proven against a real API server.
t.test('secretStore: 404 is "nothing stored", create without a version, patch with one', async t => {
  const calls: { method: string; arg: unknown; options?: unknown }[] = []
  let secret: unknown = undefined
  const core = {
    readNamespacedSecret: async (arg: unknown) => {
      calls.push({ method: 'read', arg })
      if (!secret) throw Object.assign(new Error('HTTP-Code: 404'), { code: 404, body: '{"kind":"Status","reason":"NotFound","code":404}' })
      return secret
    },
    createNamespacedSecret: async (arg: unknown) => { calls.push({ method: 'create', arg }) },
    patchNamespacedSecret: async (arg: unknown, options: unknown) => { calls.push({ method: 'patch', arg, options }) },
  } as unknown as CoreV1Api
  const store = secretStore(core, { namespace: 'sluice-system', name: 'sluice-webhook-certs' })
  t.equal(await store.load(), undefined)
  await store.save(set, undefined)
  t.match(calls.at(-1), { method: 'create', arg: { namespace: 'sluice-system', body: { type: 'kubernetes.io/tls', metadata: { name: 'sluice-webhook-certs', labels: { 'app.kubernetes.io/managed-by': 'sluice' } } } } })
  secret = { metadata: { resourceVersion: '42' }, data: toSecretData(set) }
  const loaded = await store.load()
  t.equal(loaded?.resourceVersion, '42')
  t.same(loaded?.set?.serving, set.serving)
  await store.save(set, '42')
  t.match(calls.at(-1), { method: 'patch', arg: { name: 'sluice-webhook-certs', namespace: 'sluice-system', body: { metadata: { resourceVersion: '42' } } } })
})
