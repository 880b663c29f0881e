// Kubernetes Events (core/v1, what `kubectl describe` and `kubectl get events` show) for every
// controller decision. A repeat within ten minutes bumps the existing Event's count, as client-go's
// recorder does, so a decision taken every interval does not flood the namespace. Recording never
// throws: a reconcile must not fail because its Event could not be written.
import { hostname } from 'node:os'
import type { CoreV1Event, KubeConfig } from '@kubernetes/client-node'
import type { Logger } from 'pino'
import { describeError, isNotFound } from '../kube/errors.ts'
import { setNewest } from '../util/bounded-map.ts'
import { createJsonApi, MERGE_PATCH } from '../kube/json-api.ts'

export interface EventObject {
  readonly apiVersion: string
  readonly kind: string
  readonly name: string
  /** Empty for a cluster-scoped object; its Events then go to `default`, as kubectl looks for them there. */
  readonly namespace: string
  readonly uid?: string
}

export type EventType = 'Normal' | 'Warning'

export interface EventRecorder {
  record(object: EventObject, type: EventType, reason: string, message: string): Promise<void>
}

export interface EventRecorderOptions {
  readonly kc: KubeConfig
  /** source.component, the "From" column of `kubectl describe`. */
  readonly component?: string
  readonly logger: Logger
  readonly now?: () => Date
}

/** The API server's limit for an Event message, in bytes (events.k8s.io validation). */
export const MAX_MESSAGE_BYTES = 1024
/** Repeats closer together than this are folded into one Event. */
export const DEDUP_WINDOW_MS = 10 * 60_000
/** How many distinct Events are remembered for folding. */
export const DEDUP_CAPACITY = 4096
const MAX_REASON = 128
const REQUEST_TIMEOUT_MS = 10_000

/** Cuts `message` to the API limit without splitting a UTF-8 character, marking the cut. */
export function truncateMessage(message: string, maxBytes = MAX_MESSAGE_BYTES): string {
  if (Buffer.byteLength(message) <= maxBytes) return message
  const marker = '...'
  let out = ''
  let bytes = 0
  for (const ch of message) {
    const n = Buffer.byteLength(ch)
    if (bytes + n > maxBytes - marker.length) break
    out += ch
    bytes += n
  }
  return out + marker
}

/** What makes two records the same Event. */
export function eventKey(o: EventObject, type: EventType, reason: string, message: string): string {
  return JSON.stringify([o.apiVersion, o.kind, o.namespace, o.name, o.uid ?? '', type, reason, message])
}

// A name unique enough across replicas and restarts: the object's name, the time, and a random tail.
function eventName(objectName: string, at: Date): string {
  const stamp = (BigInt(at.getTime()) * 1_000_000n).toString(16)
  const tail = Math.floor(Math.random() * 0x10000).toString(16).padStart(4, '0')
  return `${objectName.slice(0, 253 - stamp.length - tail.length - 1)}.${stamp}${tail}`
}

interface Remembered {
  name: string
  namespace: string
  count: number
  lastMs: number
  /** Records of the same Event run one after another, so a burst cannot create duplicates. */
  chain: Promise<void>
}

export function createEventRecorder(options: EventRecorderOptions): EventRecorder {
  const component = options.component ?? 'sluice'
  const now = options.now ?? ((): Date => new Date())
  const log = options.logger
  const api = createJsonApi(options.kc)
  const instance = hostname()
  const events = (namespace: string): string => `/api/v1/namespaces/${encodeURIComponent(namespace)}/events`
  // Insertion order is recency order: a touched entry is re-inserted, the first one is the oldest.
  const seen = new Map<string, Remembered>()

  const remember = (key: string, entry: Remembered): void => { setNewest(seen, key, entry, DEDUP_CAPACITY) }

  const create = async (key: string, o: EventObject, type: EventType, reason: string, message: string, entry: Remembered): Promise<void> => {
    const at = now()
    const namespace = o.namespace || 'default'
    const body: CoreV1Event = {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: eventName(o.name, at), namespace },
      involvedObject: { apiVersion: o.apiVersion, kind: o.kind, name: o.name, namespace: o.namespace || undefined, uid: o.uid },
      type,
      reason,
      message,
      source: { component },
      reportingComponent: 'sluice',
      reportingInstance: instance.slice(0, 128),
      firstTimestamp: at,
      lastTimestamp: at,
      count: 1,
    }
    const created = await api<CoreV1Event>('POST', events(namespace), { body, timeoutMs: REQUEST_TIMEOUT_MS })
    entry.name = created.metadata?.name ?? body.metadata.name ?? ''
    entry.namespace = namespace
    entry.count = created.count ?? 1
    entry.lastMs = at.getTime()
    remember(key, entry)
  }

  const bump = async (key: string, o: EventObject, type: EventType, reason: string, message: string, entry: Remembered): Promise<void> => {
    const at = now()
    if (entry.name !== '' && at.getTime() - entry.lastMs < DEDUP_WINDOW_MS) {
      try {
        const count = entry.count + 1
        await api('PATCH', `${events(entry.namespace)}/${encodeURIComponent(entry.name)}`, {
          body: { count, lastTimestamp: at }, contentType: MERGE_PATCH, timeoutMs: REQUEST_TIMEOUT_MS,
        })
        entry.count = count
        entry.lastMs = at.getTime()
        remember(key, entry)
        return
      } catch (err) {
        // Expired (the API server's event TTL) or deleted: start a new Event instead.
        if (!isNotFound(err)) throw err
      }
    }
    await create(key, o, type, reason, message, entry)
  }

  return {
    record(object: EventObject, type: EventType, reason: string, message: string): Promise<void> {
      const fail = (err: unknown): void => {
        log.warn({ err: describeError(err), object: `${object.kind} ${object.namespace}/${object.name}`, reason }, 'could not record Event')
      }
      try {
        const msg = truncateMessage(message)
        const why = reason.slice(0, MAX_REASON)
        const key = eventKey(object, type, why, msg)
        const entry = seen.get(key) ?? { name: '', namespace: '', count: 0, lastMs: 0, chain: Promise.resolve() }
        remember(key, entry)
        const run = entry.chain.then(() => bump(key, object, type, why, msg, entry)).catch(fail)
        entry.chain = run
        return run
      } catch (err) {
        fail(err)
        return Promise.resolve()
      }
    },
  }
}
