// The webhook's metrics: review latency and verdicts, for the budget "handler p99 < 5 ms", and when its
// certificates expire and are due for renewal, for the expiry alert. Registered on an injected registry,
// so that tests can build many servers.
import { Gauge, Histogram } from 'prom-client'
import type { Registry } from 'prom-client'
import { parseCertificate } from '../certs/inspect.ts'
import type { CertificateSet, RotationPolicy } from '../certs/rotation.ts'

export type ReviewResult = 'allowed' | 'patched' | 'denied' | 'failed' | 'skipped' | 'invalid'

export interface AdmissionMetrics {
  observe(path: string, result: ReviewResult, seconds: number): void
}

export const noMetrics: AdmissionMetrics = { observe() {} }

export function admissionMetrics(registry: Registry): AdmissionMetrics {
  const histogram = new Histogram({
    name: 'sluice_admission_review_duration_seconds',
    help: 'Time from a decoded body to the verdict, by webhook path and result',
    labelNames: ['path', 'result'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [registry],
  })
  return { observe: (path, result, seconds) => histogram.observe({ path, result }, seconds) }
}

/**
 * `sluice_webhook_certificate_expiry_timestamp_seconds` and `…_renewal_timestamp_seconds` for the signing CA
 * and the serving certificate, read from `current()` at each scrape. The renewal time (expiry minus the
 * policy's renew-before) lets an alert say "renewal is overdue" whatever lifetimes were chosen.
 */
export function certificateMetrics(registry: Registry, current: () => CertificateSet | undefined, policy: RotationPolicy): void {
  const labelNames = ['certificate'] as const
  const certificates = (): { certificate: string; notAfter: number; renewBefore: number }[] => {
    const set = current()
    if (set === undefined) return []
    const out = []
    for (const [certificate, pem, renewBefore] of [
      ['ca', set.ca.certPem, policy.caRenewBeforeSeconds],
      ['serving', set.serving.certPem, policy.servingRenewBeforeSeconds],
    ] as const) {
      const cert = parseCertificate(pem)
      if (cert !== undefined) out.push({ certificate, notAfter: cert.validToDate.getTime() / 1000, renewBefore })
    }
    return out
  }
  new Gauge({
    name: 'sluice_webhook_certificate_expiry_timestamp_seconds',
    help: 'When the webhook\'s certificate expires (notAfter, Unix seconds), by certificate (ca, serving)',
    labelNames, registers: [registry],
    collect() {
      this.reset()
      for (const c of certificates()) this.set({ certificate: c.certificate }, c.notAfter)
    },
  })
  new Gauge({
    name: 'sluice_webhook_certificate_renewal_timestamp_seconds',
    help: 'When the webhook renews its certificate (notAfter minus renew-before, Unix seconds), by certificate (ca, serving)',
    labelNames, registers: [registry],
    collect() {
      this.reset()
      for (const c of certificates()) this.set({ certificate: c.certificate }, c.notAfter - c.renewBefore)
    },
  })
}
