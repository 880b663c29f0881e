// Semantic validation of a Canary spec: the structural check against schema.ts (the CRD schema), then the
// rules a schema cannot express. Used by the webhook, the controller and `sluice lint` alike.
import { asWritten, oldNameWarnings, withCurrentNames } from './compat.ts'
import { MIN_INTERVAL_MS, strategyOf, DEFAULTS } from './defaults.ts'
import { formatDuration, parseDuration } from '../util/duration.ts'
import type { SpecError } from './errors.ts'
import { isRecord } from '../util/records.ts'
import {
  isImplementedProvider, providerUnavailable, FIELD_VALUES, unavailableOptions,
} from './capabilities.ts'
import { contourSpecErrors } from './contour.ts'
import { istioSpecErrors } from './istio.ts'
import { canonicalProvider, PROVIDER_TRAITS, providersWith, type ProviderTraits } from './providers.ts'
import { checkSchema } from './schema-check.ts'
import { canarySpecSchema, deliveryPolicySpecSchema } from './schema.ts'
import type {
  CanaryAlert, CanaryAnalysis, CanaryMetric, CanarySpec, CanaryWebhook, DeliveryPolicy, Provider, Strategy,
} from './types.ts'
import { PROVIDERS } from './types.ts'
import { SELECTOR_LABELS, selectorLabel } from './selector.ts'

/** Answers from the caller's cache (the webhook's informers); no API calls happen here. */
export interface RefLookup {
  metricTemplate(namespace: string, name: string): boolean
  alertProvider(namespace: string, name: string): boolean
}

export interface ValidateOptions {
  /** The declared strategy (sluice.dev/strategy); derived from the spec when absent. */
  readonly strategy?: Strategy
  /** Namespace of the Canary, for references without a namespace. */
  readonly namespace?: string
  /** Without it, references are not checked (e.g. an offline lint). */
  readonly refs?: RefLookup
  /** The target's spec.selector.matchLabels; checked when given. */
  readonly selectorLabels?: Readonly<Record<string, string>>
  /** Shortest analysis interval accepted; tests lower it. */
  readonly minIntervalMs?: number
}

export const BUILTIN_METRICS = ['request-success-rate', 'request-duration'] as const

const REQUIRED_HINTS: Record<string, string> = {
  'service.port': 'the port the app serves on, between 1 and 65535, e.g. 9898',
  'targetRef': 'the Deployment to release',
}

const err = (field: string, message: string): SpecError => ({ field, message })
const warn = (field: string, message: string): SpecError => ({ field, message, severity: 'warning' })
const isInt = (v: unknown): v is number => Number.isInteger(v)
const list = <T>(v: T[] | undefined): T[] => (Array.isArray(v) ? v : [])

function canaryProgression(a: CanaryAnalysis, skip: boolean): SpecError[] {
  const errors: SpecError[] = []
  if (a.iterations !== undefined) {
    errors.push(err('analysis.iterations', 'is for strategies blue-green and ab; strategy canary moves traffic by stepWeight or stepWeights'))
  }
  if (a.stepWeight === undefined && a.stepWeights === undefined && !skip) {
    errors.push(err('analysis.stepWeight', 'is required for strategy canary, e.g. stepWeight: 20 (or give stepWeights, e.g. [5, 10, 25, 50])'))
  }
  return errors
}

function iterationProgression(a: CanaryAnalysis, strategy: Strategy, skip: boolean): SpecError[] {
  const errors: SpecError[] = []
  if (a.iterations === undefined && !skip) {
    errors.push(err('analysis.iterations', `is required for strategy ${strategy}: the number of checks before promotion, e.g. iterations: 10`))
  }
  for (const key of ['stepWeight', 'stepWeights', 'maxWeight', 'stepWeightPromotion', 'sessionAffinity'] as const) {
    if (a[key] !== undefined) {
      errors.push(err(`analysis.${key}`, `is for strategy canary; strategy ${strategy} runs iterations, then moves all traffic at once; remove it`))
    }
  }
  return errors
}

// With stepWeights the ladder is the whole plan: stepWeight and maxWeight beside it (common in Canaries
// written for Flagger) are accepted but ignored, and the user is told so. Flagger too takes the last step as
// the maximum and ignores maxWeight; see README "Coming from Flagger" for its stepWeight.
function ladderErrors(a: CanaryAnalysis): SpecError[] {
  const errors: SpecError[] = []
  const ladder = a.stepWeights
  if (!Array.isArray(ladder)) return errors
  ladder.forEach((weight, i) => {
    const before = ladder[i - 1]
    if (i > 0 && isInt(weight) && isInt(before) && weight <= before) {
      errors.push(err(`analysis.stepWeights[${i}]`, `must be greater than the step before it (got ${weight} after ${before}); stepWeights must be strictly increasing, e.g. [5, 10, 25, 50]`))
    }
  })
  const steps = ladder.join(', ')
  if (a.stepWeight !== undefined) {
    errors.push(warn('analysis.stepWeight', `is ignored: stepWeights sets every step (${steps}); remove stepWeight`))
  }
  const last = ladder[ladder.length - 1]
  if (a.maxWeight !== undefined && isInt(last) && a.maxWeight !== last) {
    errors.push(warn('analysis.maxWeight', `is ignored: the last of stepWeights (${last}) is the maximum; remove maxWeight`))
  }
  return errors
}

function matchErrors(a: CanaryAnalysis, strategy: Strategy): SpecError[] {
  const hasMatch = a.match !== undefined
  if (strategy === 'ab' && !hasMatch) {
    return [err('analysis.match', 'is required for strategy ab: the requests routed to the canary, e.g. [{headers: {x-canary: {exact: insider}}}]')]
  }
  if (strategy !== 'ab' && hasMatch) {
    return [err('analysis.match', `is only used by strategy ab (the strategy is ${strategy}); remove it, or use strategy ab with iterations`)]
  }
  return []
}

function intervalErrors(a: CanaryAnalysis, deadlineSeconds: unknown, floorMs: number): SpecError[] {
  if (typeof a.interval !== 'string') return []
  const ms = parseDuration(a.interval)
  if (ms === undefined) return []
  if (ms < floorMs) return [err('analysis.interval', `must be at least ${formatDuration(floorMs)} (got ${a.interval})`)]
  // Progress is only marked at a tick: with the deadline within one interval, the first tick that cannot
  // progress (a metric without data, a canary not ready yet) is already past it and rolls back.
  const deadline = typeof deadlineSeconds === 'number' ? deadlineSeconds : DEFAULTS.progressDeadlineSeconds
  if (ms < deadline * 1000) return []
  return [warn('analysis.interval', `(${a.interval}) is not shorter than progressDeadlineSeconds (${deadline}): one interval without progress rolls back; make the deadline a few intervals long`)]
}

function rangeHint(name: string): string {
  if (name === 'request-success-rate') return 'e.g. thresholdRange: {min: 99} (percent)'
  if (name === 'request-duration') return 'e.g. thresholdRange: {max: 500} (milliseconds)'
  return 'e.g. thresholdRange: {max: 1}'
}

function metricKindErrors(m: CanaryMetric, at: string): SpecError[] {
  const builtin = (BUILTIN_METRICS as readonly string[]).includes(m.name)
  if (builtin || m.templateRef !== undefined || m.query !== undefined) return []
  return [err(at, `${JSON.stringify(m.name)} is neither a builtin metric (${BUILTIN_METRICS.join(', ')}) nor has a templateRef; add templateRef: {name: <MetricTemplate>}`)]
}

function metricRangeErrors(m: CanaryMetric, at: string): SpecError[] {
  const range = m.thresholdRange
  if (!isRecord(range)) {
    return m.threshold === undefined ? [err(`${at}.thresholdRange`, `is required: the accepted values of ${m.name}, ${rangeHint(m.name)}`)] : []
  }
  if (range.min === undefined && range.max === undefined) {
    return [err(`${at}.thresholdRange`, `must set min, max or both, ${rangeHint(m.name)}`)]
  }
  if (typeof range.min === 'number' && typeof range.max === 'number' && range.min > range.max) {
    return [err(`${at}.thresholdRange`, `has min ${range.min} above max ${range.max}, so no value could pass; swap them`)]
  }
  return []
}

function metricRefErrors(m: CanaryMetric, at: string, namespace: string, refs: RefLookup | undefined): SpecError[] {
  const ref = m.templateRef
  if (!refs || !isRecord(ref) || typeof ref.name !== 'string') return []
  const ns = ref.namespace ?? namespace
  if (refs.metricTemplate(ns, ref.name)) return []
  return [err(`${at}.templateRef`, `names MetricTemplate ${ns}/${ref.name}, which does not exist; create it or fix the name`)]
}

function metricErrors(m: CanaryMetric, i: number, namespace: string, refs: RefLookup | undefined): SpecError[] {
  const at = `analysis.metrics[${i}]`
  return [...metricKindErrors(m, at), ...metricRangeErrors(m, at), ...metricRefErrors(m, at, namespace, refs)]
}

function webhookErrors(w: CanaryWebhook, i: number): SpecError[] {
  if (typeof w.url !== 'string' || w.url === '') return []
  let protocol = ''
  try {
    protocol = new URL(w.url).protocol
  } catch {
    protocol = ''
  }
  if (protocol === 'http:' || protocol === 'https:') return []
  return [err(`analysis.webhooks[${i}].url`, `must be an http:// or https:// URL (got ${JSON.stringify(w.url)})`)]
}

function alertErrors(a: CanaryAlert, i: number, namespace: string, refs: RefLookup | undefined): SpecError[] {
  const ref = a.providerRef
  if (!refs || !isRecord(ref) || typeof ref.name !== 'string') return []
  const ns = ref.namespace ?? namespace
  if (refs.alertProvider(ns, ref.name)) return []
  return [err(`analysis.alerts[${i}].providerRef`, `names AlertProvider ${ns}/${ref.name}, which does not exist; create it or fix the name`)]
}

function duplicateNames(entries: { name?: unknown }[], at: string): SpecError[] {
  const seen = new Map<unknown, number>()
  const errors: SpecError[] = []
  entries.forEach((entry, i) => {
    const first = seen.get(entry.name)
    if (first !== undefined) errors.push(err(`${at}[${i}].name`, `repeats the name of ${at.split('.').pop()}[${first}] (${String(entry.name)}); names must be unique`))
    else seen.set(entry.name, i)
  })
  return errors
}

function checkErrors(a: CanaryAnalysis, namespace: string, refs: RefLookup | undefined): SpecError[] {
  const metrics = list(a.metrics).filter(isRecord)
  const webhooks = list(a.webhooks).filter(isRecord)
  const alerts = list(a.alerts).filter(isRecord)
  const affinity = a.sessionAffinity
  return [
    ...metrics.flatMap((m, i) => metricErrors(m, i, namespace, refs)),
    ...duplicateNames(metrics, 'analysis.metrics'),
    ...webhooks.flatMap(webhookErrors),
    ...duplicateNames(webhooks, 'analysis.webhooks'),
    ...alerts.flatMap((al, i) => alertErrors(al, i, namespace, refs)),
    ...(affinity?.primaryCookieName !== undefined && affinity.primaryCookieName === affinity.cookieName
      ? [err('analysis.sessionAffinity.primaryCookieName', `must differ from cookieName (both are ${JSON.stringify(affinity.cookieName)})`)]
      : []),
  ]
}

function providerPhrase(spec: CanarySpec): string {
  return spec.provider === undefined ? `defaults to ${DEFAULTS.provider}, which` : `${spec.provider}`
}

function strategyCapabilityErrors(spec: CanarySpec, strategy: Strategy, traits: ProviderTraits): SpecError[] {
  if (strategy === 'canary' && !traits.weighted && !spec.skipAnalysis) {
    return [err('provider', `${providerPhrase(spec)} cannot send a share of traffic to the canary; strategy canary needs one of ${providersWith('weighted').join(', ')} (or use strategy blue-green)`)]
  }
  if (strategy === 'ab' && !traits.abTesting) {
    return [err('provider', `${providerPhrase(spec)} cannot route requests by header or cookie; strategy ab needs one of ${providersWith('abTesting').join(', ')}`)]
  }
  if (strategy === 'ab' && traits.abRequires !== undefined && !REQUIRED_BY_PROVIDER[traits.abRequires](spec)) {
    const svc = spec.service?.name ?? spec.targetRef?.name ?? '<service>'
    return [err('analysis.match', `cannot be routed by ${spec.provider}'s SMI TrafficSplit, which splits by weight alone; ` +
      `set service.gatewayRefs to the apex Service, e.g. [{group: "", kind: Service, name: ${svc}, port: ${spec.service?.port ?? '<port>'}}], ` +
      'so that sluice writes a Gateway API HTTPRoute, which Linkerd routes by header (or use strategy canary)')]
  }
  return []
}

const REQUIRED_BY_PROVIDER: Record<NonNullable<ProviderTraits['requires']>, (spec: CanarySpec) => boolean> = {
  'ingressRef': spec => spec.ingressRef !== undefined,
  'service.gatewayRefs': spec => list(spec.service?.gatewayRefs).length > 0,
  'routeRef': spec => spec.routeRef !== undefined,
}

const REQUIRED_WHY: Record<NonNullable<ProviderTraits['requires']>, string> = {
  'ingressRef': 'the Ingress whose traffic sluice splits, e.g. ingressRef: {apiVersion: networking.k8s.io/v1, kind: Ingress, name: podinfo}',
  'service.gatewayRefs': 'the Gateways the HTTPRoute attaches to, e.g. [{name: public, namespace: gateways}]',
  'routeRef': 'the ApisixRoute whose traffic sluice splits, e.g. routeRef: {apiVersion: apisix.apache.org/v2, kind: ApisixRoute, name: podinfo}',
}

/** What this version of sluice cannot run with `provider` (see capabilities.ts): refused, never ignored. */
function capabilityErrors(spec: CanarySpec, strategy: Strategy, provider: Provider): SpecError[] {
  if (!isImplementedProvider(provider)) return [err('provider', providerUnavailable(provider))]
  const traits = PROVIDER_TRAITS[provider]
  const required = traits.requires
  const missing = required !== undefined && !REQUIRED_BY_PROVIDER[required](spec)
  const strategyErrors = strategyCapabilityErrors(spec, strategy, traits)
  // A provider that cannot do A/B already says so; its match would only repeat it.
  const options = unavailableOptions(spec, provider)
    .filter(o => strategyErrors.length === 0 || !o.field.startsWith('analysis.match'))
  return [
    ...strategyErrors,
    ...options.map(o => err(o.field, o.message)),
    ...(missing ? [err(required, `is required with provider ${provider}: ${REQUIRED_WHY[required]}`)] : []),
    ...(provider === 'istio' ? istioSpecErrors(spec) : []),
    ...(provider === 'contour' ? contourSpecErrors(spec) : []),
  ]
}

/** A reference whose kind or apiVersion names something sluice does not read (e.g. a DaemonSet target). */
function referenceErrors(spec: CanarySpec): SpecError[] {
  const errors: SpecError[] = []
  const check = (path: string, value: unknown): void => {
    const rule = FIELD_VALUES[path.replace(/\[\d+\]/g, '')]
    if (rule === undefined || value === undefined || rule.values.includes(value as string)) return
    errors.push(err(path, `must be ${rule.values.join(' or ')} (got ${JSON.stringify(value)}): ${rule.why}`))
  }
  // targetRef.kind has its own message (targetErrors); another kind makes its apiVersion moot.
  if (isRecord(spec.targetRef) && (spec.targetRef.kind ?? 'Deployment') === 'Deployment') check('targetRef.apiVersion', spec.targetRef.apiVersion)
  for (const ref of ['autoscalerRef', 'ingressRef'] as const) {
    const r = spec[ref] as Record<string, unknown> | undefined
    if (isRecord(r)) { check(`${ref}.apiVersion`, r.apiVersion); check(`${ref}.kind`, r.kind) }
  }
  if (isRecord(spec.service) && isRecord(spec.service.rewrite)) check('service.rewrite.type', spec.service.rewrite.type)
  list(spec.analysis?.metrics).forEach((m, i) => {
    if (isRecord(m) && isRecord(m.templateRef)) {
      check(`analysis.metrics[${i}].templateRef.apiVersion`, m.templateRef.apiVersion)
      check(`analysis.metrics[${i}].templateRef.kind`, m.templateRef.kind)
    }
  })
  list(spec.analysis?.alerts).forEach((a, i) => {
    if (isRecord(a) && isRecord(a.providerRef)) {
      check(`analysis.alerts[${i}].providerRef.apiVersion`, a.providerRef.apiVersion)
      check(`analysis.alerts[${i}].providerRef.kind`, a.providerRef.kind)
    }
  })
  return errors
}

function targetErrors(spec: CanarySpec): SpecError[] {
  const kind = isRecord(spec.targetRef) ? spec.targetRef.kind : undefined
  if (kind === undefined || kind === 'Deployment') return []
  if (kind === 'DaemonSet') {
    // Flagger scales a DaemonSet "to zero" with a nodeSelector; sluice runs a primary and a canary Deployment.
    return [err('targetRef.kind', 'is DaemonSet, which sluice does not release (it delivers Deployments only, through a primary and a canary Deployment); run the app as a Deployment and set targetRef.kind: Deployment, or keep this app out of sluice')]
  }
  return [err('targetRef.kind', `must be Deployment: sluice releases Deployments only (got ${JSON.stringify(kind)})`)]
}

/** Errors about the Deployment's own selector, which sluice relabels for the primary's pods. */
export function selectorErrors(matchLabels: Readonly<Record<string, string>>): SpecError[] {
  const sel = selectorLabel(matchLabels)
  if (sel === undefined) {
    return [{
      field: 'spec.selector.matchLabels', scope: 'deployment',
      message: `must contain one of the labels ${SELECTOR_LABELS.join(', ')}: sluice tells the primary's pods from the canary's by it (e.g. app: podinfo)`,
    }]
  }
  const { label: key, value } = sel
  if (`${value}-primary`.length > 63) {
    return [{
      field: `spec.selector.matchLabels.${key}`, scope: 'deployment',
      message: `must be at most 55 characters so that "${value}-primary" is a valid label value (got ${value.length})`,
    }]
  }
  return []
}

/**
 * The provider to check capabilities against. A provider string that names no router gets the capability
 * table's message, which lists only what runs, instead of the schema's list of every name.
 */
function providerOf(spec: CanarySpec, structural: SpecError[]): { provider?: Provider; structural: SpecError[] } {
  const named = spec.provider ?? DEFAULTS.provider
  if ((PROVIDERS as readonly unknown[]).includes(named)) return { provider: canonicalProvider(named), structural }
  if (typeof named !== 'string') return { structural }
  return { structural: [...structural.filter(e => e.field !== 'provider'), err('provider', providerUnavailable(named))] }
}

/** Every problem of a Canary spec, structural and semantic. `spec` may be anything a user wrote. */
export function validateSpec(spec: unknown, options: ValidateOptions = {}): SpecError[] {
  // Without a service block the useful message is about its one required field, service.port, which
  // a Deployment sets with sluice.dev/port.
  const forSchema = isRecord(spec) && spec.service === undefined ? { ...spec, service: {} } : spec
  const structural = checkSchema(forSchema, canarySpecSchema, { requiredHints: REQUIRED_HINTS })
  if (!isRecord(spec)) return structural
  // Flagger's old name canaryAnalysis is checked as analysis, and its findings named as the user wrote them.
  const typed = withCurrentNames(spec) as unknown as CanarySpec
  const analysis: CanaryAnalysis = isRecord(typed.analysis) ? typed.analysis : {}
  const strategy = options.strategy ?? strategyOf({ analysis })
  const skip = typed.skipAnalysis === true
  const { provider, structural: checked } = providerOf(typed, structural)
  const namespace = options.namespace ?? ''
  const semantic = [
    ...targetErrors(typed),
    ...referenceErrors(typed),
    ...(strategy === 'canary' ? canaryProgression(analysis, skip) : iterationProgression(analysis, strategy, skip)),
    ...ladderErrors(analysis),
    ...matchErrors(analysis, strategy),
    ...intervalErrors(analysis, typed.progressDeadlineSeconds, options.minIntervalMs ?? MIN_INTERVAL_MS),
    ...checkErrors(analysis, namespace, options.refs),
    ...(provider ? capabilityErrors(typed, strategy, provider) : []),
    ...(options.selectorLabels ? selectorErrors(options.selectorLabels) : []),
  ]
  return [...checked, ...oldNameWarnings(spec), ...asWritten(spec, semantic)]
}

/** Defaults that no Deployment could run with this version: an unavailable provider, or an option nothing reads yet. */
function policyCapabilityErrors(defaults: Record<string, unknown>): SpecError[] {
  const provider = defaults.provider
  if (typeof provider === 'string' && !isImplementedProvider(provider)) return [err('defaults.provider', providerUnavailable(provider))]
  // Which router reads an option depends on each Deployment; only what no router reads yet is certain here.
  return unavailableOptions(defaults, 'kubernetes')
    .filter(o => o.message.startsWith('is not available yet'))
    .map(o => err(`defaults.${o.field}`, o.message))
}

/** Problems of a DeliveryPolicy itself, with fields relative to its spec. */
export function validatePolicy(policy: DeliveryPolicy): SpecError[] {
  const errors = checkSchema(policy.spec, deliveryPolicySpecSchema)
  const defaults = isRecord(policy.spec?.defaults) ? policy.spec.defaults : {}
  const a = isRecord(defaults.analysis) ? defaults.analysis : {}
  if (a.stepWeight !== undefined && a.stepWeights !== undefined) {
    errors.push(err('defaults.analysis.stepWeights', 'cannot be combined with stepWeight; keep one of them'))
  }
  errors.push(...policyCapabilityErrors(defaults))
  const max = policy.spec?.constraints?.maxStepWeight
  if (isInt(max) && isInt(a.stepWeight) && a.stepWeight > max) {
    errors.push(err('defaults.analysis.stepWeight', `must be at most constraints.maxStepWeight (${max}) (got ${a.stepWeight})`))
  }
  return errors
}
