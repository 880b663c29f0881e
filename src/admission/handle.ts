// Runs one admission handler and turns whatever it does into a verdict the API server accepts:
// an exception or a malformed answer becomes a denial, so failurePolicy Fail holds without a 500.
import { allow, deny } from './review.ts'
import { isRecord } from '../util/records.ts'
import type { AdmissionRequest, AdmissionVerdict, ResponseStatus } from './review.ts'

/** Decides one request. Pure with respect to I/O: it may read informer caches, never call the API. */
export type AdmissionHandler = (request: AdmissionRequest) => AdmissionVerdict | Promise<AdmissionVerdict>

export interface GroupKind {
  readonly group: string
  readonly kind: string
}

export interface AdmissionRoute {
  /** URL path registered in the webhook configuration's clientConfig, e.g. `/mutate/deployments`. */
  readonly path: string
  /** The API server rejects patches from validating webhooks, so the server refuses to send one. */
  readonly type: 'mutating' | 'validating'
  /** Kinds the handler understands; others are admitted unchanged. All kinds when absent. */
  readonly accepts?: readonly GroupKind[]
  readonly handler: AdmissionHandler
}

export type Outcome =
  | { readonly kind: 'decided'; readonly verdict: AdmissionVerdict }
  | { readonly kind: 'skipped'; readonly verdict: AdmissionVerdict }
  | { readonly kind: 'failed'; readonly verdict: AdmissionVerdict; readonly error: unknown }

const MAX_ERROR_MESSAGE = 1000

function errorMessage(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err)
  return text.length > MAX_ERROR_MESSAGE ? `${text.slice(0, MAX_ERROR_MESSAGE)}…` : text
}

function internalError(route: AdmissionRoute, err: unknown): Outcome {
  return { kind: 'failed', error: err, verdict: deny(`sluice ${route.path}: internal error: ${errorMessage(err)}`, { code: 500 }) }
}

function status(v: unknown): ResponseStatus {
  if (!isRecord(v)) throw new Error('the handler returned a status that is not an object')
  const { status: result, message, reason, code } = v
  if (result !== undefined && result !== 'Success' && result !== 'Failure') throw new Error('the handler returned a status that is neither Success nor Failure')
  if (message !== undefined && typeof message !== 'string') throw new Error('the handler returned a status message that is not a string')
  if (reason !== undefined && typeof reason !== 'string') throw new Error('the handler returned a status reason that is not a string')
  if (code !== undefined && !(Number.isInteger(code) && (code as number) >= 100 && (code as number) <= 599)) {
    throw new Error('the handler returned a status code that is not an HTTP code')
  }
  return { status: result, message, reason, code: code as number | undefined }
}

// Types vanish at run time; a handler's answer is rebuilt from known fields only, each checked.
function sanitize(route: AdmissionRoute, v: unknown): AdmissionVerdict {
  if (!isRecord(v) || typeof v.allowed !== 'boolean') throw new Error('the handler returned no verdict')
  const out: { -readonly [K in keyof AdmissionVerdict]: AdmissionVerdict[K] } = { allowed: v.allowed }
  if (v.patch !== undefined) {
    if (route.type === 'validating') throw new Error('a validating handler returned a patch')
    if (typeof v.patch !== 'string' || v.patchType !== 'JSONPatch') throw new Error('the handler returned a patch that is not base64 JSONPatch')
    out.patch = v.patch
    out.patchType = 'JSONPatch'
  }
  if (v.status !== undefined) out.status = status(v.status)
  if (v.warnings !== undefined) {
    if (!Array.isArray(v.warnings) || !v.warnings.every(w => typeof w === 'string')) throw new Error('the handler returned warnings that are not strings')
    out.warnings = v.warnings
  }
  if (v.auditAnnotations !== undefined) {
    if (!isRecord(v.auditAnnotations)) throw new Error('the handler returned auditAnnotations that are not a map')
    out.auditAnnotations = v.auditAnnotations as Record<string, string>
  }
  return out
}

export function accepts(route: AdmissionRoute, request: AdmissionRequest): boolean {
  return route.accepts === undefined || route.accepts.some(gk => gk.group === request.kind.group && gk.kind === request.kind.kind)
}

/** Never rejects. */
export async function runHandler(route: AdmissionRoute, request: AdmissionRequest): Promise<Outcome> {
  if (!accepts(route, request)) return { kind: 'skipped', verdict: allow() }
  try {
    return { kind: 'decided', verdict: sanitize(route, await route.handler(request)) }
  } catch (err) {
    return internalError(route, err)
  }
}
