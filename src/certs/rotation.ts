// When to renew what, and which CAs the caBundle trusts: pure decisions over the stored certificates.
//
// A CA rotation runs in three steps so that the API server never meets a certificate it cannot verify:
//   1. a new CA is made; the bundle becomes [new CA, old CA]; the serving certificate (old CA) stays;
//   2. once the bundle has had `overlapSeconds` to reach the API server, a serving certificate from the
//      new CA replaces it;
//   3. once every replica has had `overlapSeconds` to load that certificate, the old CA leaves the bundle.
import type { X509Certificate } from 'node:crypto'
import { hasExactly, isExpired, isIssuedBy, issuedAt, keyPairMatches, parseCertificate, validityOf } from './inspect.ts'
import type { Validity } from './inspect.ts'
import type { SubjectNames } from './names.ts'
import type { KeyPairPem } from './pki.ts'

export interface RotationPolicy {
  readonly caLifetimeSeconds: number
  readonly caRenewBeforeSeconds: number
  readonly servingLifetimeSeconds: number
  readonly servingRenewBeforeSeconds: number
  /** How long a new CA is trusted before it signs what is served, and an old CA stays trusted after. At least the check interval. */
  readonly overlapSeconds: number
}

const DAY = 86_400

// Close to Gatekeeper and Kruise: a long-lived CA renewed a year ahead, a yearly serving certificate renewed 90 days ahead.
export const DEFAULT_ROTATION_POLICY: RotationPolicy = {
  caLifetimeSeconds: 10 * 365 * DAY,
  caRenewBeforeSeconds: 365 * DAY,
  servingLifetimeSeconds: 365 * DAY,
  servingRenewBeforeSeconds: 90 * DAY,
  overlapSeconds: 10 * 60,
}

/** What is wrong with a policy; empty when it is usable. */
export function policyProblems(p: RotationPolicy): string[] {
  const problems: string[] = []
  const positive = (name: keyof RotationPolicy) => {
    if (!Number.isFinite(p[name]) || p[name] <= 0) problems.push(`${name} must be a positive number of seconds (got ${p[name]})`)
  }
  positive('caLifetimeSeconds')
  positive('caRenewBeforeSeconds')
  positive('servingLifetimeSeconds')
  positive('servingRenewBeforeSeconds')
  if (!(p.overlapSeconds >= 0)) problems.push(`overlapSeconds must not be negative (got ${p.overlapSeconds})`)
  if (p.caRenewBeforeSeconds >= p.caLifetimeSeconds) problems.push('caRenewBeforeSeconds must be less than caLifetimeSeconds')
  if (p.servingRenewBeforeSeconds >= p.servingLifetimeSeconds) problems.push('servingRenewBeforeSeconds must be less than servingLifetimeSeconds')
  // A serving certificate never outlives its CA; were the CA renewed later than the serving certificate,
  // one issued shortly before would be due at once, and renewed on every check.
  if (p.caRenewBeforeSeconds <= p.servingRenewBeforeSeconds) problems.push('caRenewBeforeSeconds must be greater than servingRenewBeforeSeconds')
  if (p.overlapSeconds >= p.caRenewBeforeSeconds) problems.push('overlapSeconds must be less than caRenewBeforeSeconds, or the old CA expires mid-rotation')
  return problems
}

/** What the Secret holds. */
export interface CertificateSet {
  /** The CA that signs new serving certificates. */
  readonly ca: KeyPairPem
  readonly serving: KeyPairPem
  /** The caBundle: CA certificates, the signing one first. */
  readonly trusted: readonly string[]
}

export type RotationStep =
  | { readonly action: 'keep' }
  | { readonly action: 'create'; readonly reason: string }
  | { readonly action: 'rotate-ca'; readonly reason: string }
  | { readonly action: 'issue-serving'; readonly reason: string }
  | { readonly action: 'set-trust'; readonly trusted: readonly string[]; readonly reason: string }

export function needsRenewal(v: Validity, now: Date, renewBeforeSeconds: number): boolean {
  return now.getTime() >= v.notAfter.getTime() - renewBeforeSeconds * 1000
}

function secondsSince(t: Date, now: Date): number {
  return (now.getTime() - t.getTime()) / 1000
}

function caProblem(set: CertificateSet, now: Date): string | undefined {
  const ca = parseCertificate(set.ca.certPem)
  if (!ca) return 'the CA certificate does not parse'
  if (!ca.ca) return 'the CA certificate is not a CA'
  if (!keyPairMatches(set.ca)) return 'the CA key does not match the CA certificate'
  if (isExpired(ca, now)) return `the CA expired at ${ca.validToDate.toISOString()}`
  return undefined
}

/** Trusted, unexpired CAs other than the signing one, in bundle order. */
function previousCAs(set: CertificateSet, ca: X509Certificate, now: Date): X509Certificate[] {
  const seen = new Set([ca.fingerprint256])
  const out: X509Certificate[] = []
  for (const pem of set.trusted) {
    const cert = parseCertificate(pem)
    if (!cert || !cert.ca || isExpired(cert, now) || seen.has(cert.fingerprint256)) continue
    seen.add(cert.fingerprint256)
    out.push(cert)
  }
  return out
}

function servingProblem(set: CertificateSet, ca: X509Certificate, names: SubjectNames, now: Date, policy: RotationPolicy): string | undefined {
  const serving = parseCertificate(set.serving.certPem)
  if (!serving) return 'the serving certificate does not parse'
  if (!keyPairMatches(set.serving)) return 'the serving key does not match its certificate'
  if (isExpired(serving, now)) return `the serving certificate expired at ${serving.validToDate.toISOString()}`
  const issuer = [ca, ...previousCAs(set, ca, now)].find(c => isIssuedBy(serving, c))
  if (!issuer) return 'the serving certificate is not issued by a trusted CA'
  if (!hasExactly(serving, names.dnsNames, names.ipAddresses)) return 'the serving certificate names differ from the wanted ones'
  if (needsRenewal(validityOf(serving), now, policy.servingRenewBeforeSeconds)) {
    return `the serving certificate expires at ${serving.validToDate.toISOString()}, within ${policy.servingRenewBeforeSeconds}s`
  }
  if (issuer !== ca && secondsSince(issuedAt(ca), now) >= policy.overlapSeconds) {
    return 'the serving certificate is issued by the previous CA, and the new CA has been trusted long enough'
  }
  return undefined
}

/** The caBundle the set should have: the signing CA, plus earlier CAs while a serving certificate from them may be in use. */
export function trustedBundle(set: CertificateSet, now: Date, policy: RotationPolicy): string[] {
  const ca = parseCertificate(set.ca.certPem)
  if (!ca) return [set.ca.certPem]
  const serving = parseCertificate(set.serving.certPem)
  const servedFromSigningCA = serving !== undefined && isIssuedBy(serving, ca)
  const retire = servedFromSigningCA && secondsSince(issuedAt(serving), now) >= policy.overlapSeconds
  return [set.ca.certPem, ...(retire ? [] : previousCAs(set, ca, now).map(c => c.toString()))]
}

function sameCertificates(a: readonly string[], b: readonly string[]): boolean {
  const prints = (pems: readonly string[]) => pems.map(p => parseCertificate(p)?.fingerprint256 ?? p).join(',')
  return prints(a) === prints(b)
}

/** The next step for the stored set (undefined: nothing stored) at `now`. */
export function decideRotation(set: CertificateSet | undefined, names: SubjectNames, now: Date, policy: RotationPolicy): RotationStep {
  if (!set) return { action: 'create', reason: 'no certificates are stored' }
  const problem = caProblem(set, now)
  if (problem) return { action: 'create', reason: problem }
  const ca = parseCertificate(set.ca.certPem) as X509Certificate
  if (needsRenewal(validityOf(ca), now, policy.caRenewBeforeSeconds)) {
    return { action: 'rotate-ca', reason: `the CA expires at ${ca.validToDate.toISOString()}, within ${policy.caRenewBeforeSeconds}s` }
  }
  const servingReason = servingProblem(set, ca, names, now, policy)
  if (servingReason) return { action: 'issue-serving', reason: servingReason }
  const trusted = trustedBundle(set, now, policy)
  if (!sameCertificates(trusted, set.trusted)) {
    const reason = trusted.length < set.trusted.length ? 'expired or retired CAs leave the bundle' : 'the bundle lacks a CA in use'
    return { action: 'set-trust', trusted, reason }
  }
  return { action: 'keep' }
}
