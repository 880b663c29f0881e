// Validation of sluice's own kinds at apply time (Canary, MetricTemplate, AlertProvider, DeliveryPolicy):
// the same rules as for a Deployment's annotations, so a hand-written Canary that names something this
// version cannot run is refused by `kubectl apply`, not admitted and then reported by the controller.
import { canonicalJson } from '../kube/revision.ts'
import { alertProviderFindings, canaryFindings, metricTemplateFindings, policyFindings, type Finding } from '../api/lint.ts'
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

function lint(request: AdmissionRequest, ctx: ResourcesContext): Finding[] {
  const object = request.object
  const interval = ctx.minIntervalMs !== undefined ? { minIntervalMs: ctx.minIntervalMs } : {}
  switch (request.kind.kind) {
    case 'Canary': {
      const found = canaryFindings(object, { refs: NO_REFS, ...interval })
      const rejected = new Set(found.filter(f => f.rejects).map(f => f.text))
      const missing = canaryFindings(object, { refs: ctx.refs, ...interval }).filter(f => f.rejects && !rejected.has(f.text))
      return [...found.filter(f => f.rejects), ...found.filter(f => !f.rejects), ...missing.map(f => ({ ...f, rejects: false }))]
    }
    case 'MetricTemplate': return metricTemplateFindings(object)
    case 'AlertProvider': return alertProviderFindings(object)
    case 'DeliveryPolicy': return policyFindings(object as unknown as DeliveryPolicy)
    default: return []
  }
}

/** The verdict on a write of one of sluice's kinds, with the findings it was decided from. */
export interface ResourceReview {
  readonly verdict: AdmissionVerdict
  readonly findings: readonly Finding[]
}

/** Decides one write; `sluice plan` and `sluice lint` call this too, to read the findings. */
export function reviewResource(request: AdmissionRequest, ctx: ResourcesContext): ResourceReview {
  if (request.userInfo.username === ctx.sluiceUsername || request.subResource) return { verdict: allow(), findings: [] }
  if (request.operation !== 'CREATE' && request.operation !== 'UPDATE') return { verdict: allow(), findings: [] }
  // Metadata-only writes (finalizers, labels, operator requests) must go through even for an object an
  // earlier version admitted and this one would not: that is how it is deleted or retried.
  if (request.operation === 'UPDATE' && canonicalJson(request.object?.spec) === canonicalJson(request.oldObject?.spec)) return { verdict: allow(), findings: [] }
  const findings = lint(request, ctx)
  const rejections = findings.filter(f => f.rejects).map(f => f.text)
  const warnings = findings.filter(f => !f.rejects).map(f => f.text)
  if (rejections.length > 0) return { verdict: deny(rejections.join('\n'), { code: 422, reason: 'Invalid' }), findings }
  return { verdict: allow(warnings.length > 0 ? warnings : undefined), findings }
}

export function decideResource(request: AdmissionRequest, ctx: ResourcesContext): AdmissionVerdict {
  return reviewResource(request, ctx).verdict
}

export function resourcesHandler(ctx: ResourcesContext): AdmissionHandler {
  return request => decideResource(request, ctx)
}
