// Validation of the kinds a Canary refers to, MetricTemplate and AlertProvider: their CRD schema, then what
// this version can run (capabilities.ts). Used by the webhook at apply time and by `sluice lint`.
import {
  alertProviderUnavailable, isImplementedAlertProvider, isImplementedMetricProvider, metricProviderUnavailable,
} from './capabilities.ts'
import type { SpecError } from './errors.ts'
import { isRecord } from '../util/records.ts'
import { checkSchema } from './schema-check.ts'
import { alertProviderSpecSchema, metricTemplateSpecSchema } from './schema.ts'
import { ALERT_PROVIDER_TYPES, type AlertProviderSpec, type AlertProviderType, type MetricTemplateSpec } from './types.ts'

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

// What each service lets the sender choose: Slack and Rocket.Chat a channel and a name, Discord only the
// name (a Discord webhook posts to the channel it was created in); the others neither.
const SENDER_FIELDS: Readonly<Record<AlertProviderType, readonly ('channel' | 'username')[]>> = {
  slack: ['channel', 'username'], rocket: ['channel', 'username'], discord: ['username'], msteams: [], gchat: [], webhook: [],
}

function senderFieldErrors(spec: AlertProviderSpec): SpecError[] {
  const allowed = SENDER_FIELDS[spec.type]
  const errors: SpecError[] = []
  for (const field of ['channel', 'username'] as const) {
    if (spec[field] === undefined || allowed.includes(field)) continue
    const users = (Object.keys(SENDER_FIELDS) as AlertProviderType[]).filter(t => SENDER_FIELDS[t].includes(field))
    const hint = spec.type === 'discord' ? '; a Discord webhook posts to the channel it was created in (for a thread, add ?thread_id=<id> to the address)' : ''
    errors.push(err(field, `is not used by type ${spec.type} (only by ${users.join(', ')})${hint}; remove it`))
  }
  // Discord refuses (400) every message of a webhook name it does not allow, so it is refused here instead.
  const name = spec.username
  if (spec.type === 'discord' && typeof name === 'string' && (name.length > 80 || /clyde|discord/i.test(name))) {
    errors.push(err('username', 'must be at most 80 characters and contain neither "discord" nor "clyde" (Discord refuses such webhook names)'))
  }
  return errors
}

/** Problems of an AlertProvider's spec, with fields relative to it. */
export function validateAlertProvider(spec: unknown): SpecError[] {
  const structural = checkSchema(spec, alertProviderSpecSchema)
  if (!isRecord(spec)) return structural
  const typed = spec as unknown as AlertProviderSpec
  const errors = [...structural, ...urlError('address', typed.address), ...urlError('proxy', typed.proxy)]
  // A type outside the enum is the schema's error; one inside it runs or is refused by the capability table.
  if (isImplementedAlertProvider(typed.type)) errors.push(...senderFieldErrors(typed))
  else if ((ALERT_PROVIDER_TYPES as readonly unknown[]).includes(typed.type)) errors.push(err('type', alertProviderUnavailable(String(typed.type))))
  if (typed.address === undefined && typed.secretRef === undefined) {
    errors.push(err('address', 'or secretRef (a Secret with the key address) is required: where the alerts are sent'))
  }
  return errors
}
