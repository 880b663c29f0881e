// The seam between the analysis and a metrics backend, and the result taxonomy every provider reports:
// a number, or one of three errors that the verdict tells apart (no silent pass, no mystery failure).

export interface MetricProvider {
  /** One number, or throws NoValuesError, MultipleValuesError or QueryError. */
  query(q: string): Promise<number>
  isOnline(): Promise<boolean>
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

function formatLabels(labels: Record<string, string>): string {
  const entries = Object.entries(labels)
  return `{${entries.map(([k, v]) => `${k}="${v}"`).join(',')}}`
}
