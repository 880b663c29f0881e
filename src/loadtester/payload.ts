// The body of every load tester request: Flagger's CanaryWebhookPayload, {name, namespace, phase, checksum,
// metadata}, with metadata a map of strings. Any content type is read as JSON, because the gate examples
// in Flagger's docs use `curl -d '{…}'`, which sends application/x-www-form-urlencoded.
import { isRecord } from '../util/records.ts'

export interface Payload {
  readonly name: string
  readonly namespace: string
  readonly phase: string
  readonly metadata: Readonly<Record<string, string>>
}

export type Decoded = { readonly ok: true; readonly payload: Payload } | { readonly ok: false; readonly message: string }

// A Canary's name is a DNS subdomain and its namespace a DNS label; both end up in ConfigMap keys and logs.
const NAME = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/
const NAMESPACE = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/

function metadataOf(value: unknown): Record<string, string> | string {
  if (value === undefined || value === null) return {}
  if (!isRecord(value)) return 'metadata must be an object of strings'
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(value)) {
    if (typeof v !== 'string') return `metadata.${k} must be a string (as in Flagger: quote it in the Canary's webhook, e.g. "true")`
    out[k] = v
  }
  return out
}

/** Decodes a request body; name and namespace are required, since jobs and gates are keyed by them. */
export function decodePayload(body: string): Decoded {
  let value: unknown
  try {
    value = JSON.parse(body === '' ? '{}' : body)
  } catch {
    return { ok: false, message: 'the body is not JSON: send {"name": "<canary>", "namespace": "<namespace>", …}' }
  }
  if (!isRecord(value)) return { ok: false, message: 'the body must be a JSON object with name and namespace' }
  const { name, namespace, phase } = value
  if (typeof name !== 'string' || typeof namespace !== 'string' || name === '' || namespace === '') {
    return { ok: false, message: 'name and namespace (of the Canary) are required' }
  }
  if (!NAME.test(name)) return { ok: false, message: `name "${name.slice(0, 100)}" is not a Kubernetes object name` }
  if (!NAMESPACE.test(namespace)) return { ok: false, message: `namespace "${namespace.slice(0, 100)}" is not a Kubernetes namespace name` }
  const metadata = metadataOf(value.metadata)
  if (typeof metadata === 'string') return { ok: false, message: metadata }
  return { ok: true, payload: { name, namespace, phase: typeof phase === 'string' ? phase : '', metadata } }
}

/** Phases in which a canary's run is over: its background jobs are stopped when a request carries one. */
export const RUN_ENDED: ReadonlySet<string> = new Set(['Succeeded', 'Failed', 'Terminating', 'Terminated'])

export function canaryKey(p: Pick<Payload, 'name' | 'namespace'>): string {
  return `${p.namespace}/${p.name}`
}
