// The controller's frequent API calls (the Canary's status, Events, the routers' applies) as plain JSON over
// the pooled dispatcher. client-node's typed APIs run every call through an observable middleware chain and
// a typed (de)serializer that walks the whole object both ways: in a CPU profile of the controller at N=100
// that was about a sixth of its busy time. Authentication is client-node's (applySecurityAuthentication),
// and a refusal is the ApiException its typed APIs throw, with the answer's text as body, so readApiError
// and every caller read it as before.
import { ApiException, type KubeConfig } from '@kubernetes/client-node'
import { dispatch, openRequest, type Answer } from './http-library.ts'

export interface JsonCall {
  /** Query parameters, e.g. fieldManager. */
  readonly query?: Readonly<Record<string, string>>
  /** Sent as JSON. */
  readonly body?: unknown
  /** The body's media type: application/json unless a patch says which kind. */
  readonly contentType?: string
  /** Aborts the call after this long; the rejection is the signal's TimeoutError. */
  readonly timeoutMs?: number
}

export type Verb = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'

/** Resolves with the answer's JSON (undefined for an empty answer). */
export type JsonApi = <T>(verb: Verb, path: string, call?: JsonCall) => Promise<T>

export const MERGE_PATCH = 'application/merge-patch+json'
export const JSON_PATCH = 'application/json-patch+json'
export const APPLY_PATCH = 'application/apply-patch+yaml'

async function textOf(answer: Answer, signal: AbortSignal | undefined): Promise<string> {
  try {
    return await answer.body.text()
  } catch (err) {
    // A timeout while the answer streams in rejects as one before the answer does.
    if (signal?.aborted) throw signal.reason
    throw err
  }
}

export function createJsonApi(kc: KubeConfig): JsonApi {
  return async <T>(verb: Verb, path: string, call: JsonCall = {}): Promise<T> => {
    const { url, headers, dispatcher } = await openRequest(kc, verb, path, call.query)
    headers.accept = 'application/json'
    const body = call.body === undefined ? null : JSON.stringify(call.body)
    if (body !== null) headers['content-type'] = call.contentType ?? 'application/json'
    const signal = call.timeoutMs === undefined ? undefined : AbortSignal.timeout(call.timeoutMs)
    const answer = await dispatch(dispatcher, url, verb, headers, body, signal)
    const text = await textOf(answer, signal)
    if (answer.statusCode < 200 || answer.statusCode > 299) {
      throw new ApiException(answer.statusCode, `HTTP ${answer.statusCode} from ${verb} ${path}`, text, {})
    }
    return (text === '' ? undefined : JSON.parse(text)) as T
  }
}
