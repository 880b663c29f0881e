import t from 'tap'
import { X509Certificate } from 'node:crypto'
import { createCA, createLeaf } from '../../../src/certs/pki.ts'
import type { KeyPairPem } from '../../../src/certs/pki.ts'
import { decideRotation, needsRenewal, policyProblems, trustedBundle, DEFAULT_ROTATION_POLICY } from '../../../src/certs/rotation.ts'
import type { CertificateSet, RotationPolicy } from '../../../src/certs/rotation.ts'
import { advanceCertificates } from '../../../src/certs/issue.ts'
import { servingNames } from '../../../src/certs/names.ts'

// Minutes, as an end-to-end rotation test would use.
const policy: RotationPolicy = { caLifetimeSeconds: 900, caRenewBeforeSeconds: 300, servingLifetimeSeconds: 300, servingRenewBeforeSeconds: 120, overlapSeconds: 30 }
const names = servingNames({ service: 'sluice-webhook', namespace: 'sluice-system', extraDnsNames: ['localhost'], extraIpAddresses: ['127.0.0.1'] })
const T0 = Date.parse('2026-03-01T00:00:00Z')
const at = (s: number) => new Date(T0 + s * 1000)

function leaf(ca: KeyPairPem, s: number, lifetime = policy.servingLifetimeSeconds, n = names): KeyPairPem {
  return createLeaf(ca, { commonName: n.commonName, dnsNames: n.dnsNames, ipAddresses: n.ipAddresses, usage: 'server', lifetimeSeconds: lifetime, now: at(s) })
}

const fp = (pem: string) => new X509Certificate(pem).fingerprint256
const issuerOf = (set: CertificateSet) => set.trusted.find(ca => new X509Certificate(set.serving.certPem).checkIssued(new X509Certificate(ca)))

const caA = createCA('ca-a', policy.caLifetimeSeconds, at(0))
const caB = createCA('ca-b', policy.caLifetimeSeconds, at(600))
const servingA = leaf(caA, 0)

t.test('needsRenewal: due from notAfter minus the margin', async t => {
  const v = { notBefore: at(0), notAfter: at(300) }
  t.notOk(needsRenewal(v, at(179), 120))
  t.ok(needsRenewal(v, at(180), 120))
  t.ok(needsRenewal(v, at(400), 120))
})

t.test('the policy is checked', async t => {
  t.same(policyProblems(DEFAULT_ROTATION_POLICY), [])
  t.same(policyProblems(policy), [])
  t.match(policyProblems({ ...policy, servingRenewBeforeSeconds: 300 }), [/servingRenewBeforeSeconds must be less than servingLifetimeSeconds/])
  t.match(policyProblems({ ...policy, caRenewBeforeSeconds: 100 }), [/caRenewBeforeSeconds must be greater than servingRenewBeforeSeconds/])
  t.match(policyProblems({ ...policy, overlapSeconds: 300 }), [/overlapSeconds must be less than caRenewBeforeSeconds/])
  t.match(policyProblems({ ...policy, caLifetimeSeconds: Number.NaN }), [/caLifetimeSeconds must be a positive number/])
})

t.test('nothing stored, or an unusable CA: create everything', async t => {
  t.match(decideRotation(undefined, names, at(0), policy), { action: 'create', reason: 'no certificates are stored' })
  const good: CertificateSet = { ca: caA, serving: servingA, trusted: [caA.certPem] }
  t.match(decideRotation({ ...good, ca: { certPem: 'garbage', keyPem: caA.keyPem } }, names, at(0), policy), { action: 'create', reason: /does not parse/ })
  t.match(decideRotation({ ...good, ca: { certPem: caA.certPem, keyPem: servingA.keyPem } }, names, at(0), policy), { action: 'create', reason: /CA key does not match/ })
  t.match(decideRotation({ ...good, ca: servingA }, names, at(0), policy), { action: 'create', reason: /is not a CA/ })
  t.match(decideRotation(good, names, at(1000), policy), { action: 'create', reason: /the CA expired/ })
})

t.test('a fresh set: a CA, a serving certificate with the Service names, and a bundle of that CA', async t => {
  const { set, steps } = advanceCertificates(undefined, names, at(0), policy)
  t.same(steps.map(s => s.action), ['create'])
  const ca = new X509Certificate(set.ca.certPem)
  const serving = new X509Certificate(set.serving.certPem)
  t.ok(ca.ca)
  t.ok(serving.checkIssued(ca) && serving.verify(ca.publicKey))
  t.equal(serving.subjectAltName,
    'DNS:sluice-webhook, DNS:sluice-webhook.sluice-system, DNS:sluice-webhook.sluice-system.svc, DNS:sluice-webhook.sluice-system.svc.cluster.local, DNS:localhost, IP Address:127.0.0.1')
  t.same(set.trusted, [set.ca.certPem])
  t.same(decideRotation(set, names, at(10), policy), { action: 'keep' })
})

t.test('serving renewal keeps the CA, so the bundle does not change', async t => {
  const set: CertificateSet = { ca: caA, serving: servingA, trusted: [caA.certPem] }
  t.same(decideRotation(set, names, at(179), policy), { action: 'keep' })
  t.match(decideRotation(set, names, at(180), policy), { action: 'issue-serving', reason: /expires at .* within 120s/ })
  const next = advanceCertificates(set, names, at(180), policy).set
  t.equal(next.ca, set.ca)
  t.same(next.trusted, set.trusted)
  t.not(fp(next.serving.certPem), fp(servingA.certPem))
})

t.test('a serving certificate is reissued when its names, key or issuer are wrong', async t => {
  const base: CertificateSet = { ca: caA, serving: servingA, trusted: [caA.certPem] }
  const other = servingNames({ service: 'sluice-webhook', namespace: 'sluice-system' })
  t.match(decideRotation(base, other, at(10), policy), { action: 'issue-serving', reason: /names differ/ })
  t.match(decideRotation({ ...base, serving: { certPem: servingA.certPem, keyPem: caA.keyPem } }, names, at(10), policy), { action: 'issue-serving', reason: /key does not match/ })
  t.match(decideRotation({ ...base, serving: leaf(caB, 10) }, names, at(10), policy), { action: 'issue-serving', reason: /not issued by a trusted CA/ })
  t.match(decideRotation({ ...base, serving: { certPem: 'x', keyPem: 'y' } }, names, at(10), policy), { action: 'issue-serving', reason: /does not parse/ })
})

t.test('bundle composition across a CA rotation', async t => {
  const servedByA: CertificateSet = { ca: caB, serving: leaf(caA, 540), trusted: [caB.certPem, caA.certPem] }
  t.same(trustedBundle(servedByA, at(600), policy).map(fp), [fp(caB.certPem), fp(caA.certPem)], 'new CA + old CA while the old one signs what is served')
  const servedByB = { ...servedByA, serving: leaf(caB, 630) }
  t.same(trustedBundle(servedByB, at(640), policy).map(fp), [fp(caB.certPem), fp(caA.certPem)], 'the old CA stays while replicas may still serve its certificate')
  t.same(trustedBundle(servedByB, at(660), policy).map(fp), [fp(caB.certPem)], 'and leaves after the overlap')
  t.same(trustedBundle({ ...servedByA, trusted: [caB.certPem, caA.certPem, caA.certPem, 'junk', servingA.certPem] }, at(600), policy).map(fp),
    [fp(caB.certPem), fp(caA.certPem)], 'duplicates, junk and non-CAs are dropped')
  const caC = createCA('ca-c', 900, at(950))
  t.same(trustedBundle({ ...servedByA, ca: caC }, at(960), policy).map(fp), [fp(caC.certPem), fp(caB.certPem)], 'an expired CA (A) is dropped')
  t.match(decideRotation({ ...servedByB, trusted: [caB.certPem] }, names, at(640), policy), { action: 'keep' },
    'a bundle without the old CA is left alone once nothing it signed is served')
  t.match(decideRotation({ ...servedByB, trusted: [caA.certPem] }, names, at(640), policy), { action: 'set-trust', reason: /lacks a CA in use/ })
})

t.test('a CA rotation: bundle first, then the serving certificate, then the old CA leaves', async t => {
  let set: CertificateSet = { ca: caA, serving: leaf(caA, 540), trusted: [caA.certPem] }
  const stepsAt = (s: number) => {
    const r = advanceCertificates(set, names, at(s), policy)
    set = r.set
    return r.steps.map(x => x.action)
  }
  t.same(stepsAt(599), [])
  t.same(stepsAt(600), ['rotate-ca'])
  const newCA = set.ca
  t.not(fp(newCA.certPem), fp(caA.certPem))
  t.same(set.trusted.map(fp), [fp(newCA.certPem), fp(caA.certPem)], 'the bundle is new CA + old CA')
  t.equal(fp(issuerOf(set) ?? ''), fp(caA.certPem), 'the old CA still signs what is served')
  t.same(stepsAt(615), [], 'the serving certificate waits while the new bundle propagates')
  t.same(stepsAt(630), ['issue-serving'])
  t.equal(fp(issuerOf(set) ?? ''), fp(newCA.certPem))
  t.equal(set.trusted.length, 2, 'the old CA stays while other replicas may serve its certificate')
  t.same(stepsAt(659), [])
  t.same(stepsAt(660), ['set-trust'])
  t.same(set.trusted.map(fp), [fp(newCA.certPem)])
})

t.test('over two CA lifetimes, every served certificate verifies against the bundle the API server had', async t => {
  let set: CertificateSet | undefined
  const tick = 15
  const actions = new Set<string>()
  for (let s = 0; s <= 2 * policy.caLifetimeSeconds; s += tick) {
    const before = set
    const r = advanceCertificates(set, names, at(s), policy)
    r.steps.forEach(x => actions.add(x.action))
    set = r.set
    const serving = new X509Certificate(set.serving.certPem)
    const trusted = set.trusted.map(p => new X509Certificate(p))
    t.ok(serving.validToDate > at(s) && trusted.some(ca => serving.checkIssued(ca) && serving.verify(ca.publicKey)), `t=${s}: served certificate valid and trusted`)
    if (!before) continue
    // The API server may still hold the previous bundle, and other replicas may still serve the previous certificate.
    const previousBundle = before.trusted.map(p => new X509Certificate(p))
    t.ok(previousBundle.some(ca => serving.checkIssued(ca)), `t=${s}: the new certificate verifies against the previous bundle`)
    const previousServing = new X509Certificate(before.serving.certPem)
    t.ok(trusted.some(ca => previousServing.checkIssued(ca)), `t=${s}: the previous certificate verifies against the new bundle`)
  }
  t.same([...actions].sort(), ['create', 'issue-serving', 'rotate-ca', 'set-trust'])
})
