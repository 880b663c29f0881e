// The seam between the analysis and a metrics backend, and the result taxonomy every provider reports:
// a number, or one of three errors that the verdict tells apart (no silent pass, no mystery failure).
import type { ImplementedMetricProvider } from '../api/capabilities.ts'

export interface MetricProvider {
  /** One number, or throws NoValuesError, MultipleValuesError or QueryError. */
  query(q: string): Promise<number>
  isOnline(): Promise<boolean>
}

/**
 * What a provider is built from: a MetricTemplate's provider (or the default server for builtin and inline
 * queries), resolved. Each provider reads its own credentials out of the Secret's data.
 */
export interface MetricProviderSpec {
  readonly type: ImplementedMetricProvider
  /** The server, as the user wrote it; the provider parses and checks it. */
  readonly address: string
  readonly timeoutMs: number
  /** Extra request headers, as a MetricTemplate's provider.headers. */
  readonly headers?: Readonly<Record<string, readonly string[]>>
  /** The template's secretRef: a name for messages (never its values), and its data, base64-decoded. */
  readonly secret?: { readonly name: string; readonly data: Readonly<Record<string, string>> }
}

/** The query ran and matched nothing, or gave NaN (0/0 when there is no traffic). */
export class NoValuesError extends Error {
  override name = 'NoValuesError'
  readonly reason: 'empty' | 'nan'
  constructor(reason: 'empty' | 'nan', detail?: string) {
    super(reason === 'empty' ? 'the query returned no series' : `the query returned NaN${detail ? ` (${detail})` : ''}`)
    this.reason = reason
  }
}

/** The query returned several series: picking one would hide the others, so it is never a value. */
export class MultipleValuesError extends Error {
  override name = 'MultipleValuesError'
  readonly count: number
  constructor(count: number, labels: readonly Record<string, string>[] = []) {
    const shown = labels.slice(0, 3).map(formatLabels).join(', ')
    super(`the query returned ${count} series${shown ? ` (${shown}${count > 3 ? ', …' : ''})` : ''}; aggregate it to one, e.g. with sum()`)
    this.count = count
  }
}

export type QueryErrorKind = 'timeout' | 'unreachable' | 'http' | 'rejected' | 'unparseable'

/** The backend could not answer: HTTP error (400/422/503…), timeout, unreachable or a body we cannot read. */
export class QueryError extends Error {
  override name = 'QueryError'
  readonly kind: QueryErrorKind
  readonly status: number | undefined
  constructor(kind: QueryErrorKind, message: string, options?: { status?: number; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause })
    this.kind = kind
    this.status = options?.status
  }
}

/** A server's address as shown in messages: scheme, host and path only (no credentials, no query string). */
export function displayAddress(url: URL): string {
  return `${url.protocol}//${url.host}${url.pathname.replace(/\/+$/, '')}`
}

function formatLabels(labels: Record<string, string>): string {
  const entries = Object.entries(labels)
  return `{${entries.map(([k, v]) => `${k}="${v}"`).join(',')}}`
}
