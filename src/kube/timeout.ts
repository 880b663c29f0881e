// client-node has no per-call timeout: this middleware aborts a call after `ms`, so a hung API call frees its
// connection instead of holding the caller (a leader's renewal, a reconcile writing an Event).
import { Observable } from '@kubernetes/client-node'
import type { ConfigurationOptions, ObservableMiddleware, RequestContext } from '@kubernetes/client-node'

/** Call options that abort after `ms`, added to `opts` (e.g. setHeaderOptions for a patch). */
export function withTimeout(ms: number, opts?: ConfigurationOptions<ObservableMiddleware>): ConfigurationOptions<ObservableMiddleware> {
  const middleware: ObservableMiddleware = {
    pre: (ctx: RequestContext) => { ctx.setSignal(AbortSignal.timeout(ms)); return new Observable(Promise.resolve(ctx)) },
    post: ctx => new Observable(Promise.resolve(ctx)),
  }
  return { ...opts, middleware: [...(opts?.middleware ?? []), middleware], middlewareMergeStrategy: 'append' }
}
