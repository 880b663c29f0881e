// The builtin queries through the Prometheus provider against a real Prometheus scraping a prom-client
// server that exports the generic HTTP histogram the kubernetes/gatewayapi builtins read.
import t from 'tap'
import { createServer } from 'node:http'
import { Histogram, Registry } from 'prom-client'
import { builtinQuery } from '../../../src/metrics/builtin.ts'
import { createPrometheusProvider } from '../../../src/metrics/prometheus.ts'
import { MultipleValuesError, NoValuesError } from '../../../src/metrics/provider.ts'
import { renderQuery } from '../../../src/metrics/template.ts'
import { startPrometheus } from '../../cluster/prometheus.ts'
import { until } from '../../helpers/wait.ts'

const registry = new Registry()
const http = new Histogram({
  name: 'http_request_duration_seconds', help: 'request duration', registers: [registry],
  labelNames: ['kubernetes_namespace', 'kubernetes_pod_name', 'status'], buckets: [0.05, 0.1, 0.25, 0.5, 1],
})
// Two pods of the target, 10% 5xx, every request 200ms; a decoy app that fails everything.
const traffic = setInterval(() => {
  for (const pod of ['cart-7d9f8b6c4-x2x9z', 'cart-7d9f8b6c4-q8w7e']) {
    for (let i = 0; i < 9; i++) http.observe({ kubernetes_namespace: 'shop', kubernetes_pod_name: pod, status: '200' }, 0.2)
    http.observe({ kubernetes_namespace: 'shop', kubernetes_pod_name: pod, status: '503' }, 0.2)
  }
  http.observe({ kubernetes_namespace: 'shop', kubernetes_pod_name: 'checkout-5c6d7e8f9-abcde', status: '500' }, 0.9)
}, 50)
t.teardown(() => clearInterval(traffic))

const server = createServer((_req, res) => {
  void registry.metrics().then(body => { res.setHeader('Content-Type', registry.contentType); res.end(body) })
})
await new Promise<void>(res => server.listen(0, '127.0.0.1', res))
t.teardown(() => new Promise<void>(res => server.close(() => res())))
const target = `127.0.0.1:${(server.address() as { port: number }).port}`

const prom = await startPrometheus([{ job_name: 'app', static_configs: [{ targets: [target] }] }])
t.teardown(() => prom.stop())
const provider = createPrometheusProvider({ address: prom.url, timeoutMs: 5000 })

const vars = { namespace: 'shop', target: 'cart', interval: '10s', name: 'cart' }
/** Polls until the query gives a number: rate() needs two scrapes inside the window first. */
const settled = (q: string) =>
  until(() => provider.query(q).catch((e: unknown) => e), v => typeof v === 'number', `a value for ${q}`) as Promise<number>

t.test('Prometheus is online', async t => {
  t.equal(await provider.isOnline(), true)
})

t.test('request-success-rate is 90% when 10% of the target\'s requests are 5xx', async t => {
  const value = await settled(renderQuery(builtinQuery('kubernetes', 'request-success-rate'), vars))
  t.ok(Math.abs(value - 90) < 0.5, `90% (got ${value})`)
})

t.test('request-duration is the p99 in milliseconds', async t => {
  // All requests fall in the (0.1, 0.25] bucket: p99 interpolates to 0.1 + 0.15 × 0.99 s.
  const value = await settled(renderQuery(builtinQuery('gatewayapi', 'request-duration'), vars))
  t.ok(Math.abs(value - 248.5) < 0.5, `248.5ms (got ${value})`)
})

t.test('a target with no series gives NoValuesError', async t => {
  const q = renderQuery(builtinQuery('kubernetes', 'request-success-rate'), { ...vars, target: 'nothing-here' })
  const e = await provider.query(q).catch((e: unknown) => e)
  t.ok(e instanceof NoValuesError, 'NoValuesError')
  t.equal((e as NoValuesError).reason, 'empty')
})

t.test('a query giving one series per pod is MultipleValuesError', async t => {
  const q = 'sum by (kubernetes_pod_name) (rate(http_request_duration_seconds_count{kubernetes_namespace="shop",kubernetes_pod_name=~"cart-.*"}[10s]))'
  await until(() => prom.query(q), r => r.length === 2, 'two pods scraped')
  const e = await provider.query(q).catch((e: unknown) => e)
  t.ok(e instanceof MultipleValuesError, 'MultipleValuesError')
  t.match((e as MultipleValuesError).message, /2 series \(\{kubernetes_pod_name="cart-7d9f8b6c4-/)
})

t.test('an invalid query is a rejected QueryError carrying Prometheus\' message', async t => {
  await t.rejects(provider.query('sum(rate(x[10s])'), { name: 'QueryError', kind: 'rejected', status: 400, message: /rejected the query \(HTTP 400 bad_data\): .*parse error/ })
})
