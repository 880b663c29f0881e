// The API clients' transport (dispatcher.request over the pooled Agent) against a real HTTPS server: what
// the server receives, what the caller gets back, and failures shaped as fetch's were.
import t, { type Test } from 'tap'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { CoreV1Api, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node'
import { loadKubeConfig } from '../../../src/kube/config.ts'
import { readApiError } from '../../../src/kube/errors.ts'
import { withTimeout } from '../../../src/kube/timeout.ts'
import { transportFailure } from '../../../src/util/http.ts'
import { freePort } from '../../cluster/process.ts'
import { startTlsApiServer } from '../../helpers/tls-api-server.ts'

interface Seen { method: string; url: string; httpVersion: string; headers: IncomingMessage['headers']; body: string }

async function apiServer(t: Test, answer: (seen: Seen, res: ServerResponse) => void): Promise<{ kubeconfig: string; seen: Seen[] }> {
  const seen: Seen[] = []
  const server = await startTlsApiServer(t, (req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const s = { method: req.method ?? '', url: req.url ?? '', httpVersion: req.httpVersion, headers: req.headers, body: Buffer.concat(chunks).toString() }
      seen.push(s)
      answer(s, res)
    })
  })
  return { kubeconfig: server.kubeconfig(), seen }
}

const json = (res: ServerResponse, status: number, body: unknown): void => {
  res.writeHead(status, { 'Content-Type': 'application/json' })
  res.end(JSON.stringify(body))
}

t.test('a read: the request as the API server sees it, the answer as a typed object', async t => {
  const { kubeconfig, seen } = await apiServer(t, (_s, res) => json(res, 200, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop', labels: { team: 'a' } } }))
  const api = loadKubeConfig({ path: kubeconfig }).makeApiClient(CoreV1Api)
  const ns = await api.readNamespace({ name: 'shop', pretty: 'true' })
  t.equal(ns.metadata?.name, 'shop')
  t.same(ns.metadata?.labels, { team: 'a' })
  t.equal(seen[0]?.method, 'GET')
  t.equal(seen[0]?.url, '/api/v1/namespaces/shop?pretty=true', 'path and query')
  t.equal(seen[0]?.headers.authorization, 'Bearer not-a-real-token', 'the credentials')
  t.match(seen[0]?.headers['user-agent'], /^kubernetes-client-javascript\//, "client-node's user agent (field managers derive from it)")
})

t.test('a write: the body and its content type arrive as sent', async t => {
  const { kubeconfig, seen } = await apiServer(t, (s, res) => json(res, 200, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, data: (JSON.parse(s.body) as { data: unknown }).data }))
  const api = loadKubeConfig({ path: kubeconfig }).makeApiClient(CoreV1Api)
  const patched = await api.patchNamespacedConfigMap(
    { name: 'c', namespace: 'shop', body: { data: { k: 'v ünïcode' } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch))
  t.same(patched.data, { k: 'v ünïcode' })
  t.equal(seen[0]?.method, 'PATCH')
  t.equal(seen[0]?.headers['content-type'], 'application/merge-patch+json')
  t.same(JSON.parse(seen[0]?.body ?? ''), { data: { k: 'v ünïcode' } })
})

t.test("an error answer: the API server's Status reaches the caller", async t => {
  const { kubeconfig } = await apiServer(t, (_s, res) => json(res, 409, { kind: 'Status', status: 'Failure', reason: 'Conflict', code: 409, message: 'the object has been modified' }))
  const api = loadKubeConfig({ path: kubeconfig }).makeApiClient(CoreV1Api)
  const err = await api.readNamespace({ name: 'shop' }).catch((e: unknown) => e)
  t.same(readApiError(err), { code: 409, reason: 'Conflict', message: 'the object has been modified' })
})

t.test('no answer: a TypeError("fetch failed") whose cause names the transport error, as with fetch', async t => {
  const refusedPort = await freePort()
  const server = await startTlsApiServer(t, () => undefined)
  const refused = loadKubeConfig({ path: server.kubeconfig(refusedPort) }).makeApiClient(CoreV1Api)
  const err = await refused.readNamespace({ name: 'shop' }).catch((e: unknown) => e)
  t.type(err, TypeError)
  t.equal((err as Error).message, 'fetch failed')
  t.equal((err as { cause?: { code?: string } }).cause?.code, 'ECONNREFUSED')
  t.same(transportFailure(err), { kind: 'network', reason: 'connection refused (ECONNREFUSED)' })
})

t.test("a call's timeout: rejected with the signal's TimeoutError, and the connection is freed", async t => {
  const { kubeconfig } = await apiServer(t, (s, res) => {
    if (s.url.includes('slow')) return
    json(res, 200, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'fast' } })
  })
  const api = loadKubeConfig({ path: kubeconfig }).makeApiClient(CoreV1Api)
  const err = await api.readNamespace({ name: 'slow' }, withTimeout(200)).catch((e: unknown) => e)
  t.equal((err as Error).name, 'TimeoutError')
  t.equal(transportFailure(err).kind, 'timeout')
  t.equal((await api.readNamespace({ name: 'fast' })).metadata?.name, 'fast', 'the next call goes through')
})

t.test('HTTP/2 where the server offers it, as kube-apiserver does: a call held open (as a watch is) does not hold up the next', async t => {
  let release = (): void => undefined
  const { kubeconfig, seen } = await apiServer(t, (s, res) => {
    const answer = (): void => json(res, 200, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: s.url.split('/').pop() } })
    if (s.url.endsWith('/held')) release = answer
    else answer()
  })
  const api = loadKubeConfig({ path: kubeconfig }).makeApiClient(CoreV1Api)
  const held = api.readNamespace({ name: 'held' })
  await t.resolves(async () => {
    while (seen.length === 0) await new Promise(r => setTimeout(r, 5))
  })
  t.equal((await api.readNamespace({ name: 'quick' })).metadata?.name, 'quick', 'answered while the first call is still open')
  release()
  t.equal((await held).metadata?.name, 'held')
  t.same(seen.map(s => s.httpVersion), ['2.0', '2.0'], 'both calls over HTTP/2')
})
