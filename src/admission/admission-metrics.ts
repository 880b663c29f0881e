// Review latency and verdicts, for the budget "handler p99 < 5 ms". Registered on an injected registry,
// so that tests can build many servers.
import { Histogram } from 'prom-client'
import type { Registry } from 'prom-client'

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
