// Prometheus instant queries (POST /api/v1/query) mapped onto the result taxonomy of provider.ts.
// Every failure mode is named: timeout, unreachable, HTTP status with Prometheus' own error text,
// empty or NaN, several series, or a body we cannot read.
import { request } from 'undici'
import { formatDuration } from '../util/duration.ts'
import { displayAddress, MultipleValuesError, NoValuesError, QueryError, type MetricProvider, type MetricProviderSpec } from './provider.ts'

export type PrometheusAuth =
  | { readonly type: 'bearer'; readonly token: string }
  | { readonly type: 'basic'; readonly username: string; readonly password: string }

export interface PrometheusOptions {
  /** http(s)://host:port[/prefix]; the API lives under <address>/api/v1. */
  readonly address: string
  readonly timeoutMs?: number
  readonly auth?: PrometheusAuth
  /** Extra request headers, as a MetricTemplate's provider.headers. */
  readonly headers?: Readonly<Record<string, readonly string[]>>
}

/** Flagger's Prometheus timeout; the analysis passes a shorter one derived from the interval. */
export const DEFAULT_TIMEOUT_MS = 5000
const MAX_ERROR_TEXT = 300
const INFINITIES: Readonly<Record<string, number>> = { '+Inf': Infinity, Inf: Infinity, '-Inf': -Infinity }

/**
 * Turns a Secret's decoded data into credentials: `token` ⇒ bearer, `username` + `password` ⇒ basic.
 * Errors name the keys, never their values.
 */
export function prometheusAuthFromSecret(data: Readonly<Record<string, string>>, secretName = 'the Secret'): PrometheusAuth {
  const token = data.token?.trim()
  if (token) return { type: 'bearer', token }
  const { username, password } = data
  if (username !== undefined && password !== undefined) return { type: 'basic', username, password }
  if (username !== undefined || password !== undefined) {
    throw new Error(`${secretName} has ${username === undefined ? 'password' : 'username'} but no ${username === undefined ? 'username' : 'password'}; basic auth needs both`)
  }
  const keys = Object.keys(data).sort().join(', ') || 'no keys'
  throw new Error(`${secretName} has neither token nor username+password (it has ${keys})`)
}

export function parsePrometheusAddress(address: string): URL {
  let url: URL
  try {
    url = new URL(address)
  } catch {
    throw new QueryError('unreachable', `metrics server address ${JSON.stringify(address)} is not a URL; use http(s)://host:port`)
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new QueryError('unreachable', `metrics server address must be http or https, not ${url.protocol.replace(/:$/, '')}`)
  }
  // Credentials in the URL would leak into messages: they belong in a Secret.
  if (url.username || url.password) {
    throw new QueryError('unreachable', `metrics server address ${displayAddress(url)} carries credentials; put them in a Secret (secretRef) instead`)
  }
  url.search = ''
  url.hash = ''
  return url
}

interface ApiBody {
  status?: unknown
  errorType?: unknown
  error?: unknown
  data?: { resultType?: unknown; result?: unknown }
}

export class PrometheusProvider implements MetricProvider {
  readonly address: string
  readonly timeoutMs: number
  readonly #endpoint: string
  readonly #headers: Record<string, string>

  constructor(options: PrometheusOptions) {
    const url = parsePrometheusAddress(options.address)
    this.address = displayAddress(url)
    this.#endpoint = `${this.address}/api/v1/query`
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS
    const headers = new Headers({ 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' })
    for (const [name, values] of Object.entries(options.headers ?? {})) for (const v of values) headers.append(name, v)
    if (options.auth?.type === 'bearer') headers.set('Authorization', `Bearer ${options.auth.token}`)
    if (options.auth?.type === 'basic') {
      const pair = Buffer.from(`${options.auth.username}:${options.auth.password}`, 'utf8').toString('base64')
      headers.set('Authorization', `Basic ${pair}`)
    }
    this.#headers = Object.fromEntries(headers)
  }

  async query(q: string): Promise<number> {
    const body = await this.#post(q)
    return this.#value(body)
  }

  async isOnline(): Promise<boolean> {
    try {
      return await this.query('vector(1)') === 1
    } catch {
      return false
    }
  }

  async #post(q: string): Promise<ApiBody> {
    // Also sent to Prometheus so that it stops evaluating when we stop waiting.
    const form = new URLSearchParams({ query: q, timeout: formatDuration(this.timeoutMs) })
    let status: number
    let text: string
    try {
      // undici's request, not fetch: no WHATWG objects and no compressed answer to inflate on every check. It
      // follows no redirect: a 3xx is reported with its status.
      const answer = await request(this.#endpoint, {
        method: 'POST', headers: this.#headers, body: form.toString(), signal: AbortSignal.timeout(this.timeoutMs),
      })
      status = answer.statusCode
      text = await answer.body.text()
    } catch (e) {
      throw this.#transportError(e)
    }
    let body: ApiBody | undefined
    try {
      body = JSON.parse(text) as ApiBody
    } catch {
      body = undefined
    }
    if (status < 200 || status > 299 || body?.status !== 'success') throw this.#httpError(status, body, text)
    return body
  }

  #transportError(e: unknown): QueryError {
    const err = e as { name?: string; code?: string; cause?: { code?: string; message?: string } }
    if (err.name === 'TimeoutError' || err.name === 'AbortError') {
      return new QueryError('timeout', `Prometheus at ${this.address} did not answer within ${formatDuration(this.timeoutMs)}`, { cause: e })
    }
    const reason = err.code ?? err.cause?.code ?? err.cause?.message ?? (e as Error).message
    return new QueryError('unreachable', `Prometheus at ${this.address} is unreachable (${reason})`, { cause: e })
  }

  #httpError(status: number, body: ApiBody | undefined, text: string): QueryError {
    const detail = typeof body?.error === 'string' ? body.error : text.trim()
    const type = typeof body?.errorType === 'string' ? ` ${body.errorType}` : ''
    const said = detail ? `: ${detail.slice(0, MAX_ERROR_TEXT)}` : ''
    if (status === 401 || status === 403) {
      return new QueryError('http', `Prometheus at ${this.address} refused the credentials (HTTP ${status}); check the secretRef`, { status })
    }
    if (status === 400 || status === 422) {
      return new QueryError('rejected', `Prometheus at ${this.address} rejected the query (HTTP ${status}${type})${said}`, { status })
    }
    if (status === 503) {
      return new QueryError('http', `Prometheus at ${this.address} could not finish the query (HTTP 503${type})${said}`, { status })
    }
    if (status >= 200 && status < 300) {
      return new QueryError('unparseable', `Prometheus at ${this.address} answered HTTP ${status} with a body that is not a Prometheus API response`, { status })
    }
    return new QueryError('http', `Prometheus at ${this.address} answered HTTP ${status}${type}${said}`, { status })
  }

  #value(body: ApiBody): number {
    const type = body.data?.resultType
    const result = body.data?.result
    if (type === 'scalar') return this.#sample(result)
    if (type === 'vector' && Array.isArray(result)) {
      const series = result as { metric?: Record<string, string>; value?: unknown }[]
      if (series.length === 0) throw new NoValuesError('empty')
      if (series.length > 1) throw new MultipleValuesError(series.length, series.map(s => s.metric ?? {}))
      return this.#sample(series[0]?.value)
    }
    if (type === 'matrix') {
      // A range vector is a query mistake (e.g. `foo[1m]` without rate()), not an ambiguity to pick from.
      return this.#fail('rejected', 'returned a range vector (matrix); an analysis query must give one instant value, e.g. sum(rate(x[1m]))')
    }
    return this.#fail('unparseable', `returned an unexpected result type ${JSON.stringify(type)}`)
  }

  #sample(sample: unknown): number {
    const raw = Array.isArray(sample) ? (sample as unknown[])[1] : undefined
    if (typeof raw !== 'string') return this.#fail('unparseable', 'returned a sample without a value')
    // Number() reads "NaN" and numbers but not Go's "+Inf"/"-Inf" (only "Infinity"), so those are mapped first.
    const value = INFINITIES[raw] ?? Number(raw)
    if (raw === 'NaN') throw new NoValuesError('nan', 'e.g. 0/0 when there was no traffic')
    if (Number.isNaN(value) || raw.trim() === '') return this.#fail('unparseable', `returned a value that is not a number: ${JSON.stringify(raw.slice(0, 40))}`)
    return value
  }

  #fail(kind: 'rejected' | 'unparseable', what: string): never {
    throw new QueryError(kind, `Prometheus at ${this.address} ${what}`)
  }
}

export function createPrometheusProvider(options: PrometheusOptions): PrometheusProvider {
  return new PrometheusProvider(options)
}

/** The registry's factory: a template's provider spec, its Secret read as bearer or basic credentials. */
export function prometheusProvider(spec: MetricProviderSpec): PrometheusProvider {
  const auth = spec.secret ? prometheusAuthFromSecret(spec.secret.data, spec.secret.name) : undefined
  return createPrometheusProvider({
    address: spec.address, timeoutMs: spec.timeoutMs, ...(auth ? { auth } : {}), ...(spec.headers ? { headers: spec.headers } : {}),
  })
}
