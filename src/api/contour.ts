// The contour router writes service.retries.retryOn as the HTTPProxy's retryPolicy.retryOn list, which Contour's
// CRD restricts to Envoy's conditions below (a status code goes to retriableStatusCodes instead). A value outside
// them is refused at apply: admitted, the HTTPProxy would only be refused by the API server mid-release.
import type { SpecError } from './errors.ts'
import type { CanarySpec } from './types.ts'

/** Contour v1.33's RetryOn enum (projectcontour.io/v1 HTTPProxy, routes[].retryPolicy.retryOn). */
export const CONTOUR_RETRY_ON = [
  '5xx', 'gateway-error', 'reset', 'reset-before-request', 'connect-failure', 'envoy-ratelimited', 'retriable-4xx',
  'refused-stream', 'retriable-status-codes', 'retriable-headers', 'http3-post-connect-failure', 'cancelled',
  'deadline-exceeded', 'internal', 'resource-exhausted', 'unavailable',
] as const

/** service.retries.retryOn values the contour router cannot write. */
export function contourSpecErrors(spec: CanarySpec): SpecError[] {
  const tokens = (spec.service?.retries?.retryOn ?? '').split(',').map(s => s.trim()).filter(Boolean)
  const unknown = tokens.filter(s => !/^\d{3}$/.test(s) && !(CONTOUR_RETRY_ON as readonly string[]).includes(s))
  if (unknown.length === 0) return []
  return [{
    field: 'service.retries.retryOn',
    message: `${unknown.map(s => JSON.stringify(s)).join(', ')} ${unknown.length === 1 ? 'is' : 'are'} not a retry condition Contour accepts; ` +
      `use a status code (e.g. 503) or one of ${CONTOUR_RETRY_ON.join(', ')}`,
  }]
}
