// client-node's API calls through undici's dispatcher.request instead of fetch. Both go over the same pooled
// Agent; fetch adds WHATWG Request, Response and stream objects to every call, about half the CPU of an API
// request here (`make bench-kube-requests`). Failures look as fetch's do: the abort signal's reason, or
// TypeError('fetch failed') with the transport error as its cause, so callers tell them apart as before.
import { Readable } from 'node:stream'
import { ResponseContext, wrapHttpLibrary, type HttpLibrary, type RequestContext, type ResponseBody } from '@kubernetes/client-node'
import { getGlobalDispatcher } from 'undici'

export type Dispatcher = NonNullable<ReturnType<RequestContext['getDispatcher']>>
type Answer = Awaited<ReturnType<Dispatcher['request']>>

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

/** The origin and path of a request to `url`, as dispatcher.request takes them. */
export function requestTarget(url: URL): { origin: string; path: string } {
  return { origin: url.origin, path: `${url.pathname}${url.search}` }
}

async function send(request: RequestContext): Promise<ResponseContext> {
  const signal = request.getSignal()
  try {
    const answer = await dispatcherOf(request).request({
      ...requestTarget(new URL(request.getUrl())), method: request.getHttpMethod(),
      headers: request.getHeaders(), body: requestBody(request.getBody()), ...(signal && { signal }),
    })
    return new ResponseContext(answer.statusCode, headersOf(answer), bodyOf(answer))
  } catch (err) {
    if (signal?.aborted) throw signal.reason
    throw new TypeError('fetch failed', { cause: err })
  }
}

/** The HttpLibrary for makeApiClient: requests go to the context's dispatcher (dispatcherOf). */
export const dispatcherHttpLibrary: HttpLibrary = wrapHttpLibrary({ send })
