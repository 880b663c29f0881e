// The OpenAPI v3 schemas of sluice's kinds: the single source for the CRDs (crds.ts writes them) and for
// the structural check that validate.ts runs before its semantic rules (schema-check.ts).
import { DURATION_PATTERN } from '../util/duration.ts'
import {
  ALERT_PROVIDER_TYPES, HOOK_TYPES, MAX_STATUS_CHECKS, METRIC_PROVIDER_TYPES, PHASES, PROVIDERS, STRATEGIES,
} from './types.ts'

export interface JSONSchema {
  type?: 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean'
  description?: string
  properties?: Record<string, JSONSchema>
  required?: string[]
  items?: JSONSchema
  additionalProperties?: JSONSchema
  enum?: (string | number)[]
  pattern?: string
  format?: string
  minimum?: number
  maximum?: number
  minLength?: number
  minItems?: number
  maxItems?: number
  nullable?: boolean
  'x-kubernetes-preserve-unknown-fields'?: boolean
  'x-kubernetes-int-or-string'?: boolean
}

/** Human wording of the patterns used below, for error messages. */
export const PATTERN_DESCRIPTIONS: Readonly<Record<string, string>> = {
  [DURATION_PATTERN]: 'a duration such as 30s, 1m or 1m30s',
}

const str = (description?: string, extra: JSONSchema = {}): JSONSchema =>
  ({ type: 'string', ...(description && { description }), ...extra })
const int = (minimum?: number, maximum?: number, description?: string): JSONSchema => ({
  type: 'integer', ...(minimum !== undefined && { minimum }), ...(maximum !== undefined && { maximum }),
  ...(description && { description }),
})
const num = (description?: string): JSONSchema => ({ type: 'number', ...(description && { description }) })
const bool = (description?: string): JSONSchema => ({ type: 'boolean', ...(description && { description }) })
const duration = (description: string): JSONSchema => str(description, { pattern: DURATION_PATTERN })
const oneOf = (values: readonly string[], description?: string): JSONSchema => str(description, { enum: [...values] })
const obj = (properties: Record<string, JSONSchema>, required?: string[], description?: string): JSONSchema => ({
  type: 'object', ...(description && { description }), properties, ...(required && { required }),
})
const list = (items: JSONSchema, description?: string, extra: JSONSchema = {}): JSONSchema =>
  ({ type: 'array', ...(description && { description }), items, ...extra })
const stringMap = (description?: string): JSONSchema =>
  ({ type: 'object', ...(description && { description }), additionalProperties: { type: 'string' } })
// Router options passed through to Istio / Gateway API objects as the user wrote them.
const freeForm = (description: string): JSONSchema =>
  ({ type: 'object', description, 'x-kubernetes-preserve-unknown-fields': true })

const localRef = (description: string): JSONSchema =>
  obj({ apiVersion: str(), kind: str(), name: str(undefined, { minLength: 1 }) }, ['name'], description)
const crossNamespaceRef = (description: string): JSONSchema => obj({
  apiVersion: str(), kind: str(), name: str(undefined, { minLength: 1 }), namespace: str(),
}, ['name'], description)
const customMetadata = (description: string): JSONSchema =>
  obj({ labels: stringMap(), annotations: stringMap() }, undefined, description)
const headerOperations = obj({ set: stringMap(), add: stringMap(), remove: list(str()) })

const autoscalerRef = obj({
  apiVersion: str(),
  kind: oneOf(['HorizontalPodAutoscaler', 'ScaledObject']),
  name: str(undefined, { minLength: 1 }),
  primaryScalerQueries: stringMap('Queries for the primary scaler (KEDA), by trigger name.'),
  primaryScalerReplicas: obj({ minReplicas: int(0), maxReplicas: int(1) }, undefined, 'Overrides for the primary autoscaler.'),
}, ['name'], 'The HorizontalPodAutoscaler or ScaledObject of the target; sluice copies it to <name>-primary.')

const service = obj({
  name: str('Name of the apex Service; defaults to the target name.'),
  port: int(1, 65535, 'Port of the generated Services.'),
  portName: str('Defaults to http.'),
  targetPort: { 'x-kubernetes-int-or-string': true, description: 'Container port number or name; defaults to port.' },
  appProtocol: str(),
  portDiscovery: bool('Also expose every other container port.'),
  headless: bool('Generate headless Services (clusterIP None).'),
  timeout: str('Request timeout of the generated route.'),
  retries: obj({ attempts: int(0), perTryTimeout: str(), retryOn: str() }),
  corsPolicy: freeForm('Istio CorsPolicy.'),
  rewrite: obj({ uri: str(), authority: str(), type: str() }),
  headers: obj({ request: headerOperations, response: headerOperations }),
  match: list(freeForm('Istio HTTPMatchRequest.'), 'Match conditions of the generated route.'),
  gateways: list(str(), 'Istio gateways; defaults to mesh.'),
  gatewayRefs: list(obj({
    group: str(), kind: str(), namespace: str(), name: str(undefined, { minLength: 1 }), sectionName: str(), port: int(1, 65535),
  }, ['name']), 'Gateway API parents of the generated HTTPRoute; required with gatewayapi providers.'),
  hosts: list(str()),
  delegation: bool('Generate Istio VirtualServices usable as delegates.'),
  trafficPolicy: freeForm('Istio DestinationRule traffic policy.'),
  mirror: list(freeForm('A mirror target.'), 'Mirror targets of the generated route.'),
  meshName: str('App Mesh name.'),
  backends: list(str(), 'App Mesh backends.'),
  apex: customMetadata('Labels and annotations for the apex Service and route.'),
  primary: customMetadata('Labels and annotations for the primary Service.'),
  canary: customMetadata('Labels and annotations for the canary Service.'),
}, ['port'], 'How the Services and router objects are generated.')

const metric = obj({
  name: str('request-success-rate and request-duration are builtin; any other name needs templateRef.', { minLength: 1 }),
  interval: duration('Query window; defaults to 1m.'),
  thresholdRange: obj({ min: num(), max: num() }, undefined, 'The accepted range of the value.'),
  threshold: num('Deprecated: use thresholdRange.'),
  query: str('Deprecated: an inline Prometheus query; use templateRef.'),
  templateRef: crossNamespaceRef('A MetricTemplate; the namespace defaults to the Canary\'s.'),
  templateVariables: stringMap('Values for {{ variables.<key> }} in the template.'),
}, ['name'])

const webhook = obj({
  name: str(undefined, { minLength: 1 }),
  url: str('http:// or https:// address.', { minLength: 1 }),
  type: oneOf(['', ...HOOK_TYPES], 'When the hook runs; empty means rollout.'),
  timeout: duration('Defaults to 10s.'),
  metadata: stringMap('Sent in the payload.'),
  retries: int(0),
  muteAlert: bool(),
  disableTLS: bool('Skip TLS verification.'),
}, ['name', 'url'])

const alert = obj({
  name: str(undefined, { minLength: 1 }),
  severity: oneOf(['info', 'warn', 'error'], 'The lowest severity sent; defaults to info.'),
  providerRef: crossNamespaceRef('An AlertProvider.'),
}, ['name', 'providerRef'])

const analysis = obj({
  interval: duration('Time between checks; defaults to 1m, at least 10s.'),
  threshold: int(1, undefined, 'Failed checks before rollback; defaults to 1.'),
  maxWeight: int(1, 100, 'Largest canary weight; defaults to 100.'),
  stepWeight: int(1, 100, 'Weight added at each step (canary).'),
  stepWeights: list(int(1, 100), 'Explicit, strictly increasing weights (canary).', { minItems: 1 }),
  stepWeightPromotion: int(1, 100, 'Primary weight added per interval during promotion; unset moves all at once.'),
  iterations: int(1, undefined, 'Number of checks (blue-green and ab).'),
  match: list(freeForm('Istio HTTPMatchRequest.'), 'Requests sent to the canary (ab).', { minItems: 1 }),
  mirror: bool('Mirror traffic to the canary.'),
  mirrorWeight: int(0, 100),
  primaryReadyThreshold: int(0, 100, 'Percentage of primary replicas that must be available; defaults to 100.'),
  canaryReadyThreshold: int(0, 100, 'Percentage of canary replicas that must be available; defaults to 100.'),
  sessionAffinity: obj({
    cookieName: str(undefined, { minLength: 1 }), maxAge: int(1), primaryCookieName: str(),
  }, ['cookieName']),
  metrics: list(metric),
  webhooks: list(webhook),
  alerts: list(alert),
}, undefined, 'How each release is analysed.')

const canarySpecProperties: Record<string, JSONSchema> = {
  provider: oneOf(PROVIDERS, 'Router; defaults to kubernetes.'),
  metricsServer: str('Prometheus address for the builtin metrics.'),
  targetRef: localRef('The Deployment released through this Canary.'),
  autoscalerRef,
  ingressRef: localRef('The Ingress (nginx provider).'),
  routeRef: localRef('The APISIX route (apisix provider).'),
  upstreamRef: crossNamespaceRef('The Gloo Upstream to copy (gloo provider).'),
  service,
  analysis,
  // Declared, or the API server would prune it and a Flagger Canary would lose its analysis in silence.
  canaryAnalysis: { ...analysis, description: 'Flagger\'s old name of analysis, used when analysis is absent; rename it to analysis.' },
  progressDeadlineSeconds: int(1, undefined, 'Defaults to 600.'),
  skipAnalysis: bool('Promote without checks.'),
  revertOnDeletion: bool('Give the app back to the target when the Canary is deleted; defaults to true.'),
  suspend: bool('Skip every run while true.'),
}

export const canarySpecSchema: JSONSchema = obj(canarySpecProperties, ['targetRef', 'service'])

/** The same shape with nothing required at the top (list entries keep their required fields). */
function optionalFields(schema: JSONSchema): JSONSchema {
  if (!schema.properties) return schema
  const { required: _required, ...rest } = schema
  return {
    ...rest,
    properties: Object.fromEntries(Object.entries(schema.properties).map(([k, v]) => [k, optionalFields(v)])),
  }
}

const range = obj({ min: num(), max: num() })

const check = obj({
  name: str(),
  value: { type: 'number', nullable: true, description: 'Absent or null when the query returned no data.' },
  range,
  window: str(),
  verdict: oneOf(['pass', 'fail', 'no-data', 'error']),
  message: str(),
  time: str(undefined, { format: 'date-time' }),
}, ['name', 'verdict', 'time'])

export const canaryStatusSchema: JSONSchema = obj({
  phase: oneOf(PHASES),
  observedGeneration: int(),
  canaryWeight: int(0, 100),
  failedChecks: int(0),
  iterations: int(0),
  lastAppliedSpec: str('Revision of the target\'s pod template.'),
  lastPromotedSpec: str('Revision last copied to the primary.'),
  trackedConfigs: stringMap('configmap/<name> or secret/<name> to a hash of its data.'),
  sessionAffinityCookie: str('<cookieName>=<value> of this release, set on the canary\'s responses (sessionAffinity).'),
  primarySessionAffinityCookie: str('<primaryCookieName>=<value> of this release, set on the primary\'s responses.'),
  previousSessionAffinityCookie: str('The last release\'s canary cookie, which clients are told to delete.'),
  lastTransitionTime: str(undefined, { format: 'date-time' }),
  conditions: list(obj({
    type: str(), status: oneOf(['True', 'False', 'Unknown']), lastUpdateTime: str(undefined, { format: 'date-time' }),
    lastTransitionTime: str(undefined, { format: 'date-time' }), reason: str(), message: str(),
  }, ['type', 'status'])),
  checks: list(check, 'The most recent metric and webhook checks.', { maxItems: MAX_STATUS_CHECKS }),
})

const labelSelector = (description: string): JSONSchema => obj({
  matchLabels: stringMap(),
  matchExpressions: list(obj({
    key: str(), operator: oneOf(['In', 'NotIn', 'Exists', 'DoesNotExist']), values: list(str()),
  }, ['key', 'operator'])),
}, undefined, description)

// canaryAnalysis belongs to Canaries written for Flagger; a policy or an annotation says analysis.
const { targetRef: _targetRef, canaryAnalysis: _canaryAnalysis, ...defaultableProperties } = canarySpecProperties

export const policyDefaultsSchema: JSONSchema = optionalFields(obj({
  strategy: oneOf(STRATEGIES, 'Strategy of the Deployments this policy opts in.'),
  ...defaultableProperties,
}, undefined, 'A partial Canary spec applied under each matching Deployment\'s annotations.'))

export const deliveryPolicySpecSchema: JSONSchema = obj({
  namespaceSelector: labelSelector('Namespaces the policy applies to; empty selects all.'),
  selector: labelSelector('Deployments the policy applies to; empty selects all.'),
  mode: oneOf(['enforce', 'audit'], 'enforce rejects violations and opts matching Deployments in; audit warns.'),
  defaults: policyDefaultsSchema,
  constraints: obj({
    requiredMetrics: list(str(), 'Metric names every release must check.'),
    maxStepWeight: int(1, 100, 'Largest weight increase in one step.'),
    minInterval: duration('Shortest analysis interval allowed.'),
    allowedProviders: list(oneOf(PROVIDERS)),
  }),
})

export const metricTemplateSpecSchema: JSONSchema = obj({
  provider: obj({
    type: oneOf(METRIC_PROVIDER_TYPES, 'Defaults to prometheus.'),
    address: str('Address of the metrics server.'),
    headers: { type: 'object', additionalProperties: list(str()) },
    secretRef: obj({ name: str() }, ['name'], 'Secret with the credentials, in the template\'s namespace.'),
    region: str(),
    insecureSkipVerify: bool(),
  }),
  query: str('Query text with {{ namespace }}, {{ target }}, {{ interval }}, {{ variables.<key> }}…', { minLength: 1 }),
}, ['provider', 'query'])

export const alertProviderSpecSchema: JSONSchema = obj({
  type: oneOf(ALERT_PROVIDER_TYPES),
  channel: str('slack and rocket only. Slack defaults to general; Rocket.Chat to the integration\'s own channel.'),
  username: str('slack, rocket (the alias) and discord only. Defaults to sluice.'),
  address: str('Webhook address; the secret key "address" overrides it.'),
  proxy: str(),
  secretRef: obj({ name: str() }, ['name']),
}, ['type'])

/** The whole object's schema, as a CRD version's openAPIV3Schema. */
export function objectSchema(spec: JSONSchema, status?: JSONSchema): JSONSchema {
  return obj({
    apiVersion: str(), kind: str(), metadata: { type: 'object' }, spec, ...(status && { status }),
  }, ['spec'])
}
