import t from 'tap'
import { analyseMetrics, queryTimeoutMs, type AnalysisDeps } from '../../../src/metrics/analysis.ts'
import { NoValuesError, QueryError, type MetricProvider, type MetricProviderSpec } from '../../../src/metrics/provider.ts'
import type { Canary, CanaryMetric, CanarySpec, MetricTemplate } from '../../../src/api/types.ts'
import { canary, metricTemplate, type Overrides } from '../../helpers/objects.ts'

/** The Canary `cart` in `shop` (port 80, provider kubernetes) with `metrics` every `interval`. */
function withMetrics(metrics: CanaryMetric[], extra: Overrides<CanarySpec> = {}, interval = '1m'): Canary {
  return canary({ metadata: { name: 'cart' }, spec: { service: { port: 80 }, provider: 'kubernetes', analysis: { interval, metrics }, ...extra } })
}

/** A template in `obs`. */
function template(name: string, query: string, provider: MetricTemplate['spec']['provider'] = {}): MetricTemplate {
  return metricTemplate({ metadata: { name, namespace: 'obs' }, spec: { provider, query } })
}

interface Call { options: MetricProviderSpec; query: string }

/** A provider per options, answering from a function of the query; records every call. */
function deps(answer: (q: string) => number | Error, more: Partial<AnalysisDeps> = {}): AnalysisDeps & { calls: Call[] } {
  const calls: Call[] = []
  return {
    calls,
    defaultMetricsServer: 'http://prom:9090',
    now: () => new Date('2026-01-01T00:00:00Z'),
    getTemplate: async (ns, name) => (ns === 'obs' && name === 'errors' ? template('errors', 'sum(errors{ns="{{ namespace }}",app="{{ variables.app }}"})', { type: 'prometheus', address: 'http://tenant-prom:9090', secretRef: { name: 'prom-auth' } }) : undefined),
    getSecret: async (ns, name) => (ns === 'obs' && name === 'prom-auth' ? { token: 'tok' } : undefined),
    providerFor(options): MetricProvider {
      return {
        async query(q) {
          calls.push({ options, query: q })
          const a = answer(q)
          if (a instanceof Error) throw a
          return a
        },
        async isOnline() { return true },
      }
    },
    ...more,
  }
}

t.test('builtin metrics go to the default server with the rendered builtin query, judged in order', async t => {
  const d = deps(q => (q.includes('histogram_quantile') ? 612 : 91.2))
  const records = await analyseMetrics(withMetrics([
    { name: 'request-success-rate', interval: '1m', thresholdRange: { min: 99 } },
    { name: 'request-duration', interval: '30s', thresholdRange: { max: 500 } },
  ]), d)
  t.same(records.map(r => [r.name, r.verdict, r.message]), [
    ['request-success-rate', 'fail', 'request-success-rate 91.2% is below the minimum 99% (window 1m)'],
    ['request-duration', 'fail', 'request-duration 612ms is above the maximum 500ms (window 30s)'],
  ])
  t.equal(d.calls.length, 2)
  t.ok(d.calls.every(c => c.options.address === 'http://prom:9090' && c.options.timeoutMs === 10_000))
  t.match(d.calls[0]!.query, 'kubernetes_namespace="shop",kubernetes_pod_name=~"cart-[0-9a-zA-Z]+(-[0-9a-zA-Z]+)"')
  t.match(d.calls[1]!.query, '[30s]')
})

t.test('spec.metricsServer overrides the default server', async t => {
  const d = deps(() => 100)
  await analyseMetrics(withMetrics([{ name: 'request-success-rate', thresholdRange: { min: 99 } }], { metricsServer: 'http://own:9090' }), d)
  t.equal(d.calls[0]!.options.address, 'http://own:9090')
})

t.test('a templateRef uses the template\'s address, its namespace\'s Secret and the variables', async t => {
  const d = deps(() => 3)
  const [r] = await analyseMetrics(withMetrics([
    { name: 'errors', templateRef: { name: 'errors', namespace: 'obs' }, templateVariables: { app: 'cart' }, thresholdRange: { max: 5 } },
  ]), d)
  t.equal(r!.verdict, 'pass')
  t.same(d.calls[0], { options: { type: 'prometheus', address: 'http://tenant-prom:9090', timeoutMs: 10_000, secret: { name: 'Secret obs/prom-auth', data: { token: 'tok' } } }, query: 'sum(errors{ns="shop",app="cart"})' })
})

t.test('setup problems are error records naming what to fix, never exceptions', async t => {
  const d = deps(() => 1)
  const records = await analyseMetrics(withMetrics([
    { name: 'gone', templateRef: { name: 'missing' } },
    { name: 'errors', templateRef: { name: 'errors', namespace: 'obs' }, templateVariables: {} },
    { name: 'mystery' },
  ]), d)
  t.same(records.map(r => r.verdict), ['error', 'error', 'error'])
  t.equal(records[0]!.message, 'gone: MetricTemplate shop/missing does not exist; create it or fix templateRef: holding')
  t.match(records[1]!.message, /templateVariables have no key "app"/)
  t.equal(records[2]!.message, 'mystery: it is not a builtin metric and has no templateRef: holding')
  t.equal(d.calls.length, 0, 'nothing was queried')
})

t.test('no metrics server configured is an error record', async t => {
  const { defaultMetricsServer: _d, ...d } = deps(() => 1)
  const [r] = await analyseMetrics(withMetrics([{ name: 'request-success-rate', thresholdRange: { min: 99 } }]), d)
  t.equal(r!.verdict, 'error')
  t.match(r!.message, /no metrics server is configured/)
})

t.test('a router without builtin queries is an error record', async t => {
  const [r] = await analyseMetrics(withMetrics([{ name: 'request-duration', thresholdRange: { max: 1 } }], { provider: 'gloo' }), deps(() => 1))
  t.equal(r!.verdict, 'error')
  t.match(r!.message, /use a MetricTemplate/)
})

t.test('a missing Secret and unsupported template providers are error records', async t => {
  const d = deps(() => 1, {
    getTemplate: async (_ns, name) => (name === 'dd'
      ? template('dd', 'x', { type: 'datadog' })
      : template('t', 'x', { address: 'http://p:9090', secretRef: { name: 'nope' } })),
  })
  const records = await analyseMetrics(withMetrics([{ name: 'a', templateRef: { name: 'dd' } }, { name: 'b', templateRef: { name: 't' } }]), d)
  t.match(records[0]!.message, /MetricTemplate .*: provider.type datadog is not available yet in this version of sluice; available: prometheus/)
  t.match(records[1]!.message, /Secret shop\/nope \(secretRef of MetricTemplate t\) does not exist/)
})

t.test('provider outcomes map to verdicts', async t => {
  const d = deps(q => (q === 'a' ? new NoValuesError('empty') : new QueryError('timeout', 'Prometheus at http://prom:9090 did not answer within 5s')))
  const records = await analyseMetrics(withMetrics([{ name: 'a', query: 'a' }, { name: 'b', query: 'b' }]), d)
  t.same(records.map(r => [r.verdict, r.value]), [['no-data', null], ['error', null]])
  t.equal(records[1]!.message, 'b: Prometheus at http://prom:9090 did not answer within 5s: holding')
})

t.test('queries run concurrently', async t => {
  let inFlight = 0
  let most = 0
  const d = deps(() => 1, {
    providerFor: () => ({
      async query() {
        most = Math.max(most, ++inFlight)
        await new Promise(r => setTimeout(r, 20))
        inFlight--
        return 1
      },
      async isOnline() { return true },
    }),
  })
  await analyseMetrics(withMetrics([{ name: 'a', query: 'a' }, { name: 'b', query: 'b' }, { name: 'c', query: 'c' }]), d)
  t.equal(most, 3)
})

t.test('the query timeout is half the interval, at most 10s', async t => {
  t.equal(queryTimeoutMs(withMetrics([], {}, '10s')), 5000)
  t.equal(queryTimeoutMs(withMetrics([], {}, '15s')), 7500)
  t.equal(queryTimeoutMs(withMetrics([], {}, '5m')), 10_000)
})
