// Certificate authority and leaf certificates made with node-forge (RSA only: forge cannot read EC keys).
import forge from 'node-forge'
import { isIP } from 'node:net'

const { pki, md, random, util } = forge

export interface KeyPairPem {
  readonly certPem: string
  readonly keyPem: string
}

export interface LeafOptions {
  readonly commonName: string
  readonly dnsNames?: readonly string[]
  readonly ipAddresses?: readonly string[]
  readonly organizations?: readonly string[]
  readonly usage: 'server' | 'client' | 'both'
  readonly lifetimeSeconds: number
  readonly now?: Date
}

// Backdating absorbs small clock differences between the signer and the verifier.
export const BACKDATE_SECONDS = 60

function serialNumber(): string {
  // DER wants a positive integer in its shortest form: the top bit of the first byte clear (positive) and the
  // next one set (no leading zero byte, which OpenSSL refuses as "illegal padding"). A '0' prefix made a
  // random first byte of 0x00 into such padding, one certificate in about 256.
  const bytes = random.getBytesSync(16)
  return util.bytesToHex(String.fromCharCode((bytes.charCodeAt(0) & 0x7f) | 0x40) + bytes.slice(1))
}

function validity(cert: forge.pki.Certificate, now: Date, lifetimeSeconds: number): void {
  cert.validity.notBefore = new Date(now.getTime() - BACKDATE_SECONDS * 1000)
  cert.validity.notAfter = new Date(now.getTime() + lifetimeSeconds * 1000)
}

function keyPair(): forge.pki.rsa.KeyPair {
  return pki.rsa.generateKeyPair({ bits: 2048, e: 0x10001 })
}

// forge writes names as PrintableString, which Go's x509 (the API server) rejects for characters
// such as '@' or '_'; UTF8String takes any name.
function utf8(name: string, value: string): forge.pki.CertificateField {
  return { name, value, valueTagClass: forge.asn1.Type.UTF8 as unknown as forge.pki.CertificateField['valueTagClass'] }
}

export function createCA(commonName: string, lifetimeSeconds: number, now = new Date()): KeyPairPem {
  const keys = keyPair()
  const cert = pki.createCertificate()
  cert.publicKey = keys.publicKey
  cert.serialNumber = serialNumber()
  validity(cert, now, lifetimeSeconds)
  const subject = [utf8('commonName', commonName)]
  cert.setSubject(subject)
  cert.setIssuer(subject)
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ])
  cert.sign(keys.privateKey, md.sha256.create())
  return { certPem: pki.certificateToPem(cert), keyPem: pki.privateKeyToPem(keys.privateKey) }
}

function subjectAltNames(dnsNames: readonly string[], ips: readonly string[]): { type: number; value?: string; ip?: string }[] {
  return [...dnsNames.map(value => ({ type: 2, value })), ...ips.map(ip => ({ type: 7, ip }))]
}

export function createLeaf(ca: KeyPairPem, opts: LeafOptions): KeyPairPem {
  for (const ip of opts.ipAddresses ?? []) {
    if (isIP(ip) === 0) throw new Error(`certificate ${opts.commonName}: "${ip}" is not an IP address`)
  }
  const caCert = pki.certificateFromPem(ca.certPem)
  const caKey = pki.privateKeyFromPem(ca.keyPem)
  const keys = keyPair()
  const cert = pki.createCertificate()
  cert.publicKey = keys.publicKey
  cert.serialNumber = serialNumber()
  validity(cert, opts.now ?? new Date(), opts.lifetimeSeconds)
  const subject: forge.pki.CertificateField[] = [utf8('commonName', opts.commonName)]
  for (const o of opts.organizations ?? []) subject.push(utf8('organizationName', o))
  cert.setSubject(subject)
  cert.setIssuer(caCert.subject.attributes)
  const sans = subjectAltNames(opts.dnsNames ?? [], opts.ipAddresses ?? [])
  cert.setExtensions([
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    {
      name: 'extKeyUsage',
      serverAuth: opts.usage !== 'client',
      clientAuth: opts.usage !== 'server',
    },
    ...(sans.length > 0 ? [{ name: 'subjectAltName', altNames: sans }] : []),
    { name: 'subjectKeyIdentifier' },
    { name: 'authorityKeyIdentifier', keyIdentifier: caCert.generateSubjectKeyIdentifier().getBytes() },
  ])
  cert.sign(caKey, md.sha256.create())
  return { certPem: pki.certificateToPem(cert), keyPem: pki.privateKeyToPem(keys.privateKey) }
}
