// Requests of one cluster and user share one undici dispatcher (one pooled connection), not one per request.
import t from 'tap'
import { HttpMethod, RequestContext } from '@kubernetes/client-node'
import { loadKubeConfig } from '../../../src/kube/config.ts'

const CA = `-----BEGIN CERTIFICATE-----
MIIBdjCCAR2gAwIBAgIUJ1Xk0n0E0b8n1o3f5gq9yq5m8lUwCgYIKoZIzj0EAwIw
-----END CERTIFICATE-----
`

t.test('one dispatcher per cluster and user, reused by every request', async t => {
  const dir = t.testdir({
    kubeconfig: `apiVersion: v1
kind: Config
clusters:
- {name: local, cluster: {server: 'https://127.0.0.1:6443', certificate-authority-data: ${Buffer.from(CA).toString('base64')}}}
- {name: other, cluster: {server: 'https://10.0.0.1:6443', certificate-authority-data: ${Buffer.from(CA).toString('base64')}}}
users:
- {name: sluice, user: {token: not-a-real-token}}
contexts:
- {name: local, context: {cluster: local, user: sluice}}
- {name: other, context: {cluster: other, user: sluice}}
current-context: local
`,
  })
  const kc = loadKubeConfig({ path: `${dir}/kubeconfig` })
  const dispatcherOf = async (): Promise<unknown> => {
    const ctx = new RequestContext('https://127.0.0.1:6443/api/v1/namespaces', HttpMethod.GET)
    await kc.applySecurityAuthentication(ctx)
    t.equal(ctx.getHeaders().Authorization, 'Bearer not-a-real-token', 'the credentials are still applied per request')
    return ctx.getDispatcher()
  }
  const first = await dispatcherOf()
  t.ok(first, 'a dispatcher is set')
  t.equal(await dispatcherOf(), first, 'the next request reuses it')
  kc.setCurrentContext('other')
  const other = await dispatcherOf()
  t.not(other, first, 'another cluster gets its own')
  t.equal(await dispatcherOf(), other)
})
