// Reads the API server's answer out of a client-node ApiException. In 2.x the typed APIs put the raw
// response text in `body`, and the exception's own message embeds headers too, so it is not logged.

import { isRecord } from '../util/records.ts'

export interface ApiError {
  readonly code: number
  readonly reason: string
  readonly message: string
}

const MAX_MESSAGE = 500

function statusOf(body: unknown): Record<string, unknown> | undefined {
  if (isRecord(body)) return body
  if (typeof body !== 'string' || body === '') return undefined
  try {
    const parsed: unknown = JSON.parse(body)
    return isRecord(parsed) ? parsed : undefined
  } catch {
    return undefined
  }
}

function fallbackReason(code: number): string {
  switch (code) {
    case 400: return 'BadRequest'
    case 401: return 'Unauthorized'
    case 403: return 'Forbidden'
    case 404: return 'NotFound'
    case 409: return 'Conflict'
    case 410: return 'Expired'
    case 422: return 'Invalid'
    case 429: return 'TooManyRequests'
    default: return code >= 500 ? 'InternalError' : 'Unknown'
  }
}

/** The code, reason and message of a Kubernetes API error, or undefined when `err` is not one. */
export function readApiError(err: unknown): ApiError | undefined {
  if (typeof err !== 'object' || err === null) return undefined
  const e = err as { code?: unknown; body?: unknown }
  if (typeof e.code !== 'number' || !('body' in e)) return undefined
  const status = statusOf(e.body)
  const reason = typeof status?.reason === 'string' && status.reason !== '' ? status.reason : fallbackReason(e.code)
  let message = typeof status?.message === 'string' ? status.message : ''
  if (message === '' && typeof e.body === 'string' && status === undefined) message = e.body
  if (message === '') message = `HTTP ${e.code} ${reason}`
  return { code: e.code, reason, message: message.slice(0, MAX_MESSAGE) }
}

/** A short description of any error for logs: the API server's message when there is one. */
export function describeError(err: unknown): string {
  const api = readApiError(err)
  if (api) return `${api.code} ${api.reason}: ${api.message}`
  return err instanceof Error ? err.message : String(err)
}

export function isConflict(err: unknown): boolean {
  return readApiError(err)?.code === 409
}

export function isNotFound(err: unknown): boolean {
  return readApiError(err)?.code === 404
}
