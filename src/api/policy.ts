// Which DeliveryPolicy applies to a Deployment, and whether its spec keeps the policy's constraints.
import { DEFAULTS, intervalMs, strategyOf } from './defaults.ts'
import { formatDuration, parseDuration } from '../util/duration.ts'
import type { SpecError } from './errors.ts'
import { canonicalProvider } from './providers.ts'
import type { CanarySpec, DeliveryPolicy, LabelSelector, LabelSelectorRequirement } from './types.ts'

type Labels = Readonly<Record<string, string>> | undefined

function requirementHolds(req: LabelSelectorRequirement, labels: Labels): boolean {
  const value = labels?.[req.key]
  switch (req.operator) {
    case 'In': return value !== undefined && (req.values ?? []).includes(value)
    case 'NotIn': return value === undefined || !(req.values ?? []).includes(value)
    case 'Exists': return value !== undefined
    case 'DoesNotExist': return value === undefined
    default: return false
  }
}

/** Kubernetes label selector semantics; an empty or missing selector selects everything. */
export function matchesSelector(selector: LabelSelector | undefined, labels: Labels): boolean {
  const exact = Object.entries(selector?.matchLabels ?? {}).every(([k, v]) => labels?.[k] === v)
  return exact && (selector?.matchExpressions ?? []).every(req => requirementHolds(req, labels))
}

export function policyApplies(policy: DeliveryPolicy, namespaceLabels: Labels, labels: Labels): boolean {
  return matchesSelector(policy.spec.namespaceSelector, namespaceLabels) && matchesSelector(policy.spec.selector, labels)
}

export interface PolicyChoice {
  /** The policy whose defaults sit under the Deployment's annotations. */
  readonly policy?: DeliveryPolicy
  /** Every policy whose constraints the spec must keep: the named one and all that select the Deployment. */
  readonly constraining: readonly DeliveryPolicy[]
  readonly error?: SpecError
}

function byModeThenName(a: DeliveryPolicy, b: DeliveryPolicy): number {
  const rank = (p: DeliveryPolicy): number => (p.spec.mode === 'enforce' ? 0 : 1)
  return rank(a) - rank(b) || (a.metadata.name ?? '').localeCompare(b.metadata.name ?? '')
}

export interface PolicyInput {
  /** The sluice.dev/policy annotation, if set. */
  readonly named?: string
  readonly policies: readonly DeliveryPolicy[]
  readonly namespaceLabels?: Labels
  readonly labels?: Labels
}

/**
 * A named policy supplies the defaults; otherwise the first selecting policy does (enforce before audit,
 * then by name, so the choice is stable). Naming a lax policy never escapes an enforcing one: every
 * selecting policy still constrains.
 */
export function choosePolicy(input: PolicyInput): PolicyChoice {
  const selecting = input.policies.filter(p => policyApplies(p, input.namespaceLabels, input.labels)).sort(byModeThenName)
  if (input.named === undefined) return { ...(selecting[0] && { policy: selecting[0] }), constraining: selecting }
  const named = input.policies.find(p => p.metadata.name === input.named)
  if (!named) {
    return {
      constraining: selecting,
      error: {
        field: 'sluice.dev/policy', scope: 'annotation',
        message: `names DeliveryPolicy ${input.named}, which does not exist; create it or fix the name (kubectl get deliverypolicies)`,
      },
    }
  }
  return { policy: named, constraining: [named, ...selecting.filter(p => p !== named)] }
}

function stepErrors(spec: CanarySpec, max: number, name: string): SpecError[] {
  const analysis = spec.analysis
  if (analysis?.stepWeight !== undefined && analysis.stepWeight > max) {
    return [{ field: 'analysis.stepWeight', policy: name, message: `must be at most ${max} under DeliveryPolicy ${name} (got ${analysis.stepWeight})` }]
  }
  const errors: SpecError[] = []
  let previous = 0
  for (const [i, weight] of (analysis?.stepWeights ?? []).entries()) {
    if (weight - previous > max) {
      errors.push({
        field: `analysis.stepWeights[${i}]`, policy: name,
        message: `rises by ${weight - previous} (from ${previous} to ${weight}); DeliveryPolicy ${name} allows at most ${max} per step`,
      })
    }
    previous = weight
  }
  return errors
}

function intervalErrors(spec: CanarySpec, minInterval: string, name: string): SpecError[] {
  const floor = parseDuration(minInterval)
  const actual = intervalMs(spec.analysis)
  if (floor === undefined || actual >= floor) return []
  const got = spec.analysis?.interval ?? `the default ${DEFAULTS.interval}`
  return [{ field: 'analysis.interval', policy: name, message: `must be at least ${formatDuration(floor)} under DeliveryPolicy ${name} (got ${got})` }]
}

function metricErrors(spec: CanarySpec, required: readonly string[], name: string): SpecError[] {
  if (required.length === 0) return []
  if (spec.skipAnalysis) {
    return [{ field: 'skipAnalysis', policy: name, message: `must not be true: DeliveryPolicy ${name} requires the metrics ${required.join(', ')}` }]
  }
  const present = new Set((spec.analysis?.metrics ?? []).map(m => m.name))
  const missing = required.filter(m => !present.has(m))
  if (missing.length === 0) return []
  return [{ field: 'analysis.metrics', policy: name, message: `must include ${missing.join(', ')}: DeliveryPolicy ${name} requires ${missing.length === 1 ? 'it' : 'them'}` }]
}

function providerErrors(spec: CanarySpec, allowed: readonly string[], name: string): SpecError[] {
  const provider = canonicalProvider(spec.provider ?? DEFAULTS.provider)
  if (allowed.some(p => canonicalProvider(p as typeof provider) === provider)) return []
  const got = spec.provider ?? `the default ${DEFAULTS.provider}`
  return [{ field: 'provider', policy: name, message: `must be one of ${allowed.join(', ')} under DeliveryPolicy ${name} (got ${got})` }]
}

/** Violations of one policy's constraints, each naming the policy. */
export function checkConstraints(spec: CanarySpec, policy: DeliveryPolicy): SpecError[] {
  const c = policy.spec.constraints
  if (!c) return []
  const name = policy.metadata.name ?? '(unnamed)'
  const canary = strategyOf(spec) === 'canary'
  return [
    ...(c.maxStepWeight !== undefined && canary ? stepErrors(spec, c.maxStepWeight, name) : []),
    ...(c.minInterval !== undefined ? intervalErrors(spec, c.minInterval, name) : []),
    ...metricErrors(spec, c.requiredMetrics ?? [], name),
    ...(c.allowedProviders !== undefined ? providerErrors(spec, c.allowedProviders, name) : []),
  ]
}
