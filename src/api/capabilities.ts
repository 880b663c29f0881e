// What this version of sluice implements: the one table that validation (webhook, controller, lint) and the
// controller's registries agree on. Flagger's API admits more than sluice runs yet; a value or option that is
// not implemented is refused at apply with the list of what is, never admitted and then ignored.
// A provider or option that lands moves here from "not yet" to implemented, and nowhere else.
import {
  ALERT_PROVIDER_TYPES, PROVIDERS, METRIC_PROVIDER_TYPES, type AlertProviderType, type Provider, type MetricProviderType,
} from './types.ts'

/** Routers with an implementation (src/router/registry.ts registers exactly these). */
export const IMPLEMENTED_PROVIDERS = ['kubernetes', 'nginx', 'gatewayapi', 'gatewayapi:v1', 'gatewayapi:v1beta1', 'istio', 'linkerd', 'traefik', 'contour'] as const satisfies readonly Provider[]
export type ImplementedProvider = typeof IMPLEMENTED_PROVIDERS[number]

/** MetricTemplate provider types with a client (src/metrics/registry.ts registers exactly these). */
export const IMPLEMENTED_METRIC_PROVIDERS = ['prometheus'] as const satisfies readonly MetricProviderType[]
export type ImplementedMetricProvider = typeof IMPLEMENTED_METRIC_PROVIDERS[number]

/** AlertProvider types with a notifier (src/notify/registry.ts registers exactly these). */
export const IMPLEMENTED_ALERT_PROVIDERS = ['slack', 'msteams', 'discord', 'rocket', 'gchat', 'webhook'] as const satisfies readonly AlertProviderType[]
export type ImplementedAlertProvider = typeof IMPLEMENTED_ALERT_PROVIDERS[number]

/** autoscalerRef kinds sluice copies to <name>-primary. */
export const IMPLEMENTED_AUTOSCALER_KINDS = ['HorizontalPodAutoscaler'] as const

export function isImplementedProvider(p: unknown): p is ImplementedProvider {
  return (IMPLEMENTED_PROVIDERS as readonly unknown[]).includes(p)
}

export function isImplementedMetricProvider(t: unknown): t is ImplementedMetricProvider {
  return (IMPLEMENTED_METRIC_PROVIDERS as readonly unknown[]).includes(t)
}

export function isImplementedAlertProvider(t: unknown): t is ImplementedAlertProvider {
  return (IMPLEMENTED_ALERT_PROVIDERS as readonly unknown[]).includes(t)
}

/** What a field must hold when it is set: the 'validated' entries of SPEC_OPTIONS, and fields with a closed set of values. */
export const FIELD_VALUES: Readonly<Record<string, { readonly values: readonly string[]; readonly why: string }>> = {
  'targetRef.apiVersion': { values: ['apps/v1'], why: 'sluice releases Deployments' },
  'targetRef.kind': { values: ['Deployment'], why: 'sluice releases Deployments' },
  'autoscalerRef.apiVersion': { values: ['autoscaling/v2', 'autoscaling/v2beta2', 'autoscaling/v1'], why: 'sluice copies HorizontalPodAutoscalers' },
  'autoscalerRef.kind': { values: [...IMPLEMENTED_AUTOSCALER_KINDS], why: 'KEDA ScaledObjects are not available yet in this version of sluice' },
  'ingressRef.apiVersion': { values: ['networking.k8s.io/v1'], why: 'the nginx router splits a networking.k8s.io/v1 Ingress' },
  'ingressRef.kind': { values: ['Ingress'], why: 'the nginx router splits an Ingress' },
  'analysis.metrics.templateRef.apiVersion': { values: ['sluice.dev/v1beta1'], why: 'it names a sluice MetricTemplate' },
  'analysis.metrics.templateRef.kind': { values: ['MetricTemplate'], why: 'it names a MetricTemplate' },
  'analysis.alerts.providerRef.apiVersion': { values: ['sluice.dev/v1beta1'], why: 'it names a sluice AlertProvider' },
  'analysis.alerts.providerRef.kind': { values: ['AlertProvider'], why: 'it names an AlertProvider' },
}

/** The providers a message may recommend: implemented ones, plain gatewayapi standing for its versions. */
export function availableProviders(): string {
  return IMPLEMENTED_PROVIDERS.filter(p => p !== 'gatewayapi:v1').join(', ')
}

export function providerUnavailable(provider: string): string {
  const known = (PROVIDERS as readonly string[]).includes(provider)
  return `${known ? `${provider} is not available yet in this version of sluice` : `${JSON.stringify(provider)} is not a provider`}; available: ${availableProviders()}`
}

export function metricProviderUnavailable(type: string): string {
  const known = (METRIC_PROVIDER_TYPES as readonly string[]).includes(type)
  return `${known ? `${type} is not available yet in this version of sluice` : `${JSON.stringify(type)} is not a metrics provider`}; available: ${IMPLEMENTED_METRIC_PROVIDERS.join(', ')}`
}

export function alertProviderUnavailable(type: string): string {
  const known = (ALERT_PROVIDER_TYPES as readonly string[]).includes(type)
  return `${known ? `${type} is not available yet in this version of sluice` : `${JSON.stringify(type)} is not an alert provider type`}; available: ${IMPLEMENTED_ALERT_PROVIDERS.join(', ')}`
}

/**
 * Who reads an option of the Canary spec: `'all'` (every router, or the engine itself), the routers that
 * implement it, none yet (`[]`), or `'validated'`: a field with one meaningful value (a reference's kind),
 * which validation checks and nothing else needs to read. Keys are paths in the spec with `[]` for list items; a key covers
 * everything under it. A test walks the CRD schema and fails on a field that has no entry here, and checks
 * that each implemented entry is really read by the code that runs a release.
 */
export type Readers = 'all' | 'validated' | readonly ImplementedProvider[]

const GATEWAY: readonly ImplementedProvider[] = ['gatewayapi', 'gatewayapi:v1', 'gatewayapi:v1beta1']
const GATEWAY_AND_ISTIO: readonly ImplementedProvider[] = [...GATEWAY, 'istio']
// linkerd routes by header on its HTTPRoute path only (service.gatewayRefs); validate.ts refuses a match without it.
const AB: readonly ImplementedProvider[] = ['nginx', ...GATEWAY_AND_ISTIO, 'linkerd']
const ISTIO: readonly ImplementedProvider[] = ['istio']
const CONTOUR: readonly ImplementedProvider[] = ['contour']
const NOT_YET: readonly ImplementedProvider[] = []
// traefik mirrors the primary to the canary (a TraefikService with mirroring, mirrorWeight its percent).
const MIRRORING: readonly ImplementedProvider[] = [...GATEWAY_AND_ISTIO, 'traefik']

export const SPEC_OPTIONS: Readonly<Record<string, Readers>> = {
  'provider': 'all',
  'metricsServer': 'all',
  'targetRef.apiVersion': 'validated',
  'targetRef.kind': 'validated',
  'targetRef.name': 'all',
  'autoscalerRef.apiVersion': 'validated',
  'autoscalerRef.kind': 'validated',
  'autoscalerRef.name': 'all',
  'autoscalerRef.primaryScalerQueries': NOT_YET,
  'autoscalerRef.primaryScalerReplicas.minReplicas': 'all',
  'autoscalerRef.primaryScalerReplicas.maxReplicas': 'all',
  'ingressRef.apiVersion': 'validated',
  'ingressRef.kind': 'validated',
  'ingressRef.name': ['nginx'],
  'routeRef': NOT_YET,
  'upstreamRef': NOT_YET,
  'service.name': 'all',
  'service.port': 'all',
  'service.portName': 'all',
  'service.targetPort': 'all',
  'service.appProtocol': 'all',
  'service.portDiscovery': NOT_YET,
  'service.headless': 'all',
  'service.timeout': [...GATEWAY_AND_ISTIO, ...CONTOUR],
  'service.retries': [...ISTIO, ...CONTOUR],
  'service.corsPolicy': ISTIO,
  'service.rewrite.uri': GATEWAY_AND_ISTIO,
  'service.rewrite.authority': GATEWAY_AND_ISTIO,
  'service.rewrite.type': GATEWAY,
  'service.headers.request': GATEWAY_AND_ISTIO,
  'service.headers.response': GATEWAY_AND_ISTIO,
  'service.match': [...GATEWAY_AND_ISTIO, ...CONTOUR],
  'service.gateways': ISTIO,
  'service.gatewayRefs': [...GATEWAY, 'linkerd'],
  'service.hosts': GATEWAY_AND_ISTIO,
  'service.delegation': ISTIO,
  'service.trafficPolicy': ISTIO,
  'service.mirror': NOT_YET,
  'service.meshName': NOT_YET,
  'service.backends': NOT_YET,
  'service.apex': 'all',
  'service.primary': 'all',
  'service.canary': 'all',
  'analysis.interval': 'all',
  'analysis.threshold': 'all',
  'analysis.maxWeight': 'all',
  'analysis.stepWeight': 'all',
  'analysis.stepWeights': 'all',
  'analysis.stepWeightPromotion': 'all',
  'analysis.iterations': 'all',
  'analysis.match': [...AB, ...CONTOUR],
  'analysis.mirror': [...MIRRORING, ...CONTOUR],
  'analysis.mirrorWeight': [...GATEWAY_AND_ISTIO, 'traefik', ...CONTOUR],
  'analysis.primaryReadyThreshold': 'all',
  'analysis.canaryReadyThreshold': 'all',
  'analysis.sessionAffinity': GATEWAY_AND_ISTIO,
  'analysis.metrics.name': 'all',
  'analysis.metrics.interval': 'all',
  'analysis.metrics.thresholdRange.min': 'all',
  'analysis.metrics.thresholdRange.max': 'all',
  'analysis.metrics.threshold': 'all',
  'analysis.metrics.query': 'all',
  'analysis.metrics.templateRef.apiVersion': 'validated',
  'analysis.metrics.templateRef.kind': 'validated',
  'analysis.metrics.templateRef.name': 'all',
  'analysis.metrics.templateRef.namespace': 'all',
  'analysis.metrics.templateVariables': 'all',
  'analysis.webhooks.name': 'all',
  'analysis.webhooks.url': 'all',
  'analysis.webhooks.type': 'all',
  'analysis.webhooks.timeout': 'all',
  'analysis.webhooks.metadata': 'all',
  'analysis.webhooks.retries': 'all',
  'analysis.webhooks.muteAlert': 'all',
  'analysis.webhooks.disableTLS': 'all',
  'analysis.alerts.name': 'all',
  'analysis.alerts.severity': 'all',
  'analysis.alerts.providerRef.apiVersion': 'validated',
  'analysis.alerts.providerRef.kind': 'validated',
  'analysis.alerts.providerRef.name': 'all',
  'analysis.alerts.providerRef.namespace': 'all',
  'progressDeadlineSeconds': 'all',
  'skipAnalysis': 'all',
  'revertOnDeletion': 'all',
  'suspend': 'all',
}

/** Why an option nobody reads yet is refused, where the bare "not available yet" would leave the user guessing. */
export const NOT_YET_WHY: Readonly<Record<string, string>> = {
  'service.mirror': 'Flagger\'s extra RequestMirror filters of a Gateway API HTTPRoute; no router writes them ' +
    '(analysis.mirror copies the traffic to the canary instead)',
}

/** The table entry that covers `path` (the longest key that is the path or one of its parents). */
export function readersOf(path: string): Readers | undefined {
  const normal = path.replace(/\[\d*\]/g, '').replace(/^canaryAnalysis\b/, 'analysis')
  let key = normal
  for (;;) {
    const found = SPEC_OPTIONS[key]
    if (found !== undefined) return found
    const cut = key.lastIndexOf('.')
    if (cut < 0) return undefined
    key = key.slice(0, cut)
  }
}

const usable = (readers: Readers, provider: ImplementedProvider): boolean =>
  readers === 'all' || readers === 'validated' || readers.includes(provider)

/** Why `path` cannot be used with `provider`, or undefined when it can. */
export function optionUnavailable(path: string, provider: ImplementedProvider): string | undefined {
  const readers = readersOf(path)
  if (readers === undefined || typeof readers === 'string' || usable(readers, provider)) return undefined
  if (readers.length === 0) {
    const why = NOT_YET_WHY[path.replace(/\[\d*\]/g, '')]
    return `is not available yet in this version of sluice${why ? ` (${why})` : ''}; remove it`
  }
  const users = readers.filter(p => p !== 'gatewayapi:v1').join(', ')
  return `is not used by provider ${provider} in this version of sluice (it is used by ${users}); remove it or change the provider`
}

// The table as a tree of field names, so that the walk looks up one name at a time and goes down only where the
// table has an entry below (a spec's metric queries and webhook metadata are not visited).
interface OptionNode {
  /** The table's key for this field, when the table has an entry for it. */
  readonly key?: string
  readonly children: Map<string, OptionNode>
}

const OPTION_TREE: OptionNode = (() => {
  const root: OptionNode = { children: new Map() }
  for (const key of Object.keys(SPEC_OPTIONS)) {
    let node = root
    const parts = key.split('.')
    parts.forEach((part, i) => {
      let child = node.children.get(part)
      if (child === undefined || i === parts.length - 1) {
        child = { ...(i === parts.length - 1 && { key }), children: child?.children ?? new Map<string, OptionNode>() }
        node.children.set(part, child)
      }
      node = child
    })
  }
  return root
})()

/** Set options of `spec` that the table refuses for `provider`, with the path where each is set. */
export function unavailableOptions(spec: unknown, provider: ImplementedProvider): { field: string; message: string }[] {
  const found: { field: string; message: string }[] = []
  const seen = new Set<string>()
  const walk = (value: unknown, path: string, node: OptionNode): void => {
    if (value === undefined || value === null) return
    if (node.key !== undefined) {
      // One report per option, not one per list item.
      if (!seen.has(node.key) && !usable(SPEC_OPTIONS[node.key]!, provider)) found.push({ field: path, message: optionUnavailable(node.key, provider)! })
      seen.add(node.key)
      return
    }
    if (node.children.size === 0) return
    if (Array.isArray(value)) value.forEach((v, i) => { walk(v, `${path}[${i}]`, node) })
    else if (typeof value === 'object') {
      for (const k of Object.keys(value)) {
        // Flagger's canaryAnalysis is read as analysis.
        const child = node.children.get(path === '' && k === 'canaryAnalysis' ? 'analysis' : k)
        if (child !== undefined) walk((value as Record<string, unknown>)[k], path === '' ? k : `${path}.${k}`, child)
      }
    }
  }
  walk(spec, '', OPTION_TREE)
  return found
}
