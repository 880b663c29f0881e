// Pure builders for the objects the deployer owns: `<target>-primary` (a copy of the target at one
// revision, selecting `<value>-primary` pods), `-primary` copies of tracked configs, and `<hpa>-primary`.
import type { V1ConfigMap, V1Deployment, V1DeploymentSpec, V1HorizontalPodAutoscaler, V1Secret, V2HorizontalPodAutoscaler } from '@kubernetes/client-node'
import { generatedMeta } from '../kube/generated.ts'
import { SELECTOR_LABELS, selectorLabel, type PodSelector } from '../api/selector.ts'
import { STATE_ANNOTATIONS, isStateKey, isUserKey } from '../api/annotations.ts'
import type { Canary } from '../api/types.ts'
import { primaryConfigName, withPrimaryConfigs } from './configs.ts'

export function primaryName(target: string): string {
  return `${target}-primary`
}

// Annotations that belong to the user's object or to tools acting on it, never copied to the primary.
const NOT_COPIED = ['kubectl.kubernetes.io/last-applied-configuration', 'deployment.kubernetes.io/revision']

function copiedAnnotations(annotations: Record<string, string> | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(annotations ?? {}).filter(([k]) => !isUserKey(k) && !isStateKey(k) && !NOT_COPIED.includes(k)))
}

/** The target's selector label; its value gains `-primary` on the primary. */
export function podSelectorOf(target: V1Deployment): PodSelector {
  const sel = selectorLabel(target.spec?.selector.matchLabels)
  if (!sel) {
    throw new Error(`Deployment ${target.metadata?.namespace ?? ''}/${target.metadata?.name ?? ''}: spec.selector.matchLabels has none of ${SELECTOR_LABELS.join(', ')}; add one so sluice can tell primary from canary pods`)
  }
  return sel
}

export interface PrimaryInput {
  readonly canary: Canary
  readonly target: V1Deployment
  readonly revision: string
  readonly replicas: number
  /** configKey()s of the configs with a `-primary` copy. */
  readonly tracked: ReadonlySet<string>
}

/**
 * The primary as server-side apply wants it. What Flagger copies on promotion: the template, strategy,
 * minReadySeconds, revisionHistoryLimit and progressDeadlineSeconds; labels and annotations of the target.
 */
export function primaryDeployment(p: PrimaryInput): V1Deployment {
  const { target } = p
  const sel = podSelectorOf(target)
  const primaryValue = primaryName(sel.value)
  const template = structuredClone(target.spec?.template ?? {})
  template.metadata = { ...template.metadata, labels: { ...template.metadata?.labels, [sel.label]: primaryValue } }
  if (template.spec) template.spec = withPrimaryConfigs(template.spec, p.tracked)
  const meta = generatedMeta(p.canary, primaryName(target.metadata?.name ?? ''), {
    labels: { ...target.metadata?.labels, [sel.label]: primaryValue },
    annotations: { ...copiedAnnotations(target.metadata?.annotations), [STATE_ANNOTATIONS.revision]: p.revision },
  })
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: meta,
    spec: { replicas: p.replicas, selector: { matchLabels: { [sel.label]: primaryValue } }, template, ...rolloutSettings(target.spec) },
  }
}

/** The rollout settings promotion copies with the template. */
function rolloutSettings(spec: V1DeploymentSpec | undefined): Partial<V1DeploymentSpec> {
  const copied: Partial<V1DeploymentSpec> = {}
  if (spec?.strategy) copied.strategy = spec.strategy
  if (spec?.minReadySeconds !== undefined) copied.minReadySeconds = spec.minReadySeconds
  if (spec?.revisionHistoryLimit !== undefined) copied.revisionHistoryLimit = spec.revisionHistoryLimit
  if (spec?.progressDeadlineSeconds !== undefined) copied.progressDeadlineSeconds = spec.progressDeadlineSeconds
  return copied
}

/** The `-primary` copy of a ConfigMap or Secret, owned by the Canary. */
export function primaryConfig(canary: Canary, source: V1ConfigMap | V1Secret, kind: 'configmap' | 'secret'): V1ConfigMap | V1Secret {
  const meta = generatedMeta(canary, primaryConfigName(source.metadata?.name ?? ''), {
    labels: source.metadata?.labels ?? {}, annotations: copiedAnnotations(source.metadata?.annotations),
  })
  if (kind === 'configmap') {
    const cm = source as V1ConfigMap
    return { apiVersion: 'v1', kind: 'ConfigMap', metadata: meta, ...(cm.data && { data: cm.data }), ...(cm.binaryData && { binaryData: cm.binaryData }) }
  }
  const s = source as V1Secret
  return { apiVersion: 'v1', kind: 'Secret', metadata: meta, ...(s.type && { type: s.type }), ...(s.data && { data: s.data }) }
}

/** The user's autoscaler named by autoscalerRef and its `-primary` copy, as the controller looks them up. */
export function autoscalerNames(canary: Canary): { source: string; primary: string } | undefined {
  const ref = canary.spec.autoscalerRef
  return ref ? { source: ref.name, primary: primaryName(ref.name) } : undefined
}

/** `<hpa>-primary`: the target's autoscaler pointed at the primary, with primaryScalerReplicas applied. */
export function primaryAutoscaler(canary: Canary, hpa: V2HorizontalPodAutoscaler): V2HorizontalPodAutoscaler | V1HorizontalPodAutoscaler {
  const ref = canary.spec.autoscalerRef
  const bounds = ref?.primaryScalerReplicas
  const spec = structuredClone(hpa.spec)
  spec.scaleTargetRef = { apiVersion: 'apps/v1', kind: 'Deployment', name: primaryName(canary.spec.targetRef.name) }
  if (bounds?.minReplicas !== undefined) spec.minReplicas = bounds.minReplicas
  if (bounds?.maxReplicas !== undefined) spec.maxReplicas = bounds.maxReplicas
  return {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: generatedMeta(canary, primaryName(hpa.metadata?.name ?? ''), { labels: hpa.metadata?.labels ?? {} }),
    spec,
  }
}
