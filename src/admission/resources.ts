// Validation of sluice's own kinds at apply time (Canary, MetricTemplate, AlertProvider, DeliveryPolicy):
// the same rules as for a Deployment's annotations, so a hand-written Canary that names something this
// version cannot run is refused by `kubectl apply`, not admitted and then reported by the controller.
import { canonicalJson } from '../kube/revision.ts'
import { lintAlertProvider, lintCanary, lintMetricTemplate, lintPolicy } from '../api/lint.ts'
import type { DeliveryPolicy } from '../api/types.ts'
import type { RefLookup } from '../api/validate.ts'
import type { AdmissionHandler } from './handle.ts'
import { allow, deny, type AdmissionRequest, type AdmissionVerdict } from './review.ts'

export interface ResourcesContext {
  readonly sluiceUsername: string
  readonly refs: RefLookup
  readonly minIntervalMs?: number
}

export const RESOURCE_KINDS = ['Canary', 'MetricTemplate', 'AlertProvider', 'DeliveryPolicy'] as const

// A reference to an object not in the webhook's cache yet (applied in the same `kubectl apply -f dir`) is
// a warning: the controller checks it again when it runs the analysis.
const NO_REFS: RefLookup = { metricTemplate: () => true, alertProvider: () => true }

function lint(request: AdmissionRequest, ctx: ResourcesContext): { rejections: string[]; warnings: string[] } {
  const object = request.object
  const interval = ctx.minIntervalMs !== undefined ? { minIntervalMs: ctx.minIntervalMs } : {}
  switch (request.kind.kind) {
    case 'Canary': {
      const { rejections, warnings } = lintCanary(object, { refs: NO_REFS, ...interval })
      const missing = lintCanary(object, { refs: ctx.refs, ...interval }).rejections.filter(r => !rejections.includes(r))
      return { rejections, warnings: [...warnings, ...missing] }
    }
    case 'MetricTemplate': return { rejections: lintMetricTemplate(object), warnings: [] }
    case 'AlertProvider': return { rejections: lintAlertProvider(object), warnings: [] }
    case 'DeliveryPolicy': return { rejections: lintPolicy(object as unknown as DeliveryPolicy), warnings: [] }
    default: return { rejections: [], warnings: [] }
  }
}

export function decideResource(request: AdmissionRequest, ctx: ResourcesContext): AdmissionVerdict {
  if (request.userInfo.username === ctx.sluiceUsername || request.subResource) return allow()
  if (request.operation !== 'CREATE' && request.operation !== 'UPDATE') return allow()
  // Metadata-only writes (finalizers, labels, operator requests) must go through even for an object an
  // earlier version admitted and this one would not: that is how it is deleted or retried.
  if (request.operation === 'UPDATE' && canonicalJson(request.object?.spec) === canonicalJson(request.oldObject?.spec)) return allow()
  const { rejections, warnings } = lint(request, ctx)
  if (rejections.length > 0) return deny(rejections.join('\n'), { code: 422, reason: 'Invalid' })
  return allow(warnings.length > 0 ? warnings : undefined)
}

export function resourcesHandler(ctx: ResourcesContext): AdmissionHandler {
  return request => decideResource(request, ctx)
}
