// A local HTTP server for unit tests of clients (webhooks, alert providers, Prometheus): it listens on
// 127.0.0.1 on a free port, records every request with its body, answers by a handler chosen per request,
// and closes when the test ends.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { TestLike } from './kube.ts'

export interface SeenRequest {
  readonly method: string
  /** The path without the query; from the absolute URL when the client spoke to the server as to a proxy. */
  readonly path: string
  /** The request target as sent: a path, or an absolute URL through a proxy. */
  readonly url: string
  readonly headers: IncomingMessage['headers']
  readonly body: string
}

export type Reply = (res: ServerResponse, seen: SeenRequest) => void

/** Handlers by path, or a function that picks one for a request (e.g. by its body). */
export type Routes = Readonly<Record<string, Reply>> | ((seen: SeenRequest) => Reply | undefined)

export interface TestHttpServer {
  /** http://127.0.0.1:<port> */
  readonly base: string
  /** Every request so far, oldest first. */
  readonly seen: readonly SeenRequest[]
  /** A view of the requests made from now on. */
  readonly since: () => () => SeenRequest[]
  readonly close: () => Promise<void>
}

const notFound: Reply = res => { res.writeHead(404).end('no such case') }

function pathOf(url: string): string {
  return url.startsWith('http://') || url.startsWith('https://') ? new URL(url).pathname : url.split('?')[0] ?? ''
}

/** Starts the server; requests no route answers get `fallback` (404 by default). Closed at t's teardown. */
export async function startHttpServer(t: TestLike, routes: Routes, fallback: Reply = notFound): Promise<TestHttpServer> {
  const seen: SeenRequest[] = []
  const pick = typeof routes === 'function' ? routes : (s: SeenRequest) => routes[s.path]
  const server = createServer((req, res) => {
    let body = ''
    req.setEncoding('utf8').on('data', (d: string) => { body += d }).on('end', () => {
      const url = req.url ?? ''
      const s: SeenRequest = { method: req.method ?? '', path: pathOf(url), url, headers: req.headers, body }
      seen.push(s)
      ;(pick(s) ?? fallback)(res, s)
    })
  })
  await new Promise<void>(res => server.listen(0, '127.0.0.1', res))
  let closed: Promise<void> | undefined
  const close = (): Promise<void> => closed ??= new Promise<void>(res => { server.closeAllConnections(); server.close(() => res()) })
  t.teardown(close)
  return {
    base: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    seen,
    since: () => {
      const start = seen.length
      return () => seen.slice(start)
    },
    close,
  }
}
