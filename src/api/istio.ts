// The istio router's two shapes besides an http VirtualService, and the options each cannot carry: a tcp
// route (service.appProtocol tcp) has none of HTTP's matching or rewriting, and a delegate VirtualService
// (service.delegation) takes its hosts and gateways from the root VirtualService that names it.
import type { SpecError } from './errors.ts'
import type { CanarySpec } from './types.ts'

/** What an http route has and a tcp route does not, by the field that sets it. */
const HTTP_ONLY: readonly (readonly [field: string, set: (s: CanarySpec) => boolean, what: string])[] = [
  ['analysis.match', s => (s.analysis?.match?.length ?? 0) > 0, 'header and cookie matching (A/B)'],
  ['analysis.mirror', s => s.analysis?.mirror === true, 'mirroring'],
  ['analysis.mirrorWeight', s => s.analysis?.mirrorWeight !== undefined, 'mirroring'],
  ['analysis.sessionAffinity', s => s.analysis?.sessionAffinity !== undefined, 'cookies'],
  ['service.match', s => (s.service?.match?.length ?? 0) > 0, 'request matching'],
  ['service.timeout', s => s.service?.timeout !== undefined, 'request timeouts'],
  ['service.retries', s => s.service?.retries !== undefined, 'retries'],
  ['service.headers', s => s.service?.headers !== undefined, 'header operations'],
  ['service.rewrite', s => s.service?.rewrite !== undefined, 'rewrites'],
  ['service.corsPolicy', s => s.service?.corsPolicy !== undefined, 'CORS'],
]

/** Options that the istio router cannot honour together with service.appProtocol tcp or service.delegation. */
export function istioSpecErrors(spec: CanarySpec): SpecError[] {
  const errors: SpecError[] = []
  if (spec.service?.appProtocol?.toLowerCase() === 'tcp') {
    for (const [field, set, what] of HTTP_ONLY) {
      if (set(spec)) {
        errors.push({ field, message: `is HTTP only and service.appProtocol is tcp: the istio router writes a weighted tcp route, which has no ${what}; remove it, or serve HTTP (appProtocol http)` })
      }
    }
  }
  if (spec.service?.delegation === true) {
    for (const field of ['hosts', 'gateways'] as const) {
      if ((spec.service[field]?.length ?? 0) > 0) {
        errors.push({ field: `service.${field}`, message: `must be empty with service.delegation: a delegate VirtualService has no ${field}; set them on the root VirtualService that delegates to ${spec.service.name ?? spec.targetRef?.name ?? 'it'}` })
      }
    }
  }
  return errors
}
