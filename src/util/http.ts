// Small HTTP helpers shared by analysis webhooks (hooks/) and alert providers (notify/): URL checks that
// keep credentials out of every message, a bounded read of an answer's body, and failure reasons a person
// on call can act on.

/** A target URL ready for fetch, with what may be printed about it. */
export interface Target {
  /** The URL to call: userinfo removed (fetch refuses it), query string kept (it may carry a token). */
  readonly url: string
  /** Basic credentials taken from the URL's userinfo, as Go's HTTP client would send them. */
  readonly headers: Readonly<Record<string, string>>
  /** Scheme, host and path only: no userinfo, no query string, no fragment. */
  readonly display: string
}

export class UrlError extends Error {
  override readonly name = 'UrlError'
}

/** What may be shown of a URL: scheme://host/path. Never the userinfo or the query string. */
export function displayUrl(url: URL): string {
  return `${url.protocol}//${url.host}${url.pathname}`
}

/**
 * Parses an http(s) URL. Error messages never repeat the text, which may hold a token (Slack and Google
 * Chat addresses are secrets in themselves); `what` names the field for the reader.
 */
export function parseTarget(raw: string, what: string): Target {
  let url: URL
  try {
    url = new URL(raw.trim())
  } catch {
    throw new UrlError(`${what} is not a URL; use http(s)://host[:port]/path`)
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UrlError(`${what} must be an http:// or https:// URL, not ${url.protocol.replace(/:$/, '')}`)
  }
  const headers: Record<string, string> = {}
  if (url.username || url.password) {
    const pair = `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`
    headers.Authorization = `Basic ${Buffer.from(pair, 'utf8').toString('base64')}`
    url.username = ''
    url.password = ''
  }
  url.hash = ''
  return { url: url.toString(), headers, display: displayUrl(url) }
}

const SNIPPET_CHARS = 200
// Enough to fill the snippet after whitespace is folded, without buffering an arbitrary body.
const READ_LIMIT = 8192

/** The first 200 characters of a body, whitespace folded; '' when it cannot be read. Releases the connection. */
export async function bodySnippet(res: Response): Promise<string> {
  const body = res.body
  if (!body) return ''
  const reader = body.getReader()
  const decoder = new TextDecoder()
  let text = ''
  try {
    while (text.length < READ_LIMIT) {
      const { done, value } = await reader.read() as { done: boolean; value?: Uint8Array }
      if (done) break
      text += decoder.decode(value, { stream: true })
    }
  } catch {
    // A body cut short (timeout, reset) still leaves the status to report.
  } finally {
    await reader.cancel().catch(() => undefined)
  }
  return text.replace(/\s+/g, ' ').trim().slice(0, SNIPPET_CHARS)
}

/** Drops an answer's body unread, so that a keep-alive connection is released. */
export async function discardBody(res: Response): Promise<void> {
  await res.body?.cancel().catch(() => undefined)
}

const TLS_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID', 'ERR_TLS_CERT_ALTNAME_INVALID',
])

const WORDS: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host name lookup failed',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  UND_ERR_CONNECT_TIMEOUT: 'connection timed out',
  UND_ERR_SOCKET: 'connection closed',
}

export interface TransportFailure {
  readonly kind: 'timeout' | 'tls' | 'network'
  /** e.g. "connection refused (ECONNREFUSED)"; never a URL. */
  readonly reason: string
}

interface ErrorLike { name?: unknown; message?: unknown; code?: unknown; cause?: unknown }

function errorCode(e: ErrorLike | undefined): string | undefined {
  for (let err = e, depth = 0; err && depth < 4; err = err.cause as ErrorLike | undefined, depth++) {
    if (typeof err.code === 'string') return err.code
  }
  return undefined
}

/** Names why a request failed before any answer came back. */
export function transportFailure(e: unknown): TransportFailure {
  const err = (e ?? {}) as ErrorLike
  if (err.name === 'TimeoutError' || err.name === 'AbortError') return { kind: 'timeout', reason: 'timed out' }
  const code = errorCode(err)
  if (code && TLS_CODES.has(code)) return { kind: 'tls', reason: `TLS certificate not accepted (${code})` }
  if (code) return { kind: 'network', reason: WORDS[code] ? `${WORDS[code]} (${code})` : code }
  const cause = err.cause as ErrorLike | undefined
  const text = typeof cause?.message === 'string' ? cause.message : typeof err.message === 'string' ? err.message : 'request failed'
  // Errors from the HTTP stack can quote the request URL, query string and all.
  return { kind: 'network', reason: text.replace(/[a-z][a-z0-9+.-]*:\/\/\S+/gi, '<url>').slice(0, 200) }
}
