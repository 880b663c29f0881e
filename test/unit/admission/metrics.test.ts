import t from 'tap'
import { X509Certificate } from 'node:crypto'
import { Registry } from 'prom-client'
import { admissionMetrics, certificateMetrics } from '../../../src/admission/admission-metrics.ts'
import { advanceCertificates } from '../../../src/certs/issue.ts'
import { servingNames } from '../../../src/certs/names.ts'
import type { CertificateSet, RotationPolicy } from '../../../src/certs/rotation.ts'

const DAY = 86_400
const policy: RotationPolicy = {
  caLifetimeSeconds: 30 * DAY, caRenewBeforeSeconds: 10 * DAY,
  servingLifetimeSeconds: 7 * DAY, servingRenewBeforeSeconds: 2 * DAY, overlapSeconds: 60,
}
const names = servingNames({ service: 'sluice', namespace: 'sluice-system', extraIpAddresses: [] })

// The value of one series in the text exposition, or undefined when it is not exported.
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find(l => l.startsWith(`${series} `))
  return line === undefined ? undefined : Number(line.slice(series.length + 1))
}

t.test('review durations are counted by path and result: the decisions by verdict are the histogram counts', async t => {
  const registry = new Registry()
  const m = admissionMetrics(registry)
  m.observe('/mutate/deployments', 'patched', 0.002)
  m.observe('/mutate/deployments', 'patched', 0.003)
  m.observe('/mutate/deployments', 'failed', 0.4)
  const text = await registry.metrics()
  t.equal(sample(text, 'sluice_admission_review_duration_seconds_count{path="/mutate/deployments",result="patched"}'), 2)
  t.equal(sample(text, 'sluice_admission_review_duration_seconds_count{path="/mutate/deployments",result="failed"}'), 1)
  t.equal(sample(text, 'sluice_admission_review_duration_seconds_bucket{le="0.0025",path="/mutate/deployments",result="patched"}'), 1)
})

t.test('certificate expiry and renewal times are read from the current set at each scrape', async t => {
  const registry = new Registry()
  let current: CertificateSet | undefined
  certificateMetrics(registry, () => current, policy)
  let text = await registry.metrics()
  t.equal(sample(text, 'sluice_webhook_certificate_expiry_timestamp_seconds{certificate="serving"}'), undefined, 'no set yet: no series, not a zero that reads as "expired in 1970"')

  const now = new Date('2026-03-01T00:00:00Z')
  current = advanceCertificates(undefined, names, now, policy).set
  text = await registry.metrics()
  const notAfter = (pem: string) => new X509Certificate(pem).validToDate.getTime() / 1000
  const servingExpiry = sample(text, 'sluice_webhook_certificate_expiry_timestamp_seconds{certificate="serving"}')
  const caExpiry = sample(text, 'sluice_webhook_certificate_expiry_timestamp_seconds{certificate="ca"}')
  t.equal(servingExpiry, notAfter(current.serving.certPem))
  t.equal(caExpiry, notAfter(current.ca.certPem))
  t.equal(servingExpiry, now.getTime() / 1000 + 7 * DAY, 'the serving certificate lives the policy\'s lifetime')
  t.equal(sample(text, 'sluice_webhook_certificate_renewal_timestamp_seconds{certificate="serving"}'), servingExpiry! - 2 * DAY)
  t.equal(sample(text, 'sluice_webhook_certificate_renewal_timestamp_seconds{certificate="ca"}'), caExpiry! - 10 * DAY)

  // A renewal shows at the next scrape, with no stale series of the old certificate.
  const later = new Date(now.getTime() + 6 * DAY * 1000)
  current = advanceCertificates(current, names, later, policy).set
  text = await registry.metrics()
  t.equal(sample(text, 'sluice_webhook_certificate_expiry_timestamp_seconds{certificate="serving"}'), later.getTime() / 1000 + 7 * DAY)
  t.equal(text.split('\n').filter(l => l.startsWith('sluice_webhook_certificate_expiry_timestamp_seconds{')).length, 2)
})
