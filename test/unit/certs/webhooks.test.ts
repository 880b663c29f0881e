import t from 'tap'
import type { AdmissionregistrationV1Api } from '@kubernetes/client-node'
import { caBundlePatch, webhookConfigurationSink } from '../../../src/certs/webhooks.ts'
import { applyPatch } from '../../helpers/json-patch.ts'

const config = {
  metadata: { name: 'sluice' },
  webhooks: [
    { name: 'deployments.sluice.dev', clientConfig: { service: { name: 'sluice-webhook' }, caBundle: 'b2xk' } },
    { name: 'policies.sluice.dev', clientConfig: { service: { name: 'sluice-webhook' }, caBundle: 'bmV3' } },
    { name: 'fresh.sluice.dev', clientConfig: { url: 'https://127.0.0.1:8443/mutate/deployments' } },
  ],
}

t.test('only webhooks whose caBundle differs are patched, each guarded by its name', async t => {
  const ops = caBundlePatch(config, 'bmV3')
  t.same(ops, [
    { op: 'test', path: '/webhooks/0/name', value: 'deployments.sluice.dev' },
    { op: 'add', path: '/webhooks/0/clientConfig/caBundle', value: 'bmV3' },
    { op: 'test', path: '/webhooks/2/name', value: 'fresh.sluice.dev' },
    { op: 'add', path: '/webhooks/2/clientConfig/caBundle', value: 'bmV3' },
  ])
  const patched = applyPatch(config, ops) as typeof config
  t.same(patched.webhooks.map(w => w.clientConfig.caBundle), ['bmV3', 'bmV3', 'bmV3'])
  t.same(caBundlePatch(patched, 'bmV3'), [], 'nothing when all match')
  t.same(caBundlePatch({}, 'bmV3'), [], 'nothing for a configuration without webhooks')
  t.throws(() => applyPatch({ ...config, webhooks: [config.webhooks[1], config.webhooks[0], config.webhooks[2]] }, ops), { name: 'TestError' },
    'a reordered list fails the patch instead of changing the wrong webhook')
})

function apiError(code: number, reason: string) {
  return Object.assign(new Error(`HTTP-Code: ${code}`), { code, body: JSON.stringify({ kind: 'Status', reason, code, message: reason }) })
}

t.test('the sink reads, patches what differs, retries a failed test op, and reports missing configurations', async t => {
  const patches: { name: string; body: unknown }[] = []
  let failOnce = true
  const api = {
    readMutatingWebhookConfiguration: async ({ name }: { name: string }) => {
      if (name === 'absent') throw apiError(404, 'NotFound')
      return config
    },
    patchMutatingWebhookConfiguration: async (arg: { name: string; body: unknown }) => {
      if (failOnce) { failOnce = false; throw apiError(422, 'Invalid') }
      patches.push(arg)
    },
    readValidatingWebhookConfiguration: async () => ({ webhooks: [{ name: 'guard.sluice.dev', clientConfig: { caBundle: Buffer.from('PEM').toString('base64') } }] }),
    patchValidatingWebhookConfiguration: async () => { throw new Error('must not be called') },
  } as unknown as AdmissionregistrationV1Api
  const sink = webhookConfigurationSink(api, { mutating: ['sluice', 'absent'], validating: ['sluice-guard'] }, { sleep: async () => {} })
  const result = await sink.write('PEM')
  t.same(result, { updated: ['mutatingwebhookconfiguration/sluice'], unchanged: ['validatingwebhookconfiguration/sluice-guard'], missing: ['mutatingwebhookconfiguration/absent'] })
  t.equal(patches.length, 1)
  t.equal(patches[0]?.name, 'sluice')
})
