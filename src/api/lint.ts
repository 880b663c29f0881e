// One call per object kind for the webhook, the controller and `sluice lint`: resolve, validate, check the
// policies, and word every problem the same way.
import { ANNOTATIONS, homeAnnotationOf, isUserKey } from './annotations.ts'
import { OLD_ANALYSIS } from './compat.ts'
import { formatError, formatErrors, isWarning, type SpecError, type Subject } from './errors.ts'
import { isRecord } from '../util/records.ts'
import { checkConstraints } from './policy.ts'
import { resolve, type DeploymentLike, type Resolution, type ResolveContext } from './resolve.ts'
import type { DeliveryPolicy } from './types.ts'
import { validatePolicy, validateSpec, type ValidateOptions } from './validate.ts'
import { validateAlertProvider, validateMetricTemplate } from './validate-resources.ts'

export type LintContext = ResolveContext & Pick<ValidateOptions, 'refs' | 'minIntervalMs'>

/** One problem with the sentence users read: `rejects` when it denies the request, else an admission warning. */
export interface Finding {
  readonly error: SpecError
  readonly text: string
  readonly rejects: boolean
}

export interface DeploymentReport {
  readonly resolution: Resolution
  readonly errors: readonly SpecError[]
  /** `errors` and the stray annotations, each with its sentence, in the order of rejections and warnings. */
  readonly findings: readonly Finding[]
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

function strayAnnotations(annotations: Record<string, string> | undefined): SpecError[] {
  return Object.keys(annotations ?? {}).filter(isUserKey).map(key => ({
    field: key, scope: 'annotation', severity: 'warning', message: `has no effect without ${ANNOTATIONS.strategy} (canary, blue-green or ab)`,
  }))
}

function report(resolution: Resolution, errors: readonly SpecError[], findings: readonly Finding[]): DeploymentReport {
  return {
    resolution, errors, findings,
    rejections: findings.filter(f => f.rejects).map(f => f.text),
    warnings: findings.filter(f => !f.rejects).map(f => f.text),
  }
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
    return report(resolution, [], strayAnnotations(meta.annotations).map(e => ({ error: e, text: formatError(subject, e), rejects: false })))
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
  const finding = (e: SpecError): Finding => ({
    error: e,
    text: formatError(subject, e, { sourceOf: resolution.sourceOf, homeOf: homeAnnotationOf }),
    rejects: !isWarning(e) && !isAuditViolation(e, resolution.constraining),
  })
  const findings = errors.map(finding)
  return report(resolution, errors, [...findings.filter(f => f.rejects), ...findings.filter(f => !f.rejects)])
}

// A Canary's warnings are admission warnings; every problem of the other kinds denies the write.
function specFindings(subject: Subject, errors: readonly SpecError[], warningsReject = true): Finding[] {
  const texts = formatErrors(subject, errors, { specPrefix: 'spec.' })
  return errors.map((error, i) => ({ error, text: texts[i] ?? '', rejects: warningsReject || !isWarning(error) }))
}

const texts = (findings: readonly Finding[], rejects: boolean): string[] => findings.filter(f => f.rejects === rejects).map(f => f.text)

/** A Canary written by hand (or generated), each problem with its sentence; fields are spec.<path>. */
export function canaryFindings(canary: unknown, context: Pick<LintContext, 'refs' | 'minIntervalMs'> = {}): Finding[] {
  const object = isRecord(canary) ? canary : {}
  const meta = isRecord(object.metadata) ? object.metadata : {}
  const namespace = typeof meta.namespace === 'string' ? meta.namespace : ''
  const subject: Subject = { kind: 'Canary', name: typeof meta.name === 'string' ? meta.name : '', namespace }
  const errors: SpecError[] = object.spec === undefined
    ? [{ field: '', message: 'is required' }]
    : validateSpec(object.spec, { namespace, ...context })
  return specFindings(subject, errors, false)
}

/** A Canary written by hand (or generated): fields are reported as spec.<path>. */
export function lintCanary(canary: unknown, context: Pick<LintContext, 'refs' | 'minIntervalMs'> = {}): CanaryReport {
  const findings = canaryFindings(canary, context)
  return { rejections: texts(findings, true), warnings: texts(findings, false) }
}

export function policyFindings(policy: DeliveryPolicy): Finding[] {
  return specFindings({ kind: 'DeliveryPolicy', name: policy.metadata.name ?? '' }, validatePolicy(policy))
}

export function lintPolicy(policy: DeliveryPolicy): string[] {
  return policyFindings(policy).map(f => f.text)
}

function objectSubject(kind: string, object: unknown): { subject: Subject; spec: unknown } {
  const o = isRecord(object) ? object : {}
  const meta = isRecord(o.metadata) ? o.metadata : {}
  const name = typeof meta.name === 'string' ? meta.name : ''
  const namespace = typeof meta.namespace === 'string' ? meta.namespace : undefined
  return { subject: { kind, name, ...(namespace && { namespace }) }, spec: o.spec }
}

export function metricTemplateFindings(template: unknown): Finding[] {
  const { subject, spec } = objectSubject('MetricTemplate', template)
  return specFindings(subject, spec === undefined ? [{ field: '', message: 'is required' }] : validateMetricTemplate(spec))
}

export function lintMetricTemplate(template: unknown): string[] {
  return metricTemplateFindings(template).map(f => f.text)
}

export function alertProviderFindings(provider: unknown): Finding[] {
  const { subject, spec } = objectSubject('AlertProvider', provider)
  return specFindings(subject, spec === undefined ? [{ field: '', message: 'is required' }] : validateAlertProvider(spec))
}

export function lintAlertProvider(provider: unknown): string[] {
  return alertProviderFindings(provider).map(f => f.text)
}
