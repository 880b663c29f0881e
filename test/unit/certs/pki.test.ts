import t from 'tap'
import { X509Certificate } from 'node:crypto'
import { createCA, createLeaf } from '../../../src/certs/pki.ts'

const ca = createCA('unit-ca', 3600)
const caCert = new X509Certificate(ca.certPem)

t.test('the CA is a CA and signs itself', async t => {
  t.equal(caCert.ca, true)
  t.equal(caCert.subject, 'CN=unit-ca')
  t.ok(caCert.verify(caCert.publicKey))
})

t.test('a serving certificate carries its SANs and is issued by the CA', async t => {
  const leaf = new X509Certificate(createLeaf(ca, {
    commonName: 'sluice.sluice-system.svc', dnsNames: ['sluice.sluice-system.svc', 'localhost'], ipAddresses: ['127.0.0.1'],
    usage: 'server', lifetimeSeconds: 600,
  }).certPem)
  t.equal(leaf.ca, false)
  t.ok(leaf.checkIssued(caCert))
  t.ok(leaf.verify(caCert.publicKey))
  t.equal(leaf.checkHost('sluice.sluice-system.svc'), 'sluice.sluice-system.svc')
  t.equal(leaf.checkIP('127.0.0.1'), '127.0.0.1')
  t.equal(leaf.checkHost('other.example'), undefined)
  t.same(leaf.keyUsage, ['1.3.6.1.5.5.7.3.1'], 'serverAuth only')
  const life = (Date.parse(leaf.validTo) - Date.parse(leaf.validFrom)) / 1000
  t.ok(life >= 600 && life <= 700, `lifetime covers 600s plus backdating (got ${life})`)
})

t.test('serials are random and client certificates carry their groups', async t => {
  const a = new X509Certificate(createLeaf(ca, { commonName: 'a', usage: 'client', organizations: ['system:masters'], lifetimeSeconds: 60 }).certPem)
  const b = new X509Certificate(createLeaf(ca, { commonName: 'a', usage: 'client', lifetimeSeconds: 60 }).certPem)
  t.not(a.serialNumber, b.serialNumber)
  t.match(a.subject, /O=system:masters/)
  t.same(a.keyUsage, ['1.3.6.1.5.5.7.3.2'], 'clientAuth only')
})

t.test('a bad IP address is rejected with the certificate name', async t => {
  t.throws(() => createLeaf(ca, { commonName: 'x', ipAddresses: ['not-an-ip'], usage: 'server', lifetimeSeconds: 60 }),
    /certificate x: "not-an-ip" is not an IP address/)
})

t.test('serial numbers are 16 bytes, positive and minimally encoded (OpenSSL refuses a leading zero byte)', async t => {
  for (let i = 0; i < 20; i++) {
    const serial = new X509Certificate(createLeaf(ca, { commonName: 'x', dnsNames: ['x'], usage: 'server', lifetimeSeconds: 60 }).certPem).serialNumber
    t.equal(serial.length, 32, `16 bytes (${serial})`)
    const first = parseInt(serial.slice(0, 2), 16)
    t.ok(first >= 0x40 && first < 0x80, `first byte 0x${serial.slice(0, 2)}: top bit clear, next bit set`)
  }
  t.equal(new X509Certificate(ca.certPem).serialNumber.length, 32, 'the CA too')
})
