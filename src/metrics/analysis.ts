// One analysis tick: every metric of a canary resolved (builtin, MetricTemplate or inline query), queried
// concurrently with a bounded timeout, and judged. Never throws: a setup problem is an 'error' record.
import { createHash } from 'node:crypto'
import { isImplementedMetricProvider, metricProviderUnavailable } from '../api/capabilities.ts'
import { intervalMs } from '../api/defaults.ts'
import type { Canary, CanaryMetric, CheckRecord, MetricTemplate } from '../api/types.ts'
import { builtinQuery, isBuiltinMetric } from './builtin.ts'
import type { MetricProvider, MetricProviderSpec } from './provider.ts'
import { DEFAULT_METRIC_PROVIDER, metricProviderFor } from './registry.ts'
import { renderQuery, type TemplateVars } from './template.ts'
import { metricVerdict, outcomeOfError } from './verdict.ts'

/** Longest a single query may take, whatever the interval: a slow Prometheus must not stall the tick. */
export const MAX_QUERY_TIMEOUT_MS = 10_000
const DEFAULT_METRIC_INTERVAL = '1m'

export interface AnalysisDeps {
  /** The MetricTemplate, or undefined when it does not exist. */
  getTemplate(namespace: string, name: string): Promise<MetricTemplate | undefined>
  /** A Secret's data, already base64-decoded, or undefined when it does not exist. */
  getSecret(namespace: string, name: string): Promise<Record<string, string> | undefined>
  /** Builds a provider; tests inject one. Defaults to the registry's (src/metrics/registry.ts). */
  providerFor?(spec: MetricProviderSpec): MetricProvider
  /** spec.metricsServer overrides it; builtin and inline queries need one of the two. */
  readonly defaultMetricsServer?: string
  readonly timeoutMs?: number
  readonly now?: () => Date
}

/** min(interval / 2, 10s): a query answers well within the tick it belongs to. */
export function queryTimeoutMs(canary: Canary): number {
  return Math.min(Math.floor(intervalMs(canary.spec.analysis) / 2), MAX_QUERY_TIMEOUT_MS)
}

export function templateVars(canary: Canary, metric: CanaryMetric): TemplateVars {
  const target = canary.spec.targetRef.name
  return {
    namespace: canary.metadata.namespace ?? 'default',
    target,
    service: canary.spec.service.name ?? target,
    ...(canary.spec.ingressRef ? { ingress: canary.spec.ingressRef.name } : {}),
    ...(canary.spec.routeRef ? { route: canary.spec.routeRef.name } : {}),
    interval: metric.interval ?? DEFAULT_METRIC_INTERVAL,
    name: canary.metadata.name ?? target,
    variables: metric.templateVariables ?? {},
  }
}

/** Where one metric is queried, and the query text before rendering. */
interface Source { readonly spec: MetricProviderSpec; readonly query: string }

class SetupError extends Error {}

async function templateSource(canary: Canary, metric: CanaryMetric, deps: AnalysisDeps, timeoutMs: number): Promise<Source> {
  const ref = metric.templateRef
  if (!ref) throw new SetupError('no templateRef')
  const namespace = ref.namespace ?? canary.metadata.namespace ?? 'default'
  const template = await deps.getTemplate(namespace, ref.name)
  if (!template) throw new SetupError(`MetricTemplate ${namespace}/${ref.name} does not exist; create it or fix templateRef`)
  const spec = template.spec.provider
  if (spec.type !== undefined && !isImplementedMetricProvider(spec.type)) {
    throw new SetupError(`MetricTemplate ${namespace}/${ref.name}: provider.type ${metricProviderUnavailable(spec.type)}`)
  }
  const address = spec.address ?? canary.spec.metricsServer ?? deps.defaultMetricsServer
  if (!address) throw new SetupError(`MetricTemplate ${namespace}/${ref.name} has no provider.address and no metrics server is configured`)
  let secret: MetricProviderSpec['secret']
  if (spec.secretRef) {
    // Flagger reads the Secret from the template's namespace, not the canary's.
    const data = await deps.getSecret(namespace, spec.secretRef.name)
    if (!data) throw new SetupError(`Secret ${namespace}/${spec.secretRef.name} (secretRef of MetricTemplate ${ref.name}) does not exist`)
    secret = { name: `Secret ${namespace}/${spec.secretRef.name}`, data }
  }
  const provider: MetricProviderSpec = {
    type: spec.type ?? DEFAULT_METRIC_PROVIDER, address, timeoutMs,
    ...(secret ? { secret } : {}), ...(spec.headers ? { headers: spec.headers } : {}),
  }
  return { spec: provider, query: template.spec.query }
}

function defaultServerSource(canary: Canary, deps: AnalysisDeps, timeoutMs: number, query: string): Source {
  const address = canary.spec.metricsServer ?? deps.defaultMetricsServer
  if (!address) throw new SetupError('no metrics server is configured (spec.metricsServer or the controller flag)')
  return { spec: { type: DEFAULT_METRIC_PROVIDER, address, timeoutMs }, query }
}

/** templateRef wins over a builtin name (Flagger would run both for request-success-rate). */
async function source(canary: Canary, metric: CanaryMetric, deps: AnalysisDeps, timeoutMs: number): Promise<Source> {
  if (metric.templateRef) return templateSource(canary, metric, deps, timeoutMs)
  if (metric.query) return defaultServerSource(canary, deps, timeoutMs, metric.query)
  if (isBuiltinMetric(metric.name)) return defaultServerSource(canary, deps, timeoutMs, builtinQuery(canary.spec.provider, metric.name))
  throw new SetupError('it is not a builtin metric and has no templateRef')
}

/** The provider for `spec`: the injected one, else the registry's; throws when the provider refuses the spec. */
export function providerOf(spec: MetricProviderSpec, deps: Pick<AnalysisDeps, 'providerFor'>): MetricProvider {
  return (deps.providerFor ?? metricProviderFor)(spec)
}

/**
 * The servers the canary's metrics are queried on, each once (same address, credentials and headers).
 * A metric whose server cannot be resolved (a missing template or Secret) is left out: its own check says why.
 */
export async function metricServers(canary: Canary, deps: AnalysisDeps, timeoutMs = queryTimeoutMs(canary)): Promise<MetricProviderSpec[]> {
  const servers = new Map<string, MetricProviderSpec>()
  for (const metric of canary.spec.analysis?.metrics ?? []) {
    try {
      const { spec } = await source(canary, metric, deps, timeoutMs)
      servers.set(serverKey(spec), spec)
    } catch {
      // Reported by the metric's own check.
    }
  }
  return [...servers.values()]
}

/** Identifies a server with the credentials used on it; a digest, so that no secret is kept as a key. */
export function serverKey(spec: MetricProviderSpec): string {
  const secrets = JSON.stringify([spec.secret?.data ?? null, spec.headers ?? null])
  return `${spec.type} ${spec.address} ${createHash('sha256').update(secrets).digest('hex').slice(0, 16)}`
}

async function checkMetric(canary: Canary, metric: CanaryMetric, deps: AnalysisDeps, timeoutMs: number): Promise<CheckRecord> {
  const time = (deps.now ?? (() => new Date()))()
  try {
    const { spec, query } = await source(canary, metric, deps, timeoutMs)
    const value = await providerOf(spec, deps).query(renderQuery(query, templateVars(canary, metric)))
    return metricVerdict(metric, { kind: 'value', value }, { time })
  } catch (e) {
    return metricVerdict(metric, outcomeOfError(e), { time })
  }
}

/** The records of one tick, in the order of spec.analysis.metrics. */
export async function analyseMetrics(canary: Canary, deps: AnalysisDeps): Promise<CheckRecord[]> {
  const metrics = canary.spec.analysis?.metrics ?? []
  const timeoutMs = deps.timeoutMs ?? queryTimeoutMs(canary)
  return Promise.all(metrics.map(m => checkMetric(canary, m, deps, timeoutMs)))
}
