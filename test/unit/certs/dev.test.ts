import t from 'tap'
import { X509Certificate } from 'node:crypto'
import { readFile, stat } from 'node:fs/promises'
import { writeDevelopmentCertificates, DEV_ROTATION_POLICY } from '../../../src/certs/dev.ts'
import { servingNames, localNames } from '../../../src/certs/names.ts'

t.test('development certificates: written once for localhost and 127.0.0.1, then reused until due', async t => {
  const dir = t.testdir()
  const now = new Date('2026-03-01T00:00:00Z')
  const first = await writeDevelopmentCertificates({ dir: `${dir}/certs`, now })
  t.ok(first.written)
  const serving = new X509Certificate(await readFile(first.paths.servingCert, 'utf8'))
  const ca = new X509Certificate(await readFile(first.paths.caCert, 'utf8'))
  t.equal(serving.checkIP('127.0.0.1'), '127.0.0.1')
  t.equal(serving.checkHost('localhost'), 'localhost')
  t.ok(serving.checkIssued(ca) && serving.verify(ca.publicKey))
  t.equal((await stat(first.paths.servingKey)).mode & 0o777, 0o600, 'keys are private')
  t.equal((await stat(first.paths.caKey)).mode & 0o777, 0o600)
  t.equal(await readFile(first.paths.bundle, 'utf8'), first.set.ca.certPem.trim() + '\n')

  const again = await writeDevelopmentCertificates({ dir: `${dir}/certs`, now: new Date(now.getTime() + 86_400_000) })
  t.notOk(again.written, 'valid files are kept')

  const due = new Date(now.getTime() + (DEV_ROTATION_POLICY.servingLifetimeSeconds - DEV_ROTATION_POLICY.servingRenewBeforeSeconds) * 1000)
  const renewed = await writeDevelopmentCertificates({ dir: `${dir}/certs`, now: due })
  t.ok(renewed.written)
  t.equal(renewed.set.ca.certPem, first.set.ca.certPem, 'the CA a developer trusts stays the same')
  t.not(renewed.set.serving.certPem, first.set.serving.certPem)
})

t.test('serving names: the Service DNS names plus extras; bad input is refused', async t => {
  t.same(servingNames({ service: 'sluice-webhook', namespace: 'sluice-system', extraDnsNames: ['localhost', 'sluice-webhook'], extraIpAddresses: ['127.0.0.1'] }), {
    commonName: 'sluice-webhook.sluice-system.svc',
    dnsNames: ['sluice-webhook', 'sluice-webhook.sluice-system', 'sluice-webhook.sluice-system.svc', 'sluice-webhook.sluice-system.svc.cluster.local', 'localhost'],
    ipAddresses: ['127.0.0.1'],
  })
  t.match(servingNames({ service: 's', namespace: 'n', clusterDomain: 'corp.local' }).dnsNames, ['s', 's.n', 's.n.svc', 's.n.svc.corp.local'])
  t.throws(() => servingNames({ service: 'Sluice', namespace: 'n' }), /service "Sluice" is not a DNS label/)
  t.throws(() => servingNames({ service: 's', namespace: 'n', extraIpAddresses: ['localhost'] }), /"localhost" is not an IP address/)
  t.same(localNames().ipAddresses, ['127.0.0.1', '::1'])
})
