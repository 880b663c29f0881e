// client-node's API calls through undici's dispatcher.request instead of fetch. Both go over the same pooled
// Agent; fetch adds WHATWG Request, Response and stream objects to every call, about half the CPU of an API
// request here (`make bench-kube-requests`). Failures look as fetch's do: the abort signal's reason, or
// TypeError('fetch failed') with the transport error as its cause, so callers tell them apart as before.
import { Readable } from 'node:stream'
import { ResponseContext, wrapHttpLibrary, type HttpLibrary, type RequestContext, type ResponseBody } from '@kubernetes/client-node'

type Dispatcher = NonNullable<ReturnType<RequestContext['getDispatcher']>>
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

async function send(request: RequestContext, dispatcher: Dispatcher): Promise<ResponseContext> {
  const url = new URL(request.getUrl())
  const signal = request.getSignal()
  try {
    const answer = await dispatcher.request({
      origin: url.origin, path: `${url.pathname}${url.search}`, method: request.getHttpMethod(),
      headers: request.getHeaders(), body: requestBody(request.getBody()), ...(signal && { signal }),
    })
    return new ResponseContext(answer.statusCode, headersOf(answer), bodyOf(answer))
  } catch (err) {
    if (signal?.aborted) throw signal.reason
    throw new TypeError('fetch failed', { cause: err })
  }
}

/** The HttpLibrary for makeApiClient: requests go to the context's dispatcher (set by applySecurityAuthentication). */
export function dispatcherHttpLibrary(fallback: () => Dispatcher): HttpLibrary {
  return wrapHttpLibrary({ send: request => send(request, request.getDispatcher() ?? fallback()) })
}
