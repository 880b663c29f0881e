// Validation of the kinds a Canary refers to, MetricTemplate and AlertProvider: their CRD schema, then what
// this version can run (capabilities.ts). Used by the webhook at apply time and by `sluice lint`.
import { isImplementedMetricProvider, metricProviderUnavailable } from './capabilities.ts'
import type { SpecError } from './errors.ts'
import { isRecord } from '../util/records.ts'
import { checkSchema } from './schema-check.ts'
import { alertProviderSpecSchema, metricTemplateSpecSchema } from './schema.ts'
import type { AlertProviderSpec, AlertProviderType, MetricTemplateSpec } from './types.ts'

const err = (field: string, message: string): SpecError => ({ field, message })

function urlError(field: string, value: unknown): SpecError[] {
  if (typeof value !== 'string' || value === '') return []
  try {
    const { protocol } = new URL(value)
    if (protocol === 'http:' || protocol === 'https:') return []
  } catch { /* reported below */ }
  return [err(field, `must be an http:// or https:// URL (got ${JSON.stringify(value)})`)]
}

/** Problems of a MetricTemplate's spec, with fields relative to it. */
export function validateMetricTemplate(spec: unknown): SpecError[] {
  const structural = checkSchema(spec, metricTemplateSpecSchema)
  if (!isRecord(spec) || !isRecord(spec.provider)) return structural
  const provider = spec.provider as MetricTemplateSpec['provider']
  const errors = [...structural, ...urlError('provider.address', provider.address)]
  if (typeof provider.type === 'string' && !isImplementedMetricProvider(provider.type)) {
    errors.push(err('provider.type', metricProviderUnavailable(provider.type)))
  }
  if (provider.region !== undefined) {
    errors.push(err('provider.region', 'is read by the cloudwatch provider, which is not available yet in this version of sluice; remove it'))
  }
  if (provider.insecureSkipVerify !== undefined) {
    errors.push(err('provider.insecureSkipVerify', 'is not available yet in this version of sluice; give the CA of the metrics server to the controller instead (NODE_EXTRA_CA_CERTS) and remove it'))
  }
  return errors
}

// Slack and the services that take its payload address a channel as a user name; the others have no such fields.
const CHANNEL_TYPES: readonly AlertProviderType[] = ['slack', 'discord', 'rocket']

/** Problems of an AlertProvider's spec, with fields relative to it. */
export function validateAlertProvider(spec: unknown): SpecError[] {
  const structural = checkSchema(spec, alertProviderSpecSchema)
  if (!isRecord(spec)) return structural
  const typed = spec as unknown as AlertProviderSpec
  const errors = [...structural, ...urlError('address', typed.address), ...urlError('proxy', typed.proxy)]
  if (typeof typed.type === 'string' && !CHANNEL_TYPES.includes(typed.type)) {
    for (const field of ['channel', 'username'] as const) {
      if (typed[field] !== undefined) errors.push(err(field, `is not used by type ${typed.type} (only by ${CHANNEL_TYPES.join(', ')}); remove it`))
    }
  }
  if (typed.address === undefined && typed.secretRef === undefined) {
    errors.push(err('address', 'or secretRef (a Secret with the key address) is required: where the alerts are sent'))
  }
  return errors
}
