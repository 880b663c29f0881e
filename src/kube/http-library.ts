// client-node's API calls through undici's dispatcher.request instead of fetch. Both go over the same pooled
// Agent; fetch adds WHATWG Request, Response and stream objects to every call, about half the CPU of an API
// request here (`make bench-kube-requests`). Failures look as fetch's do: the abort signal's reason, or
// TypeError('fetch failed') with the transport error as its cause, so callers tell them apart as before.
import { Readable } from 'node:stream'
import { RequestContext, ResponseContext, wrapHttpLibrary, type HttpLibrary, type HttpMethod, type KubeConfig, type ResponseBody } from '@kubernetes/client-node'
import { getGlobalDispatcher } from 'undici'

export type Dispatcher = NonNullable<ReturnType<RequestContext['getDispatcher']>>
export type Answer = Awaited<ReturnType<Dispatcher['request']>>
export type Method = Parameters<Dispatcher['request']>[0]['method']

function requestBody(body: ReturnType<RequestContext['getBody']>): string | null {
  if (body === undefined) return null
  if (typeof body === 'string') return body
  if (body instanceof URLSearchParams) return body.toString()
  // No Kubernetes API call sends a form; refusing is clearer than sending it wrong.
  throw new TypeError('multipart form bodies are not supported by the Kubernetes client transport')
}

function headersOf(answer: Answer): Record<string, string> {
  const headers: Record<string, string> = {}
  for (const [name, value] of Object.entries(answer.headers)) {
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value
  }
  return headers
}

function bodyOf(answer: Answer): ResponseBody {
  return {
    text: () => answer.body.text(),
    binary: async () => Buffer.from(await answer.body.arrayBuffer()),
    stream: () => Readable.toWeb(answer.body) as ReturnType<ResponseBody['stream']>,
  }
}

/**
 * The dispatcher applySecurityAuthentication set on the context (the pooled Agent), or undici's global one
 * when client-node sets none (a plain-HTTP server without TLS options).
 */
export function dispatcherOf(context: RequestContext): Dispatcher {
  return context.getDispatcher() ?? (getGlobalDispatcher() as unknown as Dispatcher)
}

/** A request sluice opens itself (plain JSON calls, watches): where it goes, how it authenticates, what carries it. */
export interface Opened {
  readonly url: URL
  readonly headers: Record<string, string>
  readonly dispatcher: Dispatcher
}

/**
 * `path` with `query` on the current cluster's server, with client-node's authentication (applySecurityAuthentication:
 * the token or client certificate, and the pooled Agent); the query's undefined values are left out.
 */
export async function openRequest(
  kc: KubeConfig, method: HttpMethod, path: string, query: Readonly<Record<string, string | boolean | undefined>> = {},
): Promise<Opened> {
  const server = kc.getCurrentCluster()?.server
  if (!server) throw new Error('No currently active cluster')
  const url = new URL(server + path)
  for (const [key, value] of Object.entries(query)) if (value !== undefined) url.searchParams.set(key, String(value))
  const context = new RequestContext(url.toString(), method)
  await kc.applySecurityAuthentication(context)
  return { url, headers: context.getHeaders(), dispatcher: dispatcherOf(context) }
}

/** The origin and path of a request to `url`, as dispatcher.request takes them. */
export function requestTarget(url: URL): { origin: string; path: string } {
  return { origin: url.origin, path: `${url.pathname}${url.search}` }
}

/**
 * One request on `dispatcher`. Failures look as fetch's do: the abort signal's reason, or TypeError('fetch
 * failed') with the transport error as its cause.
 */
export async function dispatch(
  dispatcher: Dispatcher, url: URL, method: Method, headers: Record<string, string>, body: string | null, signal: AbortSignal | undefined,
): Promise<Answer> {
  try {
    return await dispatcher.request({ ...requestTarget(url), method, headers, body, ...(signal && { signal }) })
  } catch (err) {
    if (signal?.aborted) throw signal.reason
    throw new TypeError('fetch failed', { cause: err })
  }
}

async function send(request: RequestContext): Promise<ResponseContext> {
  const url = new URL(request.getUrl())
  const answer = await dispatch(dispatcherOf(request), url, request.getHttpMethod(), request.getHeaders(), requestBody(request.getBody()), request.getSignal() ?? undefined)
  return new ResponseContext(answer.statusCode, headersOf(answer), bodyOf(answer))
}

/** The HttpLibrary for makeApiClient: requests go to the context's dispatcher (dispatcherOf). */
export const dispatcherHttpLibrary: HttpLibrary = wrapHttpLibrary({ send })
