// The effective Canary spec of a Deployment: policy defaults, then sluice.dev/spec, then the shorthands.
// The webhook validates it and the controller writes it as the Canary object, so both see the same spec.
import { parseAnnotations, policyName, ANNOTATIONS } from './annotations.ts'
import type { Source, SpecError } from './errors.ts'
import { deepMerge, parsePath, valueAt, type PathSegment } from '../util/merge.ts'
import { isRecord } from '../util/records.ts'
import { cloneJson } from '../util/json.ts'
import { choosePolicy } from './policy.ts'
import { API_VERSION, type Canary, type CanarySpec, type DeliveryPolicy, type PartialCanarySpec, type Strategy } from './types.ts'

export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by'
export const MANAGED_BY_VALUE = 'sluice'

/** The parts of an apps/v1 Deployment that resolution reads (a V1Deployment fits). */
export interface DeploymentLike {
  metadata?: {
    name?: string
    namespace?: string
    uid?: string
    labels?: Record<string, string>
    annotations?: Record<string, string>
  }
  spec?: { selector?: { matchLabels?: Record<string, string> } }
}

export interface ResolveContext {
  /** DeliveryPolicies from the informer cache. */
  readonly policies?: readonly DeliveryPolicy[]
  /** Labels of the Deployment's namespace, for the policies' namespaceSelector. */
  readonly namespaceLabels?: Readonly<Record<string, string>>
}

export interface Layer {
  readonly source: Source
  readonly value: PartialCanarySpec
}

export interface Resolution {
  /** Opted in by sluice.dev/strategy, or by an enforce policy that selects the Deployment. */
  readonly optedIn: boolean
  /** Undefined only when sluice.dev/strategy holds an unknown value (reported in errors). */
  readonly strategy?: Strategy
  readonly spec: CanarySpec
  /** Lowest precedence first. */
  readonly layers: readonly Layer[]
  /** The policy whose defaults were applied. */
  readonly policy?: DeliveryPolicy
  /** Every policy whose constraints apply. */
  readonly constraining: readonly DeliveryPolicy[]
  /** Problems found while reading the annotations and choosing the policy. */
  readonly errors: readonly SpecError[]
  /** Which layer supplied a field of `spec` (for error messages). */
  readonly sourceOf: (field: string) => Source | undefined
}

const PROGRESSION_FIELDS = ['stepWeight', 'stepWeights', 'iterations'] as const

// stepWeight, stepWeights and iterations are alternatives: a layer that sets one replaces the others from
// the layers under it, so a Deployment can choose stepWeights under a policy that defaults stepWeight.
function withoutProgression(spec: unknown): unknown {
  if (!isRecord(spec) || !isRecord(spec.analysis)) return spec
  const analysis = { ...spec.analysis }
  for (const key of PROGRESSION_FIELDS) delete analysis[key]
  return { ...spec, analysis }
}

function setsProgression(value: PartialCanarySpec): boolean {
  const analysis = value.analysis as Record<string, unknown> | undefined
  return PROGRESSION_FIELDS.some(key => analysis?.[key] !== undefined)
}

function mergeLayers(layers: readonly Layer[]): Record<string, unknown> {
  let merged: unknown = {}
  for (const layer of layers) merged = deepMerge(setsProgression(layer.value) ? withoutProgression(merged) : merged, layer.value)
  // A copy, so that neither later edits nor the caller's ever touch a cached DeliveryPolicy.
  return isRecord(merged) ? cloneJson(merged) : {}
}

// Fields a policy suggests for another strategy than the one chosen are dropped rather than reported:
// the user never wrote them.
const UNFIT_FOR: Record<Strategy, readonly string[]> = {
  'canary': ['iterations', 'match'],
  'blue-green': ['stepWeight', 'stepWeights', 'maxWeight', 'stepWeightPromotion', 'match'],
  'ab': ['stepWeight', 'stepWeights', 'maxWeight', 'stepWeightPromotion'],
}

function dropUnfitPolicyFields(spec: Record<string, unknown>, strategy: Strategy | undefined, sourceOf: (f: string) => Source | undefined): void {
  if (!strategy || !isRecord(spec.analysis)) return
  for (const key of UNFIT_FOR[strategy]) {
    if (spec.analysis[key] !== undefined && sourceOf(`analysis.${key}`)?.kind === 'policy') delete spec.analysis[key]
  }
}

function has(value: unknown, segments: readonly PathSegment[]): boolean {
  return valueAt(value, segments) !== undefined
}

function isWithin(field: string, root: string): boolean {
  return root === '' || field === root || field.startsWith(`${root}.`) || field.startsWith(`${root}[`)
}

function sourceFinder(layers: readonly Layer[], spec: unknown): (field: string) => Source | undefined {
  const highestFirst = [...layers].reverse()
  return field => {
    const segments = parsePath(field)
    if (has(spec, segments)) return highestFirst.find(l => has(l.value, segments))?.source
    // A missing field belongs to the annotation that holds its closest present parent, provided the
    // annotation can hold the field at all (sluice.dev/port holds service.port, not service.gatewayRefs).
    const holders = highestFirst.filter(l => l.source.kind === 'annotation' && isWithin(field, l.source.root))
    for (let n = segments.length - 1; n > 0; n--) {
      const prefix = segments.slice(0, n)
      if (!has(spec, prefix)) continue
      const owner = holders.find(l => has(l.value, prefix))
      if (owner) return owner.source
    }
    return undefined
  }
}

function policyLayer(policy: DeliveryPolicy | undefined): Layer[] {
  const defaults = policy?.spec.defaults
  if (!policy || !defaults) return []
  const { strategy: _strategy, ...value } = defaults
  return [{ source: { kind: 'policy', name: policy.metadata.name ?? '' }, value }]
}

function optedInByPolicy(constraining: readonly DeliveryPolicy[], named: DeliveryPolicy | undefined): boolean {
  return constraining.some(p => p !== named && p.spec.mode === 'enforce')
}

function policyStrategy(policy: DeliveryPolicy | undefined): Strategy {
  return policy?.spec.defaults?.strategy ?? 'canary'
}

/**
 * Whether the Deployment takes part (its strategy annotation, or an enforce policy), as resolve() says, without
 * reading the rest of its annotations: the controller asks on every reconcile.
 */
export function isOptedIn(deployment: DeploymentLike, context: ResolveContext = {}): boolean {
  const meta = deployment.metadata ?? {}
  if (meta.annotations?.[ANNOTATIONS.strategy] !== undefined) return true
  const named = policyName(meta.annotations)
  const choice = choosePolicy({
    ...(named !== undefined && { named }), policies: context.policies ?? [], namespaceLabels: context.namespaceLabels, labels: meta.labels,
  })
  return optedInByPolicy(choice.constraining, named !== undefined ? choice.policy : undefined)
}

export function resolve(deployment: DeploymentLike, context: ResolveContext = {}): Resolution {
  const meta = deployment.metadata ?? {}
  const annotations = parseAnnotations(meta.annotations)
  const choice = choosePolicy({
    ...(annotations.policy !== undefined && { named: annotations.policy }),
    policies: context.policies ?? [],
    namespaceLabels: context.namespaceLabels,
    labels: meta.labels,
  })
  const strategyAnnotated = meta.annotations?.[ANNOTATIONS.strategy] !== undefined
  const optedIn = strategyAnnotated || optedInByPolicy(choice.constraining, annotations.policy ? choice.policy : undefined)
  const strategy = strategyAnnotated ? annotations.strategy : policyStrategy(choice.policy)
  const layers: Layer[] = [
    ...policyLayer(choice.policy),
    ...annotations.layers.map(l => ({ source: { kind: 'annotation', key: l.key, root: l.root } as const, value: l.value })),
  ]
  const merged = mergeLayers(layers)
  dropUnfitPolicyFields(merged, strategy, sourceFinder(layers, merged))
  const spec = { ...merged, targetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: meta.name ?? '' } } as CanarySpec
  return {
    optedIn,
    ...(strategy && { strategy }),
    spec,
    layers,
    ...(choice.policy && { policy: choice.policy }),
    constraining: choice.constraining,
    errors: [...annotations.errors, ...(choice.error ? [choice.error] : [])],
    sourceOf: sourceFinder(layers, spec),
  }
}

/** The Canary sluice generates for a Deployment: same name, owned by the Deployment so it goes with it. */
export function buildCanary(deployment: DeploymentLike, spec: CanarySpec): Canary {
  const meta = deployment.metadata ?? {}
  const name = meta.name ?? spec.targetRef.name
  return {
    apiVersion: API_VERSION,
    kind: 'Canary',
    metadata: {
      name,
      ...(meta.namespace && { namespace: meta.namespace }),
      labels: { [MANAGED_BY_LABEL]: MANAGED_BY_VALUE },
      ownerReferences: [{
        apiVersion: 'apps/v1', kind: 'Deployment', name, uid: meta.uid ?? '', controller: true, blockOwnerDeletion: true,
      }],
    },
    spec,
  }
}
