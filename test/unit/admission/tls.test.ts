// A real HTTPS server: the certificate is swapped for new handshakes while open connections continue.
import t from 'tap'
import { Agent, request } from 'node:https'
import type { TLSSocket } from 'node:tls'
import { createCA, createLeaf } from '../../../src/certs/pki.ts'
import type { KeyPairPem } from '../../../src/certs/pki.ts'
import { MUTATE_DEPLOYMENTS_PATH } from '../../../src/admission/server.ts'
import { review, server } from './fixtures.ts'

function servingPair(caName: string): { ca: KeyPairPem; leaf: KeyPairPem } {
  const ca = createCA(caName, 3600)
  return { ca, leaf: createLeaf(ca, { commonName: 'localhost', dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'], usage: 'server', lifetimeSeconds: 3600 }) }
}

interface Answer { status: number; uid: string; reused: boolean; peerFingerprint: string }

function post(agent: Agent, port: number, uid: string): Promise<Answer> {
  const body = JSON.stringify(review({ uid }))
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: MUTATE_DEPLOYMENTS_PATH, method: 'POST', agent, headers: { 'content-type': 'application/json' } }, res => {
      // The socket goes back to the agent at 'end': read the certificate now.
      const peerFingerprint = (res.socket as TLSSocket).getPeerCertificate().fingerprint256
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => {
        const parsed = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { response: { uid: string } }
        resolve({ status: res.statusCode ?? 0, uid: parsed.response.uid, reused: req.reusedSocket, peerFingerprint })
      })
      res.on('error', reject)
    })
    req.on('error', reject)
    req.end(body)
  })
}

t.test('reloadCertificate: new handshakes get the new certificate, open connections keep working', async t => {
  const a = servingPair('ca-a')
  const b = servingPair('ca-b')
  const app = server({ tls: a.leaf })
  await app.listen({ host: '127.0.0.1', port: 0 })
  const { port } = app.server.address() as { port: number }
  const agents: Agent[] = []
  const agentTrusting = (ca: KeyPairPem) => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1, ca: ca.certPem })
    agents.push(agent)
    return agent
  }
  t.teardown(async () => {
    for (const agent of agents) agent.destroy()
    await app.close()
  })

  const keptAlive = agentTrusting(a.ca)
  const first = await post(keptAlive, port, 'before-reload')
  t.equal(first.status, 200)
  t.equal(first.uid, 'before-reload')

  app.reloadCertificate(b.leaf.certPem, b.leaf.keyPem)

  const trustsB = await post(agentTrusting(b.ca), port, 'new-ca')
  t.equal(trustsB.status, 200, 'a client trusting only the new CA connects')
  t.not(trustsB.peerFingerprint, first.peerFingerprint, 'it sees the new certificate')

  await t.rejects(post(agentTrusting(a.ca), port, 'old-ca'), { code: /UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT_LOCALLY|SELF_SIGNED/ },
    'a new client trusting only the old CA fails')

  const again = await post(keptAlive, port, 'same-connection')
  t.equal(again.status, 200)
  t.equal(again.uid, 'same-connection')
  t.ok(again.reused, 'the request went over the connection opened before the reload')
  t.equal(again.peerFingerprint, first.peerFingerprint, 'that connection keeps the old certificate')
})

t.test('clients below TLS 1.2 are refused', async t => {
  const a = servingPair('ca-tls')
  const app = server({ tls: a.leaf })
  await app.listen({ host: '127.0.0.1', port: 0 })
  t.teardown(() => app.close())
  const { port } = app.server.address() as { port: number }
  const old = new Agent({ ca: a.ca.certPem, maxVersion: 'TLSv1.1', minVersion: 'TLSv1' })
  t.teardown(() => old.destroy())
  await t.rejects(post(old, port, 'tls11'))
})
