// Certificate renewal while applies keep succeeding: the test cluster's webhook serves certificates
// that live two minutes, so a renewal (and a reload without restart) happens during this test.
import t from 'tap'
import { CoreV1Api } from '@kubernetes/client-node'
import { X509Certificate } from 'node:crypto'
import { connect } from 'node:tls'
import { kubeConfig, kubectl, namespace } from '../../helpers/kube.ts'
import { app } from '../../helpers/manifests.ts'

const core = kubeConfig().makeApiClient(CoreV1Api)

async function servedSerial(url: string): Promise<string> {
  const u = new URL(url)
  return new Promise((resolveSerial, reject) => {
    const socket = connect({ host: u.hostname, port: Number(u.port), rejectUnauthorized: false }, () => {
      const serial = socket.getPeerX509Certificate()?.serialNumber ?? ''
      socket.end()
      resolveSerial(serial)
    })
    socket.on('error', reject)
  })
}

async function storedSerial(): Promise<string> {
  const secret = await core.readNamespacedSecret({ namespace: 'sluice-system', name: 'sluice-webhook-certs' })
  const pem = Buffer.from(secret.data?.['tls.crt'] ?? '', 'base64').toString()
  return new X509Certificate(pem).serialNumber
}

t.test('the serving certificate is renewed and reloaded while applies keep succeeding', { timeout: 240_000 }, async t => {
  const url = process.env.SLUICE_WEBHOOK_URL
  if (!url) throw new Error('SLUICE_WEBHOOK_URL is not set: run through make test-integration')
  const ns = await namespace(t)
  const first = await servedSerial(url)
  t.equal(first, await storedSerial(), 'the webhook serves the stored certificate')
  const annotations = {
    'sluice.dev/strategy': 'canary', 'sluice.dev/provider': 'gatewayapi', 'sluice.dev/port': '9898',
    'sluice.dev/spec': 'service:\n  gatewayRefs:\n  - {name: public, namespace: gateways}', 'sluice.dev/analysis': 'interval: 1m\nstepWeight: 20',
  }
  let applies = 0
  const failures: string[] = []
  const deadline = Date.now() + 200_000
  let served = first
  // Apply a new revision every half second until the webhook serves a renewed certificate, and a few after.
  let after = 0
  while (Date.now() < deadline && after < 10) {
    const r = await kubectl(['apply', '-f', '-'], app({ namespace: ns, replicas: 2, annotations, podAnnotations: { n: String(applies) } }))
    applies++
    if (r.code !== 0) failures.push(r.stderr)
    served = await servedSerial(url)
    if (served !== first) after++
    await new Promise(res => setTimeout(res, 500))
  }
  t.not(served, first, 'a renewed certificate is served without a restart')
  t.equal(served, await storedSerial(), 'it is the stored one')
  t.same(failures, [], `all ${applies} applies were admitted across the renewal`)
})
