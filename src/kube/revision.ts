// The revision of a Deployment: a hash of its pod template as the user wrote it. Fields the API server
// fills in are removed before hashing, so a server-defaulted template hashes like the submitted one and a
// Kubernetes or sluice upgrade does not start canaries (Flagger hashed a struct dump: #1201, #1673).
// In kube/, not api/: it encodes the API server's defaults for pod templates, not the sluice.dev API.
import { createHash } from 'node:crypto'
import { isRecord } from '../util/records.ts'
import { canonicalQuantity } from './quantity.ts'
import { setNewest } from '../util/bounded-map.ts'

type Json = Record<string, unknown>

const POD_DEFAULTS: Json = {
  restartPolicy: 'Always',
  dnsPolicy: 'ClusterFirst',
  schedulerName: 'default-scheduler',
  terminationGracePeriodSeconds: 30,
  enableServiceLinks: true,
}

const CONTAINER_DEFAULTS: Json = {
  terminationMessagePath: '/dev/termination-log',
  terminationMessagePolicy: 'File',
}

const PROBE_DEFAULTS: Json = { timeoutSeconds: 1, periodSeconds: 10, successThreshold: 1, failureThreshold: 3 }

const DEFAULT_MODE = 420 // 0644, the API server's default for configMap, secret, downwardAPI and projected volumes

// Keys whose value is a map of quantities, and keys whose value is one quantity.
const QUANTITY_MAPS = new Set(['limits', 'requests', 'overhead'])
const QUANTITY_KEYS = new Set(['sizeLimit', 'divisor'])

// An empty object that still means something: `emptyDir: {}` selects the volume type.
const MEANINGFUL_EMPTY = new Set(['emptyDir'])

// A loop rather than Object.entries → filter → fromEntries, which made normalizeTemplate twice as slow.
function withoutDefaults(object: unknown, defaults: Json): unknown {
  if (!isRecord(object)) return object
  const out: Json = {}
  for (const k of Object.keys(object)) {
    const v = object[k]
    if (defaults[k] !== undefined && defaults[k] === v) continue
    // A key "__proto__" (legal in JSON, an own key after JSON.parse) must stay a key, not set the prototype.
    if (k === '__proto__') Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true })
    else out[k] = v
  }
  return out
}

/** Always for :latest or an untagged image, IfNotPresent otherwise (the API server's rule). */
export function defaultPullPolicy(image: string): 'Always' | 'IfNotPresent' {
  if (image.includes('@')) return 'IfNotPresent'
  const lastPart = image.slice(image.lastIndexOf('/') + 1)
  const colon = lastPart.lastIndexOf(':')
  return colon < 0 || lastPart.slice(colon + 1) === 'latest' ? 'Always' : 'IfNotPresent'
}

function normalizeHandler(handler: unknown): unknown {
  if (!isRecord(handler) || !isRecord(handler.httpGet)) return handler
  return { ...handler, httpGet: withoutDefaults(handler.httpGet, { scheme: 'HTTP' }) }
}

function normalizeProbe(probe: unknown): unknown {
  return normalizeHandler(withoutDefaults(probe, PROBE_DEFAULTS))
}

function normalizeLifecycle(lifecycle: unknown): unknown {
  if (!isRecord(lifecycle)) return lifecycle
  return Object.fromEntries(Object.entries(lifecycle).map(([k, v]) => [k, normalizeHandler(v)]))
}

function normalizeEnv(env: unknown): unknown {
  if (!Array.isArray(env)) return env
  return env.map((entry: unknown) => {
    if (!isRecord(entry) || !isRecord(entry.valueFrom) || !isRecord(entry.valueFrom.fieldRef)) return entry
    return { ...entry, valueFrom: { ...entry.valueFrom, fieldRef: withoutDefaults(entry.valueFrom.fieldRef, { apiVersion: 'v1' }) } }
  })
}

function normalizePorts(ports: unknown, hostNetwork: boolean): unknown {
  if (!Array.isArray(ports)) return ports
  return ports.map((port: unknown) => {
    if (!isRecord(port)) return port
    const stripped = withoutDefaults(port, { protocol: 'TCP' }) as Json
    // With hostNetwork the server copies containerPort into hostPort.
    if (hostNetwork && stripped.hostPort === stripped.containerPort) delete stripped.hostPort
    return stripped
  })
}

function normalizeContainer(container: unknown, hostNetwork: boolean): unknown {
  if (!isRecord(container)) return container
  const c = withoutDefaults(container, CONTAINER_DEFAULTS) as Json
  if (typeof c.image === 'string' && c.imagePullPolicy === defaultPullPolicy(c.image)) delete c.imagePullPolicy
  for (const probe of ['livenessProbe', 'readinessProbe', 'startupProbe']) {
    if (c[probe] !== undefined) c[probe] = normalizeProbe(c[probe])
  }
  if (c.lifecycle !== undefined) c.lifecycle = normalizeLifecycle(c.lifecycle)
  if (c.env !== undefined) c.env = normalizeEnv(c.env)
  if (c.ports !== undefined) c.ports = normalizePorts(c.ports, hostNetwork)
  return c
}

function normalizeVolume(volume: unknown): unknown {
  if (!isRecord(volume)) return volume
  const v: Json = { ...volume }
  for (const source of ['configMap', 'secret', 'downwardAPI', 'projected']) {
    if (isRecord(v[source])) v[source] = withoutDefaults(v[source], { defaultMode: DEFAULT_MODE })
  }
  if (isRecord(v.hostPath)) v.hostPath = withoutDefaults(v.hostPath, { type: '' })
  if (isRecord(v.projected) && Array.isArray(v.projected.sources)) {
    v.projected = {
      ...v.projected,
      sources: v.projected.sources.map((s: unknown) => isRecord(s) && isRecord(s.serviceAccountToken)
        ? { ...s, serviceAccountToken: withoutDefaults(s.serviceAccountToken, { expirationSeconds: 3600 }) }
        : s),
    }
  }
  return v
}

function normalizeServiceAccount(spec: Json): void {
  // The server mirrors serviceAccountName into the deprecated serviceAccount field (and back).
  const name = spec.serviceAccountName ?? spec.serviceAccount
  delete spec.serviceAccount
  if (name !== undefined) spec.serviceAccountName = name
}

function normalizePodSpec(podSpec: unknown): unknown {
  if (!isRecord(podSpec)) return podSpec
  const spec = withoutDefaults(podSpec, POD_DEFAULTS) as Json
  const hostNetwork = spec.hostNetwork === true
  for (const key of ['containers', 'initContainers', 'ephemeralContainers']) {
    if (Array.isArray(spec[key])) spec[key] = (spec[key] as unknown[]).map(c => normalizeContainer(c, hostNetwork))
  }
  if (Array.isArray(spec.volumes)) spec.volumes = spec.volumes.map(normalizeVolume)
  normalizeServiceAccount(spec)
  return spec
}

// Quantities as canonical, remembered: a template repeats a few ("250m", "512Mi"), and the BigInt arithmetic
// was an eighth of the canonical JSON's time. Bounded in count and in length, as the values are the user's and
// the webhook sees them before the API server validates them.
const QUANTITIES = new Map<string | number, string | undefined>()
const QUANTITIES_CAPACITY = 1024
const REMEMBERED_LENGTH = 64

function normalizeQuantity(value: unknown): unknown {
  if (typeof value !== 'string' && typeof value !== 'number') return value
  let canonical = QUANTITIES.get(value)
  if (canonical === undefined && !QUANTITIES.has(value)) {
    canonical = canonicalQuantity(value)
    if (typeof value === 'number' || value.length <= REMEMBERED_LENGTH) setNewest(QUANTITIES, value, canonical, QUANTITIES_CAPACITY)
  }
  return canonical === undefined ? value : `${canonical}n`
}

// Maps whose string values are kept verbatim: an empty label value is still a label.
const STRING_MAPS = new Set(['labels', 'annotations', 'nodeSelector', 'matchLabels'])

/**
 * Sorted keys; nulls, empty strings, empty lists and empty objects dropped (the server omits them);
 * quantities canonical. The definition of the revision's canonical form: nothing at run time calls it any
 * more, canonicalJson writes its JSON in one pass, and the unit test holds the two equal on random JSON.
 */
export function canonicalize(value: unknown, key = ''): unknown {
  if (Array.isArray(value)) {
    const items = value.map(v => canonicalize(v)).filter(v => v !== undefined)
    return items.length === 0 ? undefined : items
  }
  if (!isRecord(value)) {
    if (value === null || value === '') return undefined
    return QUANTITY_KEYS.has(key) ? normalizeQuantity(value) : value
  }
  const entries = Object.keys(value).sort().flatMap(k => {
    const child = QUANTITY_MAPS.has(key) ? normalizeQuantity(value[k])
      : STRING_MAPS.has(key) ? value[k] : canonicalize(value[k], k)
    return child === undefined || child === null ? [] : [[k, child] as const]
  })
  if (entries.length === 0 && !MEANINGFUL_EMPTY.has(key)) return undefined
  return Object.fromEntries(entries)
}

/**
 * JSON.stringify(canonicalize(value)), written in one pass without building the canonical copy first (the
 * webhook hashes every new template; a test holds the two equal, so no revision changes).
 */
export function canonicalJson(value: unknown): string {
  return canonicalText(value, '') ?? 'null'
}

// Strings grown by concatenation (V8 ropes) rather than arrays joined, and keys quoted without JSON.stringify
// when they need no escape: the hash of a new template is on the webhook's path for every changed Deployment.
function canonicalText(value: unknown, key: string): string | undefined {
  if (typeof value !== 'object') {
    if (value === '' || value === undefined) return undefined
    return leafText(QUANTITY_KEYS.has(key) ? normalizeQuantity(value) : value)
  }
  if (value === null) return undefined
  if (Array.isArray(value)) return arrayText(value)
  return objectText(value as Record<string, unknown>, key)
}

function arrayText(value: readonly unknown[]): string | undefined {
  let items = ''
  for (const v of value) {
    const text = canonicalText(v, '')
    if (text !== undefined) items = items === '' ? text : `${items},${text}`
  }
  return items === '' ? undefined : `[${items}]`
}

// A key that JSON.stringify writes as it is, between quotes: most keys of a pod template.
const PLAIN_KEY = /^[A-Za-z0-9_.\-/:]*$/
// Keys as JSON, remembered: a template repeats a few hundred field names. Bounded in count and in length, as
// label and annotation keys are the user's (a label key is at most 317 characters once the API server validates it).
const QUOTED = new Map<string, string>()
const QUOTED_CAPACITY = 4096
const QUOTED_LENGTH = 320

function quotedKey(k: string): string {
  let quoted = QUOTED.get(k)
  if (quoted === undefined) {
    quoted = PLAIN_KEY.test(k) ? `"${k}"` : JSON.stringify(k)
    if (k.length <= QUOTED_LENGTH) setNewest(QUOTED, k, quoted, QUOTED_CAPACITY)
  }
  return quoted
}

// canonicalize sorts the keys into a new object, where JavaScript puts integer keys first in numeric order (a
// label named "2" comes before "app"); Object.keys already lists them first that way, so only the rest is sorted.
const INDEX = /^(0|[1-9]\d{0,9})$/
const isDigit = (code: number): boolean => code >= 48 && code <= 57
function canonicalKeyOrder(record: Record<string, unknown>): string[] {
  const keys = Object.keys(record)
  let indexes = 0
  // Only a key starting with a digit can be an index; most objects have none, so the test is skipped.
  while (indexes < keys.length && isDigit(keys[indexes]!.charCodeAt(0)) && INDEX.test(keys[indexes]!) && Number(keys[indexes]) < 4294967295) indexes++
  return indexes === 0 ? sortKeys(keys) : [...keys.slice(0, indexes), ...sortKeys(keys.slice(indexes))]
}

// Objects of a pod template have a handful of keys: an insertion sort with `<` (UTF-16 code units, the order
// of Array.prototype.sort without a comparator) is several times cheaper there than the generic sort.
function sortKeys(keys: string[]): string[] {
  if (keys.length > 16) return keys.sort()
  for (let i = 1; i < keys.length; i++) {
    const k = keys[i]!
    let j = i - 1
    while (j >= 0 && keys[j]! > k) { keys[j + 1] = keys[j]!; j-- }
    keys[j + 1] = k
  }
  return keys
}

// A string JSON.stringify writes as it is, between quotes (no quote, backslash, control character or surrogate).
const PLAIN_STRING = /^[^"\\\u0000-\u001f\ud800-\udfff]*$/

// JSON.stringify of a leaf, without the call for the common cases: a plain string, a finite number, a boolean.
function leafText(value: unknown): string | undefined {
  if (typeof value === 'string') return PLAIN_STRING.test(value) ? `"${value}"` : JSON.stringify(value)
  if (typeof value === 'boolean') return value ? 'true' : 'false'
  if (typeof value === 'number' && Number.isFinite(value)) return String(value)
  return JSON.stringify(value)
}

function objectText(record: Record<string, unknown>, key: string): string | undefined {
  const quantities = QUANTITY_MAPS.has(key)
  const verbatim = STRING_MAPS.has(key)
  let entries = ''
  for (const k of canonicalKeyOrder(record)) {
    const child = quantities ? rawText(normalizeQuantity(record[k])) : verbatim ? rawText(record[k]) : canonicalText(record[k], k)
    if (child === undefined) continue
    const entry = `${quotedKey(k)}:${child}`
    entries = entries === '' ? entry : `${entries},${entry}`
  }
  if (entries === '') return MEANINGFUL_EMPTY.has(key) ? '{}' : undefined
  return `{${entries}}`
}

// A value kept as written (a label, a quantity): only null and absence drop it, as in canonicalize.
function rawText(value: unknown): string | undefined {
  return value === null || value === undefined ? undefined : typeof value === 'object' ? JSON.stringify(value) : leafText(value)
}

/** The pod template without the fields the API server defaults. */
export function normalizeTemplate(template: unknown): unknown {
  if (!isRecord(template)) return template
  return { ...template, spec: normalizePodSpec(template.spec) }
}

export const REVISION_LENGTH = 16

/** sha256 of the canonical, default-free pod template, truncated; the same before and after the API server. */
export function templateRevision(template: unknown): string {
  return createHash('sha256').update(canonicalJson(normalizeTemplate(template))).digest('hex').slice(0, REVISION_LENGTH)
}

/** The hash of a ConfigMap's or Secret's data, as status.trackedConfigs records it: sha256(json(data))[:8]. */
export function configHash(data: unknown): string {
  return createHash('sha256').update(canonicalJson(data ?? {})).digest('hex').slice(0, 8)
}
