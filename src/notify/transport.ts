// POSTs a JSON document to an alert service, directly with fetch or through the provider's HTTP proxy.
// A proxy uses Node's own proxy support in http.Agent (proxyEnv, Node 24.5+), so no new dependency.
// Errors carry the failure only: an alert address (Slack, Teams, Google Chat) is a secret in itself.
import http from 'node:http'
import https from 'node:https'
import { bodySnippet, parseTarget, transportFailure, UrlError } from '../util/http.ts'
import type { Target } from '../util/http.ts'
import { formatDuration } from '../util/duration.ts'
import { NotifyError } from './types.ts'

/** Flagger's notifier timeout. */
export const DEFAULT_ALERT_TIMEOUT_MS = 5000

type Send = (url: string, init: { method: 'POST'; headers: Record<string, string>; body: string; signal: AbortSignal }) => Promise<Response>

export interface TransportOptions {
  readonly fetch?: typeof fetch
  readonly timeoutMs?: number
  /** http(s)://host:port of an HTTP proxy. */
  readonly proxy?: string
}

export interface Reply {
  readonly status: number
  /** The first 200 characters of the body. */
  readonly snippet: string
}

const NULL_BODY = new Set([101, 204, 205, 304])

function viaProxy(proxy: string): Send {
  const env = { HTTP_PROXY: proxy, HTTPS_PROXY: proxy }
  const agents = { http: new http.Agent({ proxyEnv: env }), https: new https.Agent({ proxyEnv: env }) }
  return (url, init) => new Promise<Response>((resolve, reject) => {
    const secure = url.startsWith('https:')
    const request = secure ? https.request : http.request
    const req = request(url, { method: init.method, headers: init.headers, agent: secure ? agents.https : agents.http, signal: init.signal }, res => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => { chunks.push(c) })
      res.on('error', reject)
      res.on('end', () => {
        const status = res.statusCode ?? 502
        resolve(new Response(NULL_BODY.has(status) ? null : Buffer.concat(chunks), { status }))
      })
    })
    req.on('error', reject)
    req.end(init.body)
  })
}

export class JsonPoster {
  #target: Target
  readonly #send: Send
  readonly #timeoutMs: number
  /** Names the provider in messages, e.g. "AlertProvider team/slack". */
  readonly what: string

  /** `what` names the provider in messages, e.g. "AlertProvider team/slack". Throws NotifyError. */
  constructor(address: string, what: string, options: TransportOptions = {}) {
    this.what = what
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_ALERT_TIMEOUT_MS
    this.#target = this.#parse(address, 'address')
    if (options.proxy !== undefined && options.proxy.trim() !== '') {
      // Checked like an address, but passed on whole: Node sends its userinfo as Proxy-Authorization.
      this.#parse(options.proxy, 'spec.proxy')
      this.#send = viaProxy(options.proxy.trim())
    } else {
      const doFetch = options.fetch ?? fetch
      this.#send = (url, init) => doFetch(url, { ...init, redirect: 'manual' })
    }
  }

  #parse(raw: string, field: string): Target {
    try {
      return parseTarget(raw, field)
    } catch (e) {
      throw new NotifyError(`${this.what}: ${e instanceof UrlError ? e.message : `${field} is not usable`}`)
    }
  }

  /** The address with a path suffix appended (Discord's /slack), query string kept. */
  withSuffix(suffix: string): void {
    const url = new URL(this.#target.url)
    if (!url.pathname.endsWith(suffix)) url.pathname = `${url.pathname.replace(/\/+$/, '')}${suffix}`
    this.#target = { ...this.#target, url: url.toString() }
  }

  /** POSTs the document; any answer is returned, a missing one is a NotifyError. */
  async post(document: unknown, headers: Record<string, string> = {}): Promise<Reply> {
    let res: Response
    try {
      res = await this.#send(this.#target.url, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', ...this.#target.headers, ...headers },
        body: JSON.stringify(document),
        signal: AbortSignal.timeout(this.#timeoutMs),
      })
    } catch (e) {
      const failure = transportFailure(e)
      const why = failure.kind === 'timeout' ? `timed out after ${formatDuration(this.#timeoutMs)}` : `got no answer: ${failure.reason}`
      throw new NotifyError(`${this.what}: ${why}`, { cause: e })
    }
    return { status: res.status, snippet: await bodySnippet(res) }
  }

  /** Posts and requires a 2xx answer, naming `service` and the status otherwise. */
  async postOk(service: string, document: unknown, headers: Record<string, string> = {}): Promise<Reply> {
    const reply = await this.post(document, headers)
    if (reply.status < 200 || reply.status >= 300) {
      throw new NotifyError(`${this.what}: ${service} answered HTTP ${reply.status}${reply.snippet ? `: ${reply.snippet}` : ''}`)
    }
    return reply
  }
}
