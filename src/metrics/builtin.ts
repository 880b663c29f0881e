// Builtin request-success-rate (percent) and request-duration (milliseconds) queries per router, as
// templates rendered by template.ts. request-duration is the p99 everywhere, already in milliseconds.
import { DEFAULTS } from '../api/defaults.ts'
import type { Provider } from '../api/types.ts'
import { BUILTIN_METRICS } from '../api/validate.ts'

// The names are the api's (validation admits exactly these); the queries behind them are here.
export type BuiltinMetricName = typeof BUILTIN_METRICS[number]

export function isBuiltinMetric(name: string): name is BuiltinMetricName {
  return (BUILTIN_METRICS as readonly string[]).includes(name)
}

export interface BuiltinQueries {
  readonly 'request-success-rate': string
  readonly 'request-duration': string
}

function successRate(metric: string, selector: string, nonError: string): string {
  return `sum(rate(${metric}{${selector},${nonError}}[{{ interval }}])) / sum(rate(${metric}{${selector}}[{{ interval }}])) * 100`
}

function p99Ms(bucket: string, selector: string, toMs: string): string {
  return `histogram_quantile(0.99, sum(rate(${bucket}{${selector}}[{{ interval }}])) by (le))${toMs}`
}

// The generic HTTP observer: the app exports http_request_duration_seconds, relabelled with the pod.
const HTTP_SELECTOR = 'kubernetes_namespace="{{ namespace }}",kubernetes_pod_name=~"{{ target }}-[0-9a-zA-Z]+(-[0-9a-zA-Z]+)"'
const HTTP: BuiltinQueries = {
  'request-success-rate': successRate('http_request_duration_seconds_count', HTTP_SELECTOR, 'status!~"5.*"'),
  'request-duration': p99Ms('http_request_duration_seconds_bucket', HTTP_SELECTOR, ' * 1000'),
}

// canary!="" keeps only the canary ingress' requests (the controller labels its backends).
const NGINX_SELECTOR = 'namespace="{{ namespace }}",ingress="{{ ingress }}",canary!=""'
const NGINX: BuiltinQueries = {
  'request-success-rate': successRate('nginx_ingress_controller_requests', NGINX_SELECTOR, 'status!~"5.*"'),
  'request-duration': p99Ms('nginx_ingress_controller_response_duration_seconds_bucket', NGINX_SELECTOR, ' * 1000'),
}

const ISTIO_SELECTOR = 'reporter="destination",destination_workload_namespace="{{ namespace }}",destination_workload=~"{{ target }}"'
const ISTIO: BuiltinQueries = {
  'request-success-rate': successRate('istio_requests_total', ISTIO_SELECTOR, 'response_code!~"5.*"'),
  'request-duration': p99Ms('istio_request_duration_milliseconds_bucket', ISTIO_SELECTOR, ''),
}

const LINKERD_SELECTOR = 'namespace="{{ namespace }}",deployment=~"{{ target }}",direction="inbound"'
const LINKERD: BuiltinQueries = {
  'request-success-rate': successRate('response_total', LINKERD_SELECTOR, 'classification!="failure"'),
  'request-duration': p99Ms('response_latency_ms_bucket', LINKERD_SELECTOR, ''),
}

// Traefik names a Service under a TraefikService `<namespace>-<name>-<port>@kubernetescrd`; the canary's is `<svc>-canary`.
const TRAEFIK_SELECTOR = 'service=~"{{ namespace }}-{{ service }}-canary-[0-9a-zA-Z-]+@kubernetescrd"'
const TRAEFIK: BuiltinQueries = {
  'request-success-rate': successRate('traefik_service_requests_total', TRAEFIK_SELECTOR, 'code!~"5.*"'),
  'request-duration': p99Ms('traefik_service_request_duration_seconds_bucket', TRAEFIK_SELECTOR, ' * 1000'),
}

// Envoy's cluster stats as Contour names them: envoy_cluster_name is the alt stat name <namespace>_<service>_<port>
// of the canary Service's cluster; envoy_cluster_upstream_rq_time is already in milliseconds.
const CONTOUR_SELECTOR = 'envoy_cluster_name=~"{{ namespace }}_{{ service }}-canary_[0-9]+"'
const CONTOUR: BuiltinQueries = {
  'request-success-rate': successRate('envoy_cluster_upstream_rq', CONTOUR_SELECTOR, 'envoy_response_code!~"5.*"'),
  'request-duration': p99Ms('envoy_cluster_upstream_rq_time_bucket', CONTOUR_SELECTOR, ''),
}

const BY_PROVIDER: Partial<Record<Provider, BuiltinQueries>> = {
  kubernetes: HTTP, gatewayapi: HTTP, 'gatewayapi:v1': HTTP, 'gatewayapi:v1beta1': HTTP, nginx: NGINX,
  istio: ISTIO, linkerd: LINKERD, traefik: TRAEFIK, contour: CONTOUR,
}

/**
 * The query template of a builtin metric for a router. Throws for routers without builtin queries
 * (Flagger would silently use Istio's): the message says to use a MetricTemplate.
 */
export function builtinQuery(provider: Provider | undefined, metric: BuiltinMetricName): string {
  const queries = BY_PROVIDER[provider ?? DEFAULTS.provider]
  if (!queries) {
    const have = Object.keys(BY_PROVIDER).join(', ')
    throw new Error(`sluice has no builtin ${metric} query for provider ${provider}; use a MetricTemplate (builtin queries exist for ${have})`)
  }
  return queries[metric]
}
