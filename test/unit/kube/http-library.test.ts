// The API clients' transport (dispatcher.request over the pooled Agent) against a real HTTPS server: what
// the server receives, what the caller gets back, and failures shaped as fetch's were.
import t, { type Test } from 'tap'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { createServer } from 'node:https'
import type { AddressInfo } from 'node:net'
import { CoreV1Api, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node'
import { createCA, createLeaf } from '../../../src/certs/pki.ts'
import { loadKubeConfig } from '../../../src/kube/config.ts'
import { readApiError } from '../../../src/kube/errors.ts'
import { withTimeout } from '../../../src/kube/timeout.ts'
import { transportFailure } from '../../../src/util/http.ts'

interface Seen { method: string; url: string; headers: IncomingMessage['headers']; body: string }

const ca = createCA('http-library-test-ca', 600)
const leaf = createLeaf(ca, { commonName: '127.0.0.1', ipAddresses: ['127.0.0.1'], usage: 'server', lifetimeSeconds: 600 })

async function apiServer(t: Test, answer: (seen: Seen, res: ServerResponse) => void): Promise<{ port: number; seen: Seen[] }> {
  const seen: Seen[] = []
  const server = createServer({ cert: leaf.certPem, key: leaf.keyPem }, (req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const s = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString() }
      seen.push(s)
      answer(s, res)
    })
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => { server.closeAllConnections(); server.close() })
  return { port: (server.address() as AddressInfo).port, seen }
}

function kubeconfig(t: Test, port: number): string {
  const dir = t.testdir({
    kubeconfig: `apiVersion: v1
kind: Config
clusters:
- {name: local, cluster: {server: 'https://127.0.0.1:${port}', certificate-authority-data: ${Buffer.from(ca.certPem).toString('base64')}}}
users:
- {name: sluice, user: {token: not-a-real-token}}
contexts:
- {name: local, context: {cluster: local, user: sluice}}
current-context: local
`,
  })
  return `${dir}/kubeconfig`
}

const json = (res: ServerResponse, status: number, body: unknown): void => {
  res.writeHead(status, { 'Content-Type': 'application/json' })
  res.end(JSON.stringify(body))
}

t.test('a read: the request as the API server sees it, the answer as a typed object', async t => {
  const { port, seen } = await apiServer(t, (_s, res) => json(res, 200, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop', labels: { team: 'a' } } }))
  const api = loadKubeConfig({ path: kubeconfig(t, port) }).makeApiClient(CoreV1Api)
  const ns = await api.readNamespace({ name: 'shop', pretty: 'true' })
  t.equal(ns.metadata?.name, 'shop')
  t.same(ns.metadata?.labels, { team: 'a' })
  t.equal(seen[0]?.method, 'GET')
  t.equal(seen[0]?.url, '/api/v1/namespaces/shop?pretty=true', 'path and query')
  t.equal(seen[0]?.headers.authorization, 'Bearer not-a-real-token', 'the credentials')
  t.match(seen[0]?.headers['user-agent'], /^kubernetes-client-javascript\//, "client-node's user agent (field managers derive from it)")
})

t.test('a write: the body and its content type arrive as sent', async t => {
  const { port, seen } = await apiServer(t, (s, res) => json(res, 200, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, data: (JSON.parse(s.body) as { data: unknown }).data }))
  const api = loadKubeConfig({ path: kubeconfig(t, port) }).makeApiClient(CoreV1Api)
  const patched = await api.patchNamespacedConfigMap(
    { name: 'c', namespace: 'shop', body: { data: { k: 'v ünïcode' } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch))
  t.same(patched.data, { k: 'v ünïcode' })
  t.equal(seen[0]?.method, 'PATCH')
  t.equal(seen[0]?.headers['content-type'], 'application/merge-patch+json')
  t.same(JSON.parse(seen[0]?.body ?? ''), { data: { k: 'v ünïcode' } })
})

t.test("an error answer: the API server's Status reaches the caller", async t => {
  const { port } = await apiServer(t, (_s, res) => json(res, 409, { kind: 'Status', status: 'Failure', reason: 'Conflict', code: 409, message: 'the object has been modified' }))
  const api = loadKubeConfig({ path: kubeconfig(t, port) }).makeApiClient(CoreV1Api)
  const err = await api.readNamespace({ name: 'shop' }).catch((e: unknown) => e)
  t.same(readApiError(err), { code: 409, reason: 'Conflict', message: 'the object has been modified' })
})

t.test('no answer: a TypeError("fetch failed") whose cause names the transport error, as with fetch', async t => {
  // A port nothing listens on: taken, then given back.
  const { port: refusedPort } = await new Promise<{ port: number }>(resolve => {
    const probe = createServer()
    probe.listen(0, '127.0.0.1', () => { const p = (probe.address() as AddressInfo).port; probe.close(() => resolve({ port: p })) })
  })
  const refused = loadKubeConfig({ path: kubeconfig(t, refusedPort) }).makeApiClient(CoreV1Api)
  const err = await refused.readNamespace({ name: 'shop' }).catch((e: unknown) => e)
  t.type(err, TypeError)
  t.equal((err as Error).message, 'fetch failed')
  t.equal((err as { cause?: { code?: string } }).cause?.code, 'ECONNREFUSED')
  t.same(transportFailure(err), { kind: 'network', reason: 'connection refused (ECONNREFUSED)' })
})

t.test("a call's timeout: rejected with the signal's TimeoutError, and the connection is freed", async t => {
  const { port } = await apiServer(t, (s, res) => {
    if (s.url.includes('slow')) return
    json(res, 200, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'fast' } })
  })
  const api = loadKubeConfig({ path: kubeconfig(t, port) }).makeApiClient(CoreV1Api)
  const err = await api.readNamespace({ name: 'slow' }, withTimeout(200)).catch((e: unknown) => e)
  t.equal((err as Error).name, 'TimeoutError')
  t.equal(transportFailure(err).kind, 'timeout')
  t.equal((await api.readNamespace({ name: 'fast' })).metadata?.name, 'fast', 'the next call goes through')
})
