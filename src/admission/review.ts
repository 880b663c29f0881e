// AdmissionReview admission.k8s.io/v1: the types (client-node has none), decoding that turns any body
// into a request or a reason, and the builders of the verdicts handlers return.
import type { PatchOperation } from '../kube/json-patch.ts'
import { isRecord } from '../util/records.ts'

export const ADMISSION_API_VERSION = 'admission.k8s.io/v1'
export const ADMISSION_KIND = 'AdmissionReview'

export type Operation = 'CREATE' | 'UPDATE' | 'DELETE' | 'CONNECT'
const OPERATIONS: ReadonlySet<string> = new Set<Operation>(['CREATE', 'UPDATE', 'DELETE', 'CONNECT'])

export interface GroupVersionKind {
  readonly group: string
  readonly version: string
  readonly kind: string
}

export interface GroupVersionResource {
  readonly group: string
  readonly version: string
  readonly resource: string
}

export interface UserInfo {
  readonly username?: string
  readonly uid?: string
  readonly groups?: readonly string[]
  readonly extra?: Readonly<Record<string, readonly string[]>>
}

export interface ObjectMeta {
  readonly name?: string
  readonly generateName?: string
  readonly namespace?: string
  readonly uid?: string
  readonly resourceVersion?: string
  readonly generation?: number
  readonly labels?: Readonly<Record<string, string>>
  readonly annotations?: Readonly<Record<string, string>>
  readonly [field: string]: unknown
}

/** Any Kubernetes object as the API server sends it; decoding guarantees the shape of `metadata`. */
export interface KubeObject {
  readonly apiVersion?: string
  readonly kind?: string
  readonly metadata?: ObjectMeta
  readonly [field: string]: unknown
}

export interface AdmissionRequest {
  readonly uid: string
  readonly kind: GroupVersionKind
  readonly resource: GroupVersionResource
  readonly subResource?: string
  readonly requestKind?: GroupVersionKind
  readonly requestResource?: GroupVersionResource
  readonly requestSubResource?: string
  readonly name?: string
  readonly namespace?: string
  readonly operation: Operation
  readonly userInfo: UserInfo
  readonly object?: KubeObject
  readonly oldObject?: KubeObject
  readonly dryRun?: boolean
  readonly options?: unknown
}

/** metav1.Status as an admission response carries it. */
export interface ResponseStatus {
  readonly status?: 'Success' | 'Failure'
  readonly message?: string
  readonly reason?: string
  readonly code?: number
}

export interface AdmissionResponse {
  readonly uid: string
  readonly allowed: boolean
  readonly status?: ResponseStatus
  readonly patch?: string
  readonly patchType?: 'JSONPatch'
  readonly warnings?: readonly string[]
  readonly auditAnnotations?: Readonly<Record<string, string>>
}

export interface AdmissionReview {
  readonly apiVersion: typeof ADMISSION_API_VERSION
  readonly kind: typeof ADMISSION_KIND
  readonly request?: AdmissionRequest
  readonly response?: AdmissionResponse
}

/** What a handler decides; the server adds the request's uid. */
export type AdmissionVerdict = Omit<AdmissionResponse, 'uid'>

export type DecodeResult =
  | { readonly ok: true; readonly request: AdmissionRequest }
  | { readonly ok: false; readonly reason: string }

// ---- decoding ------------------------------------------------------------------------------------

type Json = Record<string, unknown>

class DecodeError extends Error {}

function fail(field: string, what: string): never {
  throw new DecodeError(`${field} ${what}`)
}

function describe(v: unknown): string {
  if (v === null) return 'null'
  if (Array.isArray(v)) return 'an array'
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)
  if (typeof v === 'number' || typeof v === 'boolean') return `${typeof v} ${v}`
  return typeof v === 'object' ? 'an object' : typeof v
}

function optionalString(o: Json, key: string, field: string): string | undefined {
  const v = o[key]
  if (v === undefined || v === null) return undefined
  if (typeof v !== 'string') fail(`${field}.${key}`, `must be a string (got ${describe(v)})`)
  return v
}

function requiredString(o: Json, key: string, field: string): string {
  const v = optionalString(o, key, field)
  if (v === undefined || v === '') fail(`${field}.${key}`, 'is missing')
  return v
}

function stringList(v: unknown, field: string): readonly string[] {
  if (!Array.isArray(v) || !v.every(s => typeof s === 'string')) fail(field, 'must be a list of strings')
  return v
}

function stringMap(v: unknown, field: string): Readonly<Record<string, string>> {
  if (!isRecord(v) || !Object.values(v).every(s => typeof s === 'string')) fail(field, 'must be a map of strings')
  return v as Record<string, string>
}

function groupVersionKind(v: unknown, field: string): GroupVersionKind {
  if (!isRecord(v)) fail(field, v === undefined ? 'is missing' : `must be an object (got ${describe(v)})`)
  return { group: optionalString(v, 'group', field) ?? '', version: requiredString(v, 'version', field), kind: requiredString(v, 'kind', field) }
}

function groupVersionResource(v: unknown, field: string): GroupVersionResource {
  if (!isRecord(v)) fail(field, v === undefined ? 'is missing' : `must be an object (got ${describe(v)})`)
  return { group: optionalString(v, 'group', field) ?? '', version: requiredString(v, 'version', field), resource: requiredString(v, 'resource', field) }
}

function userInfo(v: unknown): UserInfo {
  if (v === undefined || v === null) return {}
  if (!isRecord(v)) fail('request.userInfo', `must be an object (got ${describe(v)})`)
  const groups = v.groups === undefined || v.groups === null ? undefined : stringList(v.groups, 'request.userInfo.groups')
  const extra = v.extra === undefined || v.extra === null ? undefined : v.extra
  if (extra !== undefined && (!isRecord(extra) || !Object.values(extra).every(l => Array.isArray(l) && l.every(s => typeof s === 'string')))) {
    fail('request.userInfo.extra', 'must be a map of string lists')
  }
  return {
    username: optionalString(v, 'username', 'request.userInfo'),
    uid: optionalString(v, 'uid', 'request.userInfo'),
    groups,
    extra: extra as UserInfo['extra'],
  }
}

// Handlers read metadata without re-checking it, so its shape is guaranteed here.
function kubeObject(v: unknown, field: string): KubeObject | undefined {
  if (v === undefined || v === null) return undefined
  if (!isRecord(v)) fail(field, `must be an object (got ${describe(v)})`)
  const meta = v.metadata
  if (meta === undefined || meta === null) return v
  if (!isRecord(meta)) fail(`${field}.metadata`, `must be an object (got ${describe(meta)})`)
  optionalString(meta, 'name', `${field}.metadata`)
  optionalString(meta, 'namespace', `${field}.metadata`)
  if (meta.labels !== undefined && meta.labels !== null) stringMap(meta.labels, `${field}.metadata.labels`)
  if (meta.annotations !== undefined && meta.annotations !== null) stringMap(meta.annotations, `${field}.metadata.annotations`)
  return v
}

function operation(v: unknown): Operation {
  if (typeof v !== 'string' || !OPERATIONS.has(v)) {
    fail('request.operation', `must be one of CREATE, UPDATE, DELETE, CONNECT (got ${describe(v)})`)
  }
  return v as Operation
}

function optionalBoolean(o: Json, key: string, field: string): boolean | undefined {
  const v = o[key]
  if (v === undefined || v === null) return undefined
  if (typeof v !== 'boolean') fail(`${field}.${key}`, `must be a boolean (got ${describe(v)})`)
  return v
}

function envelope(review: unknown): Json {
  if (!isRecord(review)) fail('the body', `must be an AdmissionReview object (got ${describe(review)})`)
  if (review.kind !== ADMISSION_KIND) fail('kind', `must be "${ADMISSION_KIND}" (got ${describe(review.kind)})`)
  if (review.apiVersion !== ADMISSION_API_VERSION) {
    fail('apiVersion', `must be "${ADMISSION_API_VERSION}" (got ${describe(review.apiVersion)}): register the webhook with admissionReviewVersions: [v1]`)
  }
  const request = review.request
  if (!isRecord(request)) fail('request', request === undefined ? 'is missing' : `must be an object (got ${describe(request)})`)
  return request
}

function request(r: Json): AdmissionRequest {
  const uid = requiredString(r, 'uid', 'request')
  const requestKind = r.requestKind === undefined || r.requestKind === null ? undefined : groupVersionKind(r.requestKind, 'request.requestKind')
  const requestResource = r.requestResource === undefined || r.requestResource === null
    ? undefined : groupVersionResource(r.requestResource, 'request.requestResource')
  return {
    uid,
    kind: groupVersionKind(r.kind, 'request.kind'),
    resource: groupVersionResource(r.resource, 'request.resource'),
    subResource: optionalString(r, 'subResource', 'request'),
    requestKind,
    requestResource,
    requestSubResource: optionalString(r, 'requestSubResource', 'request'),
    name: optionalString(r, 'name', 'request'),
    namespace: optionalString(r, 'namespace', 'request'),
    operation: operation(r.operation),
    userInfo: userInfo(r.userInfo),
    object: kubeObject(r.object, 'request.object'),
    oldObject: kubeObject(r.oldObject, 'request.oldObject'),
    dryRun: optionalBoolean(r, 'dryRun', 'request'),
    options: r.options ?? undefined,
  }
}

/** Checks an already parsed body. Never throws: a structural problem becomes a reason. */
export function decodeAdmissionReviewValue(review: unknown): DecodeResult {
  try {
    return { ok: true, request: request(envelope(review)) }
  } catch (err) {
    if (err instanceof DecodeError) return { ok: false, reason: `AdmissionReview: ${err.message}` }
    throw err
  }
}

/** Parses and checks a request body. Never throws: malformed input becomes a reason. */
export function decodeAdmissionReview(body: string): DecodeResult {
  let parsed: unknown
  try {
    // JSON.parse makes "__proto__" an ordinary own key, never a prototype, so parsed objects are safe to read.
    parsed = JSON.parse(body)
  } catch (err) {
    // V8's message quotes the input, which may hold a Secret's data: keep only the position.
    const at = /position \d+/.exec(err instanceof Error ? err.message : '')?.[0]
    return { ok: false, reason: `AdmissionReview: the body is not valid JSON${at ? ` (at ${at})` : ''}` }
  }
  return decodeAdmissionReviewValue(parsed)
}

// ---- verdicts ------------------------------------------------------------------------------------

const REASONS: Readonly<Record<number, string>> = {
  400: 'BadRequest', 401: 'Unauthorized', 403: 'Forbidden', 404: 'NotFound', 409: 'Conflict',
  422: 'Invalid', 429: 'TooManyRequests', 500: 'InternalError', 503: 'ServiceUnavailable',
}

// Warnings travel in HTTP Warning headers: control characters would be mangled or rejected there.
function cleanWarnings(warnings: readonly string[]): string[] {
  return warnings.map(w => w.replace(/\p{Cc}+/gu, ' ').trim()).filter(w => w !== '')
}

function withOptionalWarnings(verdict: AdmissionVerdict, warnings: readonly string[] | undefined): AdmissionVerdict {
  const cleaned = cleanWarnings(warnings ?? [])
  return cleaned.length > 0 ? { ...verdict, warnings: cleaned } : verdict
}

export function allow(warnings?: readonly string[]): AdmissionVerdict {
  return withOptionalWarnings({ allowed: true }, warnings)
}

/** Admits with a JSON Patch; an empty patch is a plain admission. */
export function allowWithPatch(ops: readonly PatchOperation[], warnings?: readonly string[]): AdmissionVerdict {
  if (ops.length === 0) return allow(warnings)
  const patch = Buffer.from(JSON.stringify(ops)).toString('base64')
  return withOptionalWarnings({ allowed: true, patchType: 'JSONPatch', patch }, warnings)
}

export interface DenyOptions {
  /** HTTP code the API server returns to the client; 403 unless given. */
  readonly code?: number
  readonly reason?: string
  readonly warnings?: readonly string[]
}

/** Rejects; the API server shows `admission webhook "<name>" denied the request: <message>`. */
export function deny(message: string, opts: DenyOptions = {}): AdmissionVerdict {
  const code = opts.code ?? 403
  const status: ResponseStatus = { status: 'Failure', code, reason: opts.reason ?? REASONS[code] ?? 'Forbidden', message }
  return withOptionalWarnings({ allowed: false, status }, opts.warnings)
}

/** Adds warnings to a verdict, after the ones it has. */
export function withWarnings(verdict: AdmissionVerdict, warnings: readonly string[]): AdmissionVerdict {
  return withOptionalWarnings(verdict, [...(verdict.warnings ?? []), ...warnings])
}

/** The review sent back: always the request's uid, whatever the verdict holds. */
export function toAdmissionReview(uid: string, verdict: AdmissionVerdict): AdmissionReview {
  return { apiVersion: ADMISSION_API_VERSION, kind: ADMISSION_KIND, response: { ...verdict, uid } }
}
