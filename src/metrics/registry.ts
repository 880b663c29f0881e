// Which MetricProvider runs a MetricTemplate's provider type. Apart from provider.ts (the seam every provider
// imports), so that the providers do not import the file that imports them.
import type { ImplementedMetricProvider } from '../api/capabilities.ts'
import { prometheusProvider } from './prometheus.ts'
import type { MetricProvider, MetricProviderSpec } from './provider.ts'

// One line per provider; the key type makes this registry and the capability table list the same types.
const METRIC_PROVIDERS: Readonly<Record<ImplementedMetricProvider, (spec: MetricProviderSpec) => MetricProvider>> = {
  prometheus: prometheusProvider,
}

export const REGISTERED_METRIC_PROVIDERS = Object.keys(METRIC_PROVIDERS) as ImplementedMetricProvider[]

/** The provider type of a template that names none, and of builtin and inline queries (Flagger's default). */
export const DEFAULT_METRIC_PROVIDER: ImplementedMetricProvider = 'prometheus'

/** A client for `spec`; throws when the provider refuses it (an unusable address, a Secret without credentials). */
export function metricProviderFor(spec: MetricProviderSpec): MetricProvider {
  return METRIC_PROVIDERS[spec.type](spec)
}
