// The metrics providers' registry: it registers exactly the capability table's types, and a template's
// provider spec (address, Secret, headers) becomes a client that uses all of it.
import t from 'tap'
import { IMPLEMENTED_METRIC_PROVIDERS } from '../../../src/api/capabilities.ts'
import { analyseMetrics } from '../../../src/metrics/analysis.ts'
import { createHealthCheck } from '../../../src/metrics/health.ts'
import { metricProviderFor, REGISTERED_METRIC_PROVIDERS } from '../../../src/metrics/registry.ts'
import { startHttpServer } from '../../helpers/http-server.ts'
import { canary as canaryOf, metricTemplate } from '../../helpers/objects.ts'

const server = await startHttpServer(t, () => res => {
  res.writeHead(200, { 'Content-Type': 'application/json' })
    .end(JSON.stringify({ status: 'success', data: { resultType: 'vector', result: [{ metric: {}, value: [0, '1'] }] } }))
})

t.test('the registry and the capability table list the same metrics provider types', async t => {
  t.same([...REGISTERED_METRIC_PROVIDERS].sort(), [...IMPLEMENTED_METRIC_PROVIDERS].sort())
})

t.test('prometheus: the Secret\'s token and the template\'s headers are sent to its address', async t => {
  const prom = metricProviderFor({
    type: 'prometheus', address: server.base, timeoutMs: 1000,
    secret: { name: 'Secret obs/prom-auth', data: { token: 's3cr3t\n' } }, headers: { 'X-Scope-OrgID': ['tenant-1'] },
  })
  t.equal(await prom.query('up'), 1)
  const s = server.seen.at(-1)!
  t.equal(s.headers.authorization, 'Bearer s3cr3t')
  t.equal(s.headers['x-scope-orgid'], 'tenant-1')
  await metricProviderFor({ type: 'prometheus', address: server.base, timeoutMs: 1000, secret: { name: 'x', data: { username: 'u', password: 'p' } } }).query('up')
  t.equal(server.seen.at(-1)!.headers.authorization, `Basic ${Buffer.from('u:p').toString('base64')}`)
})

t.test('prometheus refuses a Secret without credentials, naming its keys and never its values', async t => {
  t.throws(() => metricProviderFor({ type: 'prometheus', address: server.base, timeoutMs: 1000, secret: { name: 'Secret obs/prom-auth', data: { apikey: 'zzz' } } }),
    { message: 'Secret obs/prom-auth has neither token nor username+password (it has apikey)' })
})

const canary = canaryOf({ metadata: { name: 'cart' }, spec: {
  service: { port: 80 }, provider: 'kubernetes',
  analysis: { interval: '1m', metrics: [{ name: 'errors', templateRef: { name: 'errors', namespace: 'obs' }, thresholdRange: { max: 5 } }] },
} })
const template = metricTemplate({
  metadata: { name: 'errors', namespace: 'obs' },
  spec: { provider: { type: 'prometheus', address: server.base, secretRef: { name: 'prom-auth' } }, query: 'sum(errors)' },
})

t.test('the analysis and the health check build their providers through the registry', async t => {
  const deps = (data: Record<string, string>) => ({ getTemplate: async () => template, getSecret: async () => data })
  const [ok] = await analyseMetrics(canary, deps({ token: 'tok' }))
  t.equal(ok!.verdict, 'pass')
  t.equal(server.seen.at(-1)!.headers.authorization, 'Bearer tok')
  t.same(await createHealthCheck().check(canary, deps({ token: 'tok' })), { online: true, offline: [] })
  t.equal(new URLSearchParams(server.seen.at(-1)!.body).get('query'), 'vector(1)')
  t.equal(server.seen.at(-1)!.headers.authorization, 'Bearer tok', 'the health check uses the credentials the queries use')
  // A Secret the provider refuses is the metric's error, and no server for the health check to call offline.
  const [bad] = await analyseMetrics(canary, deps({ apikey: 'zzz' }))
  t.equal(bad!.verdict, 'error')
  t.match(bad!.message, 'Secret obs/prom-auth has neither token nor username+password (it has apikey)')
  t.equal(await createHealthCheck().check(canary, deps({ apikey: 'zzz' })), undefined)
})
