// The watch stream against a real HTTPS server: events however the server cuts its chunks, the endings
// (server end, idle timeout, an error answer, the caller's abort), and the request it sends.
import t, { type Test } from 'tap'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { loadKubeConfig } from '../../../src/kube/config.ts'
import { watchStream } from '../../../src/kube/watch-stream.ts'
import { freePort } from '../../cluster/process.ts'
import { startTlsApiServer } from '../../helpers/tls-api-server.ts'

async function apiServer(t: Test, handle: (req: IncomingMessage, res: ServerResponse) => void): Promise<string> {
  return (await startTlsApiServer(t, handle)).kubeconfig()
}

const line = (type: string, name: string): string => `${JSON.stringify({ type, object: { metadata: { name, resourceVersion: '1' } } })}\n`

interface Run { events: [string, unknown][]; ended: Promise<unknown> }

async function watch(kubeconfig: string, idleMs?: number): Promise<Run & { abort(): void }> {
  const events: [string, unknown][] = []
  let end!: (err: unknown) => void
  const ended = new Promise<unknown>(resolve => { end = resolve })
  const handle = await watchStream(loadKubeConfig({ path: kubeconfig }), '/api/v1/namespaces/shop/configmaps', { resourceVersion: '5', allowWatchBookmarks: true, labelSelector: undefined },
    (phase, object) => events.push([phase, object]), err => end(err), idleMs)
  return { events, ended, abort: () => handle.abort() }
}

t.test('events cut anywhere by the server arrive whole and in order; the server ending the watch ends it with null', async t => {
  let seen: IncomingMessage | undefined
  const kubeconfig = await apiServer(t, (req, res) => {
    seen = req
    res.writeHead(200, { 'Content-Type': 'application/json' })
    const text = line('ADDED', 'a') + line('MODIFIED', 'b') + 'not json\n\n' + line('DELETED', 'c')
    // One event and a half, then the rest a byte at a time.
    res.write(text.slice(0, 70))
    let i = 70
    const drip = setInterval(() => {
      res.write(text.slice(i, i + 7))
      i += 7
      if (i >= text.length) { clearInterval(drip); res.end() }
    }, 1)
  })
  const run = await watch(kubeconfig)
  t.equal(await run.ended, null)
  t.same(run.events.map(([phase, o]) => [phase, (o as { metadata: { name: string } }).metadata.name]), [['ADDED', 'a'], ['MODIFIED', 'b'], ['DELETED', 'c']], 'a line that is not JSON is skipped')
  t.equal(seen?.url, '/api/v1/namespaces/shop/configmaps?watch=true&resourceVersion=5&allowWatchBookmarks=true', 'the query, without unset values')
  t.equal(seen?.headers.authorization, 'Bearer not-a-real-token')
})

t.test('a watch that sends nothing for the idle time ends with a TimeoutError', async t => {
  const kubeconfig = await apiServer(t, (_req, res) => {
    res.writeHead(200, { 'Content-Type': 'application/json' })
    res.write(line('ADDED', 'a'))
  })
  const run = await watch(kubeconfig, 300)
  const err = await run.ended
  t.equal((err as Error).name, 'TimeoutError')
  t.equal(run.events.length, 1, 'the event before the silence was delivered')
})

t.test('an answer other than 200 ends it with the status code (410: the resourceVersion is gone)', async t => {
  const kubeconfig = await apiServer(t, (_req, res) => {
    res.writeHead(410, { 'Content-Type': 'application/json' })
    res.end(JSON.stringify({ kind: 'Status', code: 410, reason: 'Expired' }))
  })
  const run = await watch(kubeconfig)
  const err = await run.ended as { statusCode?: number; message?: string }
  t.equal(err.statusCode, 410)
  t.equal(err.message, 'Gone')
  t.same(run.events, [])
})

t.test('the caller aborting ends it once, and no event is delivered after', async t => {
  let response: ServerResponse | undefined
  const kubeconfig = await apiServer(t, (_req, res) => {
    response = res
    res.writeHead(200, { 'Content-Type': 'application/json' })
    res.write(line('ADDED', 'a'))
  })
  const run = await watch(kubeconfig)
  await t.resolves(new Promise<void>(resolve => { const wait = setInterval(() => { if (run.events.length === 1) { clearInterval(wait); resolve() } }, 5) }))
  run.abort()
  const err = await run.ended as Error
  t.equal(err.name, 'AbortError')
  response?.write(line('MODIFIED', 'late'))
  await new Promise(resolve => setTimeout(resolve, 50))
  t.equal(run.events.length, 1)
})

t.test('no server: the transport error', async t => {
  const server = await startTlsApiServer(t, () => undefined)
  const moved = server.kubeconfig(await freePort())
  const run = await watch(moved)
  t.equal((await run.ended as { code?: string }).code, 'ECONNREFUSED')
})
