// The sluice.dev/v1beta1 object model: Flagger's Canary, MetricTemplate and AlertProvider shapes, plus
// DeliveryPolicy. Plain data types only; schema.ts describes the same shapes for the API server.

export const GROUP = 'sluice.dev'
export const VERSION = 'v1beta1'
export const API_VERSION = `${GROUP}/${VERSION}`

export interface ObjectMeta {
  name?: string
  namespace?: string
  uid?: string
  generation?: number
  resourceVersion?: string
  labels?: Record<string, string>
  annotations?: Record<string, string>
  ownerReferences?: OwnerReference[]
  finalizers?: string[]
  creationTimestamp?: string
  deletionTimestamp?: string
}

export interface OwnerReference {
  apiVersion: string
  kind: string
  name: string
  uid: string
  controller?: boolean
  blockOwnerDeletion?: boolean
}

export const STRATEGIES = ['canary', 'blue-green', 'ab'] as const
export type Strategy = typeof STRATEGIES[number]

// Only these are accepted: an unknown provider is an error, never a silent fallback to another router.
export const PROVIDERS = [
  'kubernetes', 'nginx', 'gatewayapi', 'gatewayapi:v1', 'gatewayapi:v1beta1', 'istio', 'linkerd', 'traefik',
  'contour', 'gloo', 'skipper', 'kuma', 'apisix', 'appmesh', 'osm',
] as const
export type Provider = typeof PROVIDERS[number]

export interface LocalObjectReference {
  apiVersion?: string
  kind?: string
  name: string
}

export interface CrossNamespaceObjectReference extends LocalObjectReference {
  namespace?: string
}

export interface ScalerReplicas {
  minReplicas?: number
  maxReplicas?: number
}

export interface AutoscalerReference {
  apiVersion?: string
  kind?: 'HorizontalPodAutoscaler' | 'ScaledObject'
  name: string
  primaryScalerQueries?: Record<string, string>
  primaryScalerReplicas?: ScalerReplicas
}

export interface CustomMetadata {
  labels?: Record<string, string>
  annotations?: Record<string, string>
}

// Gateway API ParentReference, as Flagger embeds it in service.gatewayRefs.
export interface GatewayRef {
  group?: string
  kind?: string
  namespace?: string
  name: string
  sectionName?: string
  port?: number
}

export interface HttpRetry {
  attempts?: number
  perTryTimeout?: string
  retryOn?: string
}

export interface HttpRewrite {
  uri?: string
  authority?: string
  type?: string
}

export interface HeaderOperations {
  set?: Record<string, string>
  add?: Record<string, string>
  remove?: string[]
}

export interface Headers {
  request?: HeaderOperations
  response?: HeaderOperations
}

// Istio HTTPMatchRequest and friends are passed through to the router unchanged.
export type HttpMatch = Record<string, unknown>
export type FreeForm = Record<string, unknown>

export interface CanaryService {
  name?: string
  port: number
  portName?: string
  targetPort?: number | string
  appProtocol?: string
  portDiscovery?: boolean
  headless?: boolean
  timeout?: string
  retries?: HttpRetry
  corsPolicy?: FreeForm
  rewrite?: HttpRewrite
  headers?: Headers
  match?: HttpMatch[]
  gateways?: string[]
  gatewayRefs?: GatewayRef[]
  hosts?: string[]
  delegation?: boolean
  trafficPolicy?: FreeForm
  mirror?: FreeForm[]
  meshName?: string
  backends?: string[]
  apex?: CustomMetadata
  primary?: CustomMetadata
  canary?: CustomMetadata
}

export interface ThresholdRange {
  min?: number
  max?: number
}

export interface CanaryMetric {
  name: string
  interval?: string
  thresholdRange?: ThresholdRange
  /** Deprecated in Flagger: the maximum (the minimum for request-success-rate). */
  threshold?: number
  /** Deprecated in Flagger: an inline Prometheus query. */
  query?: string
  templateRef?: CrossNamespaceObjectReference
  templateVariables?: Record<string, string>
}

export const HOOK_TYPES = [
  'confirm-rollout', 'pre-rollout', 'rollout', 'confirm-traffic-increase', 'confirm-promotion', 'post-rollout',
  'rollback', 'event',
] as const
export type HookType = typeof HOOK_TYPES[number]

export interface CanaryWebhook {
  name: string
  url: string
  /** '' means rollout, as in Flagger. */
  type?: HookType | ''
  timeout?: string
  metadata?: Record<string, string>
  retries?: number
  muteAlert?: boolean
  disableTLS?: boolean
}

export type AlertSeverity = 'info' | 'warn' | 'error'

export interface CanaryAlert {
  name: string
  severity?: AlertSeverity
  providerRef: CrossNamespaceObjectReference
}

export interface SessionAffinity {
  cookieName: string
  maxAge?: number
  primaryCookieName?: string
}

export interface CanaryAnalysis {
  interval?: string
  threshold?: number
  maxWeight?: number
  stepWeight?: number
  stepWeights?: number[]
  stepWeightPromotion?: number
  iterations?: number
  match?: HttpMatch[]
  mirror?: boolean
  mirrorWeight?: number
  primaryReadyThreshold?: number
  canaryReadyThreshold?: number
  sessionAffinity?: SessionAffinity
  metrics?: CanaryMetric[]
  webhooks?: CanaryWebhook[]
  alerts?: CanaryAlert[]
}

export interface CanarySpec {
  provider?: Provider
  metricsServer?: string
  targetRef: LocalObjectReference
  autoscalerRef?: AutoscalerReference
  ingressRef?: LocalObjectReference
  routeRef?: LocalObjectReference
  upstreamRef?: CrossNamespaceObjectReference
  service: CanaryService
  analysis?: CanaryAnalysis
  /** Flagger's old name of analysis, read when analysis is absent (see compat.ts). */
  canaryAnalysis?: CanaryAnalysis
  progressDeadlineSeconds?: number
  skipAnalysis?: boolean
  revertOnDeletion?: boolean
  suspend?: boolean
}

/** A Canary spec as written in sluice.dev/spec or a policy's defaults: anything may be left out. */
export type PartialCanarySpec = DeepPartial<Omit<CanarySpec, 'targetRef'>>

export type DeepPartial<T> =
  T extends readonly unknown[] ? T : T extends object ? { [K in keyof T]?: DeepPartial<T[K]> } : T

export const PHASES = [
  'Initializing', 'Initialized', 'Waiting', 'Progressing', 'WaitingPromotion', 'Promoting', 'Finalising',
  'Succeeded', 'Failed', 'Terminating', 'Terminated',
] as const
export type CanaryPhase = typeof PHASES[number]

export type ConditionStatus = 'True' | 'False' | 'Unknown'

export interface CanaryCondition {
  /** Promoted as in Flagger; InvalidSpec while the spec names something this version cannot run. */
  type: 'Promoted' | 'InvalidSpec'
  status: ConditionStatus
  lastUpdateTime?: string
  lastTransitionTime?: string
  reason?: string
  message?: string
}

export type CheckVerdict = 'pass' | 'fail' | 'no-data' | 'error'

/** One metric or webhook check, kept so that every decision can be explained (value, range, window). */
export interface CheckRecord {
  name: string
  /** null when the query returned no data; a merge patch drops nulls, so read a missing value as null. */
  value: number | null
  range?: ThresholdRange
  window?: string
  verdict: CheckVerdict
  message?: string
  time: string
}

/** status.checks keeps only the most recent entries so the object stays small. */
export const MAX_STATUS_CHECKS = 20

export interface CanaryStatus {
  phase?: CanaryPhase
  observedGeneration?: number
  canaryWeight?: number
  failedChecks?: number
  iterations?: number
  lastAppliedSpec?: string
  lastPromotedSpec?: string
  /** `configmap/<name>` or `secret/<name>` → config hash. */
  trackedConfigs?: Record<string, string>
  /** `<cookieName>=<value>`: decided when the canary first gets traffic, kept for the whole release. */
  sessionAffinityCookie?: string
  /** `<primaryCookieName>=<value>`, beside sessionAffinityCookie when primaryCookieName is set. */
  primarySessionAffinityCookie?: string
  /** The canary cookie of the release before, once it ended: clients still sending it are told to delete it. */
  previousSessionAffinityCookie?: string
  lastTransitionTime?: string
  conditions?: CanaryCondition[]
  checks?: CheckRecord[]
}

export interface Canary {
  apiVersion: typeof API_VERSION
  kind: 'Canary'
  metadata: ObjectMeta
  spec: CanarySpec
  status?: CanaryStatus
}

export interface LabelSelectorRequirement {
  key: string
  operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist'
  values?: string[]
}

export interface LabelSelector {
  matchLabels?: Record<string, string>
  matchExpressions?: LabelSelectorRequirement[]
}

export type PolicyMode = 'enforce' | 'audit'

export type PolicyDefaults = PartialCanarySpec & { strategy?: Strategy }

export interface PolicyConstraints {
  /** Metric names every matching Deployment must check. */
  requiredMetrics?: string[]
  /** The largest traffic increase allowed in one step. */
  maxStepWeight?: number
  /** The shortest analysis interval allowed, e.g. "1m". */
  minInterval?: string
  allowedProviders?: Provider[]
}

export interface DeliveryPolicySpec {
  namespaceSelector?: LabelSelector
  selector?: LabelSelector
  mode?: PolicyMode
  defaults?: PolicyDefaults
  constraints?: PolicyConstraints
}

export interface DeliveryPolicy {
  apiVersion: typeof API_VERSION
  kind: 'DeliveryPolicy'
  metadata: ObjectMeta
  spec: DeliveryPolicySpec
}

export const METRIC_PROVIDER_TYPES = [
  'prometheus', 'datadog', 'cloudwatch', 'newrelic', 'graphite', 'stackdriver', 'influxdb', 'dynatrace', 'keptn',
  'splunk',
] as const
export type MetricProviderType = typeof METRIC_PROVIDER_TYPES[number]

export interface MetricTemplateSpec {
  provider: {
    type?: MetricProviderType
    address?: string
    headers?: Record<string, string[]>
    secretRef?: { name: string }
    region?: string
    insecureSkipVerify?: boolean
  }
  query: string
}

export interface MetricTemplate {
  apiVersion: typeof API_VERSION
  kind: 'MetricTemplate'
  metadata: ObjectMeta
  spec: MetricTemplateSpec
}

export const ALERT_PROVIDER_TYPES = ['slack', 'msteams', 'discord', 'rocket', 'gchat', 'webhook'] as const
export type AlertProviderType = typeof ALERT_PROVIDER_TYPES[number]

export interface AlertProviderSpec {
  type: AlertProviderType
  channel?: string
  username?: string
  address?: string
  proxy?: string
  secretRef?: { name: string }
}

export interface AlertProvider {
  apiVersion: typeof API_VERSION
  kind: 'AlertProvider'
  metadata: ObjectMeta
  spec: AlertProviderSpec
}
