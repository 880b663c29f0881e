// Facts about PEM certificates and keys, read with Node's X509Certificate (forge only writes them).
import { X509Certificate, createPrivateKey } from 'node:crypto'
import { BACKDATE_SECONDS } from './pki.ts'
import type { KeyPairPem } from './pki.ts'

export interface Validity {
  readonly notBefore: Date
  readonly notAfter: Date
}

const PEM_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g

/** The certificates of a PEM bundle, each as its own PEM, in order. */
export function splitPemBundle(bundle: string): string[] {
  return (bundle.match(PEM_BLOCK) ?? []).map(block => block + '\n')
}

export function joinPemBundle(pems: readonly string[]): string {
  return pems.map(p => p.trim() + '\n').join('')
}

export function parseCertificate(pem: string): X509Certificate | undefined {
  try {
    return new X509Certificate(pem)
  } catch {
    return undefined
  }
}

export function validityOf(cert: X509Certificate): Validity {
  return { notBefore: cert.validFromDate, notAfter: cert.validToDate }
}

/** When the certificate was made: pki.ts backdates notBefore to absorb clock skew. */
export function issuedAt(cert: X509Certificate): Date {
  return new Date(cert.validFromDate.getTime() + BACKDATE_SECONDS * 1000)
}

export function isExpired(cert: X509Certificate, now: Date): boolean {
  return now.getTime() >= cert.validToDate.getTime()
}

/** The certificate parses and the key is its own. */
export function keyPairMatches(pair: KeyPairPem): boolean {
  const cert = parseCertificate(pair.certPem)
  if (!cert) return false
  try {
    return cert.checkPrivateKey(createPrivateKey(pair.keyPem))
  } catch {
    return false
  }
}

export function isIssuedBy(cert: X509Certificate, ca: X509Certificate): boolean {
  return ca.ca && cert.checkIssued(ca) && cert.verify(ca.publicKey)
}

/** The certificate's SANs are exactly these names and addresses (order aside). */
export function hasExactly(cert: X509Certificate, dnsNames: readonly string[], ipAddresses: readonly string[]): boolean {
  const entries = cert.subjectAltName?.split(', ').filter(e => e !== '') ?? []
  const wanted = new Set(dnsNames).size + new Set(ipAddresses).size
  return entries.length === wanted &&
    dnsNames.every(name => cert.checkHost(name, { wildcards: false, subject: 'never' }) !== undefined) &&
    ipAddresses.every(ip => cert.checkIP(ip) !== undefined)
}
