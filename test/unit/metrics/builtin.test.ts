import t from 'tap'
import { builtinQuery, isBuiltinMetric } from '../../../src/metrics/builtin.ts'
import { renderQuery } from '../../../src/metrics/template.ts'

const vars = { namespace: 'shop', target: 'cart', ingress: 'cart', interval: '1m', name: 'cart' }

t.test('kubernetes: success rate over the generic HTTP histogram, per target pods', async t => {
  const sel = 'kubernetes_namespace="shop",kubernetes_pod_name=~"cart-[0-9a-zA-Z]+(-[0-9a-zA-Z]+)"'
  t.equal(renderQuery(builtinQuery('kubernetes', 'request-success-rate'), vars),
    `sum(rate(http_request_duration_seconds_count{${sel},status!~"5.*"}[1m])) / sum(rate(http_request_duration_seconds_count{${sel}}[1m])) * 100`)
  t.equal(renderQuery(builtinQuery('kubernetes', 'request-duration'), vars),
    `histogram_quantile(0.99, sum(rate(http_request_duration_seconds_bucket{${sel}}[1m])) by (le)) * 1000`)
})

t.test('gatewayapi (all versions) and no provider use the generic HTTP observer', async t => {
  for (const p of ['gatewayapi', 'gatewayapi:v1', 'gatewayapi:v1beta1', undefined] as const) {
    t.equal(builtinQuery(p, 'request-duration'), builtinQuery('kubernetes', 'request-duration'), String(p))
    t.equal(builtinQuery(p, 'request-success-rate'), builtinQuery('kubernetes', 'request-success-rate'), String(p))
  }
})

t.test('nginx: canary ingress requests, p99 response duration in ms', async t => {
  const sel = 'namespace="shop",ingress="cart",canary!=""'
  t.equal(renderQuery(builtinQuery('nginx', 'request-success-rate'), vars),
    `sum(rate(nginx_ingress_controller_requests{${sel},status!~"5.*"}[1m])) / sum(rate(nginx_ingress_controller_requests{${sel}}[1m])) * 100`)
  t.equal(renderQuery(builtinQuery('nginx', 'request-duration'), vars),
    `histogram_quantile(0.99, sum(rate(nginx_ingress_controller_response_duration_seconds_bucket{${sel}}[1m])) by (le)) * 1000`)
})

t.test('istio durations are already milliseconds', async t => {
  t.notMatch(builtinQuery('istio', 'request-duration'), /\* 1000/)
  t.match(builtinQuery('istio', 'request-duration'), /istio_request_duration_milliseconds_bucket/)
})

t.test('contour: Envoy cluster stats of the canary Service, <namespace>_<service>-canary_<port> as Contour names them', async t => {
  const sel = 'envoy_cluster_name=~"shop_cart-svc-canary_[0-9]+"'
  const withService = { ...vars, service: 'cart-svc' }
  t.equal(renderQuery(builtinQuery('contour', 'request-success-rate'), withService),
    `sum(rate(envoy_cluster_upstream_rq{${sel},envoy_response_code!~"5.*"}[1m])) / sum(rate(envoy_cluster_upstream_rq{${sel}}[1m])) * 100`)
  t.equal(renderQuery(builtinQuery('contour', 'request-duration'), withService),
    `histogram_quantile(0.99, sum(rate(envoy_cluster_upstream_rq_time_bucket{${sel}}[1m])) by (le))`, 'Envoy times are in milliseconds')
})

t.test('a router without builtin queries is an error pointing at MetricTemplate, not a silent fallback', async t => {
  t.throws(() => builtinQuery('gloo', 'request-success-rate'), { message: /no builtin request-success-rate query for provider gloo; use a MetricTemplate/ })
})

t.test('only the two builtin names are builtin', async t => {
  t.ok(isBuiltinMetric('request-success-rate'))
  t.ok(isBuiltinMetric('request-duration'))
  t.notOk(isBuiltinMetric('error-rate'))
})
