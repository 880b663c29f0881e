// One call per object kind for the webhook, the controller and `sluice lint`: resolve, validate, check the
// policies, and word every problem the same way.
import { ANNOTATIONS, homeAnnotationOf, isUserKey } from './annotations.ts'
import { formatError, formatErrors, subjectName, type SpecError, type Subject } from './errors.ts'
import { isPlainObject } from './merge.ts'
import { checkConstraints } from './policy.ts'
import { resolve, type DeploymentLike, type Resolution, type ResolveContext } from './resolve.ts'
import type { DeliveryPolicy } from './types.ts'
import { validatePolicy, validateSpec, type ValidateOptions } from './validate.ts'
import { validateAlertProvider, validateMetricTemplate } from './validate-resources.ts'

export type LintContext = ResolveContext & Pick<ValidateOptions, 'refs' | 'minIntervalMs'>

export interface DeploymentReport {
  readonly resolution: Resolution
  readonly errors: readonly SpecError[]
  /** Problems that deny the request: everything except the constraints of audit-mode policies. */
  readonly rejections: readonly string[]
  /** Audit-mode policy violations, and sluice annotations that have no effect. */
  readonly warnings: readonly string[]
}

function isAuditViolation(error: SpecError, policies: readonly DeliveryPolicy[]): boolean {
  if (error.policy === undefined) return false
  return policies.find(p => p.metadata.name === error.policy)?.spec.mode !== 'enforce'
}

function strayAnnotationWarnings(subject: Subject, annotations: Record<string, string> | undefined): string[] {
  return Object.keys(annotations ?? {}).filter(isUserKey).map(key =>
    `${subjectName(subject)}: annotation ${key} has no effect without ${ANNOTATIONS.strategy} (canary, blue-green or ab)`)
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
  ]
  const format = (e: SpecError): string => formatError(subject, e, { sourceOf: resolution.sourceOf, homeOf: homeAnnotationOf })
  return {
    resolution,
    errors,
    rejections: errors.filter(e => !isAuditViolation(e, resolution.constraining)).map(format),
    warnings: errors.filter(e => isAuditViolation(e, resolution.constraining)).map(format),
  }
}

/** A Canary written by hand (or generated): fields are reported as spec.<path>. */
export function lintCanary(canary: unknown, context: Pick<LintContext, 'refs' | 'minIntervalMs'> = {}): string[] {
  const object = isPlainObject(canary) ? canary : {}
  const meta = isPlainObject(object.metadata) ? object.metadata : {}
  const namespace = typeof meta.namespace === 'string' ? meta.namespace : ''
  const subject: Subject = { kind: 'Canary', name: typeof meta.name === 'string' ? meta.name : '', namespace }
  const errors = object.spec === undefined
    ? [{ field: '', message: 'is required' }]
    : validateSpec(object.spec, { namespace, ...context })
  return formatErrors(subject, errors, { specPrefix: 'spec.' })
}

export function lintPolicy(policy: DeliveryPolicy): string[] {
  const subject: Subject = { kind: 'DeliveryPolicy', name: policy.metadata.name ?? '' }
  return formatErrors(subject, validatePolicy(policy), { specPrefix: 'spec.' })
}

function objectSubject(kind: string, object: unknown): { subject: Subject; spec: unknown } {
  const o = isPlainObject(object) ? object : {}
  const meta = isPlainObject(o.metadata) ? o.metadata : {}
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
