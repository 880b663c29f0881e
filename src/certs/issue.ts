// Carries out rotation steps: makes keys and certificates (CPU only, no I/O).
import { createCA, createLeaf } from './pki.ts'
import { parseCertificate } from './inspect.ts'
import type { SubjectNames } from './names.ts'
import type { KeyPairPem } from './pki.ts'
import { decideRotation, trustedBundle } from './rotation.ts'
import type { CertificateSet, RotationPolicy, RotationStep } from './rotation.ts'

function newCA(names: SubjectNames, now: Date, policy: RotationPolicy): KeyPairPem {
  // A distinct name per CA keeps old and new apart in a bundle and in `openssl x509` output.
  return createCA(`${names.commonName}-ca@${Math.floor(now.getTime() / 1000)}`, policy.caLifetimeSeconds, now)
}

function newServing(ca: KeyPairPem, names: SubjectNames, now: Date, policy: RotationPolicy): KeyPairPem {
  const caNotAfter = parseCertificate(ca.certPem)?.validToDate.getTime() ?? Infinity
  // A serving certificate that outlived its CA would fail verification anyway.
  const lifetimeSeconds = Math.min(policy.servingLifetimeSeconds, Math.floor((caNotAfter - now.getTime()) / 1000))
  return createLeaf(ca, {
    commonName: names.commonName, dnsNames: names.dnsNames, ipAddresses: names.ipAddresses,
    usage: 'server', lifetimeSeconds, now,
  })
}

export function applyRotationStep(set: CertificateSet | undefined, step: RotationStep, names: SubjectNames, now: Date, policy: RotationPolicy): CertificateSet | undefined {
  switch (step.action) {
    case 'keep':
      return set
    case 'create': {
      const ca = newCA(names, now, policy)
      return { ca, serving: newServing(ca, names, now, policy), trusted: [ca.certPem] }
    }
    case 'rotate-ca': {
      if (!set) throw new Error('rotate-ca needs stored certificates')
      const ca = newCA(names, now, policy)
      // The old CA still signs what is served, so it stays trusted beside the new one.
      const trusted = trustedBundle({ ...set, trusted: [set.ca.certPem, ...set.trusted] }, now, { ...policy, overlapSeconds: Infinity })
      return { ca, serving: set.serving, trusted: [ca.certPem, ...trusted] }
    }
    case 'issue-serving':
      if (!set) throw new Error('issue-serving needs stored certificates')
      return { ...set, serving: newServing(set.ca, names, now, policy) }
    case 'set-trust':
      if (!set) throw new Error('set-trust needs stored certificates')
      return { ...set, trusted: step.trusted }
  }
}

export interface Advanced {
  readonly set: CertificateSet
  /** The steps taken; empty when the stored set was kept. */
  readonly steps: readonly Exclude<RotationStep, { action: 'keep' }>[]
}

// create → keep, or rotate-ca → set-trust → keep: a handful of steps always settles.
const MAX_STEPS = 4

/** Applies steps until the set needs nothing more at `now`. */
export function advanceCertificates(set: CertificateSet | undefined, names: SubjectNames, now: Date, policy: RotationPolicy): Advanced {
  const steps: Advanced['steps'][number][] = []
  let current = set
  for (let i = 0; i < MAX_STEPS; i++) {
    const step = decideRotation(current, names, now, policy)
    if (step.action === 'keep' && current) return { set: current, steps }
    if (step.action === 'keep') break
    steps.push(step)
    current = applyRotationStep(current, step, names, now, policy)
  }
  throw new Error(`certificates do not settle after ${steps.map(s => `${s.action} (${s.reason})`).join(', ')}: check the rotation policy`)
}
