// One call per object kind for the webhook, the controller and `sluice lint`: resolve, validate, check the
// policies, and word every problem the same way.
import { ANNOTATIONS, homeAnnotationOf, isUserKey } from './annotations.ts'
import { OLD_ANALYSIS } from './compat.ts'
import { formatError, formatErrors, isWarning, subjectName, type SpecError, type Subject } from './errors.ts'
import { isRecord } from '../util/records.ts'
import { checkConstraints } from './policy.ts'
import { resolve, type DeploymentLike, type Resolution, type ResolveContext } from './resolve.ts'
import type { DeliveryPolicy } from './types.ts'
import { validatePolicy, validateSpec, type ValidateOptions } from './validate.ts'
import { validateAlertProvider, validateMetricTemplate } from './validate-resources.ts'

export type LintContext = ResolveContext & Pick<ValidateOptions, 'refs' | 'minIntervalMs'>

export interface DeploymentReport {
  readonly resolution: Resolution
  readonly errors: readonly SpecError[]
  /** Problems that deny the request: everything except warnings and the constraints of audit-mode policies. */
  readonly rejections: readonly string[]
  /** Audit-mode policy violations, accepted-but-ignored fields, and sluice annotations that have no effect. */
  readonly warnings: readonly string[]
}

/** What the webhook answers for a Canary: rejections deny it, warnings go back as admission warnings. */
export interface CanaryReport {
  readonly rejections: string[]
  readonly warnings: string[]
}

function isAuditViolation(error: SpecError, policies: readonly DeliveryPolicy[]): boolean {
  if (error.policy === undefined) return false
  return policies.find(p => p.metadata.name === error.policy)?.spec.mode !== 'enforce'
}

function strayAnnotationWarnings(subject: Subject, annotations: Record<string, string> | undefined): string[] {
  return Object.keys(annotations ?? {}).filter(isUserKey).map(key =>
    `${subjectName(subject)}: annotation ${key} has no effect without ${ANNOTATIONS.strategy} (canary, blue-green or ab)`)
}

// canaryAnalysis is accepted in a Canary written for Flagger only; annotations are sluice's own and say analysis.
function oldNameOnDeployment(spec: object): SpecError[] {
  if (!(OLD_ANALYSIS in spec)) return []
  return [{ field: OLD_ANALYSIS, message: `is Flagger's old name of analysis; set the analysis with annotation ${ANNOTATIONS.analysis}` }]
}

export function lintDeployment(deployment: DeploymentLike, context: LintContext = {}): DeploymentReport {
  const meta = deployment.metadata ?? {}
  const subject: Subject = { kind: 'Deployment', name: meta.name ?? '', ...(meta.namespace && { namespace: meta.namespace }) }
  const resolution = resolve(deployment, context)
  if (!resolution.optedIn) {
    return { resolution, errors: [], rejections: [], warnings: strayAnnotationWarnings(subject, meta.annotations) }
  }
  // An unreadable annotation makes every later finding a guess; report only what must be fixed first.
  const errors = resolution.errors.length > 0 ? resolution.errors : [
    ...validateSpec(resolution.spec, {
      ...(resolution.strategy && { strategy: resolution.strategy }),
      namespace: meta.namespace ?? '',
      selectorLabels: deployment.spec?.selector?.matchLabels ?? {},
      ...(context.refs && { refs: context.refs }),
      ...(context.minIntervalMs !== undefined && { minIntervalMs: context.minIntervalMs }),
    }),
    ...resolution.constraining.flatMap(p => checkConstraints(resolution.spec, p)),
    ...oldNameOnDeployment(resolution.spec),
  ]
  const format = (e: SpecError): string => formatError(subject, e, { sourceOf: resolution.sourceOf, homeOf: homeAnnotationOf })
  return {
    resolution,
    errors,
    rejections: errors.filter(e => !isWarning(e) && !isAuditViolation(e, resolution.constraining)).map(format),
    warnings: errors.filter(e => isWarning(e) || isAuditViolation(e, resolution.constraining)).map(format),
  }
}

/** A Canary written by hand (or generated): fields are reported as spec.<path>. */
export function lintCanary(canary: unknown, context: Pick<LintContext, 'refs' | 'minIntervalMs'> = {}): CanaryReport {
  const object = isRecord(canary) ? canary : {}
  const meta = isRecord(object.metadata) ? object.metadata : {}
  const namespace = typeof meta.namespace === 'string' ? meta.namespace : ''
  const subject: Subject = { kind: 'Canary', name: typeof meta.name === 'string' ? meta.name : '', namespace }
  const errors: SpecError[] = object.spec === undefined
    ? [{ field: '', message: 'is required' }]
    : validateSpec(object.spec, { namespace, ...context })
  const format = (list: readonly SpecError[]): string[] => formatErrors(subject, list, { specPrefix: 'spec.' })
  return { rejections: format(errors.filter(e => !isWarning(e))), warnings: format(errors.filter(isWarning)) }
}

export function lintPolicy(policy: DeliveryPolicy): string[] {
  const subject: Subject = { kind: 'DeliveryPolicy', name: policy.metadata.name ?? '' }
  return formatErrors(subject, validatePolicy(policy), { specPrefix: 'spec.' })
}

function objectSubject(kind: string, object: unknown): { subject: Subject; spec: unknown } {
  const o = isRecord(object) ? object : {}
  const meta = isRecord(o.metadata) ? o.metadata : {}
  const name = typeof meta.name === 'string' ? meta.name : ''
  const namespace = typeof meta.namespace === 'string' ? meta.namespace : undefined
  return { subject: { kind, name, ...(namespace && { namespace }) }, spec: o.spec }
}

export function lintMetricTemplate(template: unknown): string[] {
  const { subject, spec } = objectSubject('MetricTemplate', template)
  return formatErrors(subject, spec === undefined ? [{ field: '', message: 'is required' }] : validateMetricTemplate(spec), { specPrefix: 'spec.' })
}

export function lintAlertProvider(provider: unknown): string[] {
  const { subject, spec } = objectSubject('AlertProvider', provider)
  return formatErrors(subject, spec === undefined ? [{ field: '', message: 'is required' }] : validateAlertProvider(spec), { specPrefix: 'spec.' })
}
