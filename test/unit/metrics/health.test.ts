// The metrics servers' health check: which servers a Canary uses, one question per server for a few seconds
// whoever asks, and addresses named without credentials.
import t from 'tap'
import { createServer } from 'node:http'
import type { AnalysisDeps } from '../../../src/metrics/analysis.ts'
import { createHealthCheck, HEALTH_TTL_MS } from '../../../src/metrics/health.ts'
import type { MetricProviderSpec } from '../../../src/metrics/provider.ts'
import type { Canary, CanaryMetric, CanarySpec } from '../../../src/api/types.ts'
import { canary, metricTemplate, type Overrides } from '../../helpers/objects.ts'

/** The Canary `name` in `shop` (port 80, provider kubernetes) with `metrics` every minute. */
function withMetrics(metrics: CanaryMetric[], extra: Overrides<CanarySpec> = {}, name = 'cart'): Canary {
  return canary({ metadata: { name }, spec: { service: { port: 80 }, provider: 'kubernetes', analysis: { interval: '1m', metrics }, ...extra } })
}

const tenant = metricTemplate({
  metadata: { name: 'errors', namespace: 'obs' },
  spec: { provider: { type: 'prometheus', address: 'https://tenant-prom.example/prom?org=1', secretRef: { name: 'prom-auth' } }, query: 'sum(errors)' },
})

/** Servers answer isOnline from `up`; every question is counted per address. */
function deps(up: (address: string) => boolean | Promise<boolean>, more: Partial<AnalysisDeps> = {}): AnalysisDeps & { asked: MetricProviderSpec[] } {
  const asked: MetricProviderSpec[] = []
  return {
    asked,
    defaultMetricsServer: 'http://prom:9090',
    getTemplate: async (ns, name) => (ns === 'obs' && name === 'errors' ? tenant : undefined),
    getSecret: async (ns, name) => (ns === 'obs' && name === 'prom-auth' ? { token: 'tok' } : undefined),
    providerFor: options => ({
      query: () => Promise.reject(new Error('the health check must not run queries')),
      isOnline: async () => {
        asked.push(options)
        return up(options.address)
      },
    }),
    ...more,
  }
}

const builtin: CanaryMetric = { name: 'request-success-rate', thresholdRange: { min: 99 } }
const templated: CanaryMetric = { name: 'errors', templateRef: { name: 'errors', namespace: 'obs' } }

t.test('every server the metrics use is asked once; the offline ones are named without query or credentials', async t => {
  const d = deps(address => !address.includes('tenant'))
  const health = await createHealthCheck().check(withMetrics([builtin, { name: 'request-duration' }, templated]), d)
  t.same(health, { online: false, offline: ['https://tenant-prom.example/prom'] })
  t.same(d.asked.map(o => o.address).sort(), ['http://prom:9090', 'https://tenant-prom.example/prom?org=1'])
  t.same(d.asked.find(o => o.address.includes('tenant'))?.secret?.data, { token: 'tok' }, 'asked with the credentials the queries use')
  t.ok(d.asked.every(o => (o.timeoutMs ?? 0) <= 5000), 'bounded by 5s')
})

t.test('all online', async t => {
  t.same(await createHealthCheck().check(withMetrics([builtin]), deps(() => true)), { online: true, offline: [] })
})

t.test('spec.metricsServer is the server asked', async t => {
  const d = deps(() => false)
  t.same(await createHealthCheck().check(withMetrics([builtin], { metricsServer: 'http://other:9090/' }), d), { online: false, offline: ['http://other:9090'] })
})

t.test('nothing to ask: no metrics, or none whose server resolves', async t => {
  const d = deps(() => false)
  const check = createHealthCheck()
  t.equal(await check.check(withMetrics([]), d), undefined)
  t.equal(await check.check(withMetrics([{ name: 'errors', templateRef: { name: 'missing' } }]), d), undefined, 'a missing template is its own check\'s error')
  t.equal(await check.check(withMetrics([builtin]), deps(() => false, { defaultMetricsServer: undefined })), undefined)
  t.equal(await check.check(withMetrics([builtin], { metricsServer: 'ftp://prom' }), deps(() => false, { providerFor: undefined })), undefined,
    'an address no client accepts is not reported as a server that is down')
  t.same(d.asked, [])
})

t.test('one question per server for a few seconds, whichever canary asks; then asked again', async t => {
  let nowMs = 0
  let up = true
  const d = deps(() => up)
  const check = createHealthCheck({ now: () => nowMs })
  for (let i = 0; i < 1000; i++) await check.check(withMetrics([builtin], {}, `app-${i}`), d)
  t.equal(d.asked.length, 1, 'a thousand canaries, one question')
  up = false
  nowMs = HEALTH_TTL_MS - 1
  t.same(await check.check(withMetrics([builtin]), d), { online: true, offline: [] }, 'the answer stands until it expires')
  nowMs = HEALTH_TTL_MS
  t.same(await check.check(withMetrics([builtin]), d), { online: false, offline: ['http://prom:9090'] })
  t.equal(d.asked.length, 2)
})

t.test('concurrent askers share the question in flight', async t => {
  let release: (v: boolean) => void = () => undefined
  const pending = new Promise<boolean>(res => { release = res })
  const d = deps(() => pending)
  const check = createHealthCheck()
  const answers = Promise.all([check.check(withMetrics([builtin], {}, 'a'), d), check.check(withMetrics([builtin], {}, 'b'), d)])
  await new Promise(res => setImmediate(res))
  release(false)
  t.same((await answers).map(h => h?.online), [false, false])
  t.equal(d.asked.length, 1)
})

t.test('the same address with other credentials is another server', async t => {
  const d = deps(() => true)
  const check = createHealthCheck()
  await check.check(withMetrics([templated]), d)
  await check.check(withMetrics([templated]), { ...d, getSecret: async () => ({ token: 'other' }) })
  t.equal(d.asked.length, 2)
})

t.test('a provider that throws counts as offline', async t => {
  const d = deps(() => { throw new Error('boom') })
  t.same(await createHealthCheck().check(withMetrics([builtin]), d), { online: false, offline: ['http://prom:9090'] })
})

t.test('against a real HTTP server: a Prometheus answering vector(1) is online; a closed port is offline', async t => {
  const server = createServer((req, res) => {
    req.resume().on('end', () => {
      res.writeHead(200, { 'Content-Type': 'application/json' })
        .end(JSON.stringify({ status: 'success', data: { resultType: 'vector', result: [{ metric: {}, value: [0, '1'] }] } }))
    })
  })
  await new Promise<void>(res => server.listen(0, '127.0.0.1', res))
  const address = `http://127.0.0.1:${(server.address() as { port: number }).port}`
  const real = { ...deps(() => true), providerFor: undefined, defaultMetricsServer: address }
  t.same(await createHealthCheck().check(withMetrics([builtin]), real), { online: true, offline: [] })
  await new Promise<void>(res => { server.closeAllConnections(); server.close(() => res()) })
  t.same(await createHealthCheck().check(withMetrics([builtin]), real), { online: false, offline: [address] })
})
