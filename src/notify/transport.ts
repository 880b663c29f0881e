// POSTs a JSON document to an alert service, directly or through the provider's HTTP proxy (undici's
// ProxyAgent: an http:// address is sent to the proxy in absolute form, an https:// one through a CONNECT
// tunnel, as Flagger's Go client does). Errors carry the failure only: an alert address (Slack, Teams,
// Google Chat, Discord) is a secret in itself.
import { ProxyAgent } from 'undici'
import { bodySnippet, parseTarget, transportFailure, UrlError } from '../util/http.ts'
import type { Target } from '../util/http.ts'
import { formatDuration } from '../util/duration.ts'
import { NotifyError } from './types.ts'

/** Flagger's notifier timeout. */
export const DEFAULT_ALERT_TIMEOUT_MS = 5000

type Dispatcher = NonNullable<RequestInit['dispatcher']>

export interface TransportOptions {
  readonly fetch?: typeof fetch
  readonly timeoutMs?: number
  /** http(s)://[user:password@]host:port of an HTTP proxy. */
  readonly proxy?: string
}

export interface Reply {
  readonly status: number
  /** The first 200 characters of the body. */
  readonly snippet: string
}

/**
 * The error of an API that answers 2xx with `{"<flag>": false, "error": "…"}` when it refuses (Slack's
 * chat.postMessage with ok, Rocket.Chat with success); undefined when the answer does not say so.
 */
export function refusal(snippet: string, flag: 'ok' | 'success'): string | undefined {
  if (!new RegExp(`"${flag}"\\s*:\\s*false`).test(snippet)) return undefined
  return /"error"\s*:\s*"([^"]{1,100})"/.exec(snippet)?.[1] ?? 'unknown error'
}

// One ProxyAgent per proxy URL for the process, so that alerts through a proxy reuse its connections; a
// handful of proxies at most, the oldest closed when a new one would pass the bound.
const PROXIES = new Map<string, Dispatcher>()
const MAX_PROXIES = 16

/** The dispatcher of a proxy; Node's fetch accepts it because the undici dependency is the version Node bundles. */
export function proxyDispatcher(proxy: string): Dispatcher {
  let agent = PROXIES.get(proxy)
  if (!agent) {
    agent = new ProxyAgent({ uri: proxy, proxyTunnel: false })
    PROXIES.set(proxy, agent)
    for (const [key, old] of PROXIES) {
      if (PROXIES.size <= MAX_PROXIES) break
      PROXIES.delete(key)
      void old.close().catch(() => undefined)
    }
  }
  return agent
}

export class JsonPoster {
  #target: Target
  readonly #fetch: typeof fetch
  readonly #dispatcher: Dispatcher | undefined
  readonly #timeoutMs: number
  /** Names the provider in messages, e.g. "AlertProvider team/slack". */
  readonly what: string

  /** `what` names the provider in messages, e.g. "AlertProvider team/slack". Throws NotifyError. */
  constructor(address: string, what: string, options: TransportOptions = {}) {
    this.what = what
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_ALERT_TIMEOUT_MS
    this.#fetch = options.fetch ?? fetch
    this.#target = this.#parse(address, 'address')
    const proxy = options.proxy?.trim()
    if (proxy) {
      // Checked like an address, but passed on whole: undici sends its userinfo as Proxy-Authorization.
      this.#parse(proxy, 'proxy')
      this.#dispatcher = proxyDispatcher(proxy)
    }
  }

  #parse(raw: string, field: string): Target {
    try {
      return parseTarget(raw, field)
    } catch (e) {
      throw new NotifyError(`${this.what}: ${e instanceof UrlError ? e.message : `${field} is not usable`}`)
    }
  }

  /** Changes the address's URL (a service's own path or query parameter), keeping what parseTarget took out. */
  rewrite(change: (url: URL) => void): void {
    const url = new URL(this.#target.url)
    change(url)
    this.#target = { ...this.#target, url: url.toString() }
  }

  /** POSTs the document; any answer is returned, a missing one is a NotifyError. */
  async post(document: unknown, headers: Record<string, string> = {}): Promise<Reply> {
    let res: Response
    try {
      res = await this.#fetch(this.#target.url, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', ...this.#target.headers, ...headers },
        body: JSON.stringify(document),
        signal: AbortSignal.timeout(this.#timeoutMs),
        redirect: 'manual',
        ...(this.#dispatcher && { dispatcher: this.#dispatcher }),
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
