// The simulator's contour part: the canary's share under the HTTPProxy the router writes, the clusters Contour
// names after the side Services, and Envoy's upstream stats for them in the exposition.
import t from 'tap'
import { httpProxy } from '../../../src/router/contour.ts'
import { contourClusters, contourInput, httpProxyCanaryShare } from '../../simulator/contour.ts'
import { renderExposition } from '../../simulator/exposition.ts'
import { tick, type AppInput, type TrafficState } from '../../simulator/traffic.ts'
import { canary } from '../../helpers/objects.ts'

const names = { primary: 'podinfo-primary', canary: 'podinfo-canary' }

t.test('the HTTPProxy sluice writes, weight by weight, for A/B and while mirroring', async t => {
  const c = canary({ metadata: { uid: 'u' }, spec: { provider: 'contour', service: { port: 9898, match: [{ uri: { prefix: '/api' } }] } } })
  for (const w of [0, 10, 50, 100]) t.equal(httpProxyCanaryShare(httpProxy(c, { primary: 100 - w, canary: w }).spec, names), w / 100, `weight ${w}`)
  const ab = { ...c, spec: { ...c.spec, analysis: { interval: '1m', iterations: 3, match: [{ headers: { 'x-canary': { exact: 'insider' } } }] } } }
  t.equal(httpProxyCanaryShare(httpProxy(ab, { primary: 0, canary: 100 }).spec, names, 0.2), 0.2, 'A/B: the header route to the canary, the default route to the primary')
  t.equal(httpProxyCanaryShare(httpProxy(ab, { primary: 100, canary: 0 }).spec, names), 0, 'A/B at weight 0')
  const mirrored = { ...c, spec: { ...c.spec, analysis: { interval: '1m', iterations: 3, mirror: true } } }
  t.equal(httpProxyCanaryShare(httpProxy(mirrored, { primary: 100, canary: 0, mirror: true }).spec, names), 0, 'a mirror serves no one')
  t.equal(httpProxyCanaryShare(undefined, names), 0, 'no HTTPProxy')
  t.equal(httpProxyCanaryShare({ routes: [{ services: [{ name: 'podinfo-primary' }, { name: 'podinfo-canary' }] }] }, names), 0.5, 'no weights: Contour splits evenly')
})

t.test('the clusters: Contour\'s alt stat name <namespace>_<service>_<port>, for contour apps only', async t => {
  t.same(contourClusters('shop', 'www', 80), { primary: 'shop_www-primary_80', canary: 'shop_www-canary_80' })
  t.same(contourInput('contour', 'shop', 'www', 80), { contour: { clusters: contourClusters('shop', 'www', 80) } })
  t.same(contourInput('istio', 'shop', 'www', 80), {})
})

t.test('exposition: envoy_cluster_upstream_rq by response code and envoy_cluster_upstream_rq_time in milliseconds, per side cluster', async t => {
  const side = (pod: string, errorRate: number, latencySeconds: number): AppInput['primary'] => ({ pods: [{ name: pod, ready: true }], errorRate, latencySeconds })
  const state: TrafficState = new Map()
  tick(state, [{
    namespace: 'shop', name: 'podinfo', canaryShare: 0.5, ...contourInput('contour', 'shop', 'podinfo', 9898),
    primary: side('podinfo-primary-5d9c7-aaaaa', 0, 0.005), canary: side('podinfo-7f8b6-ccccc', 0.5, 0.03),
  }], 1, { requestsPerSecond: 100 })
  const text = renderExposition(state)
  const cluster = (side: string): string => `envoy_cluster_name="shop_podinfo-${side}_9898"`
  t.match(text, '# TYPE envoy_cluster_upstream_rq counter\n')
  t.match(text, `envoy_cluster_upstream_rq{${cluster('primary')},envoy_response_code="200"} 50\n`)
  t.match(text, `envoy_cluster_upstream_rq{${cluster('primary')},envoy_response_code="500"} 0\n`)
  t.match(text, `envoy_cluster_upstream_rq{${cluster('canary')},envoy_response_code="200"} 25\n`)
  t.match(text, `envoy_cluster_upstream_rq{${cluster('canary')},envoy_response_code="500"} 25\n`)
  t.match(text, '# TYPE envoy_cluster_upstream_rq_time histogram\n')
  t.match(text, `envoy_cluster_upstream_rq_time_bucket{${cluster('canary')},le="25"} 0\n`, 'bounds in milliseconds: 30ms is above 25')
  t.match(text, `envoy_cluster_upstream_rq_time_bucket{${cluster('canary')},le="50"} 50\n`, 'both outcomes in one histogram')
  t.match(text, `envoy_cluster_upstream_rq_time_sum{${cluster('canary')}} 1500\n`, 'the sum in milliseconds: 50 × 30')
  t.notMatch(text, /istio_|nginx_/, 'no other provider\'s series')
  t.notMatch(renderExposition(new Map()), /envoy_/, 'none without contour apps')
})
