import t from 'tap'
import { escapeLabelValue, renderExposition } from '../../simulator/exposition.ts'
import { tick, type AppInput, type TrafficState } from '../../simulator/traffic.ts'

const side = (pod: string, errorRate: number, latencySeconds: number): AppInput['primary'] =>
  ({ pods: [{ name: pod, ready: true }], errorRate, latencySeconds })

function rendered(nginx: boolean, istio = false, linkerd = false): string {
  const state: TrafficState = new Map()
  const app: AppInput = {
    namespace: 'shop', name: 'podinfo', canaryShare: 0.5,
    primary: side('podinfo-primary-5d9c7-aaaaa', 0, 0.005), canary: side('podinfo-7f8b6-ccccc', 0.5, 0.03),
    ...(nginx && { nginx: { ingress: 'web', canaryService: 'podinfo-canary' } }),
    ...(istio && { istio: true as const }),
    ...(linkerd && { linkerd: true as const }),
  }
  tick(state, [app], 1, { requestsPerSecond: 100 })
  return renderExposition(state)
}

t.test('nginx requests: the primary with canary="", the canary with its Service name, by status', async t => {
  const text = rendered(true)
  t.match(text, '# TYPE nginx_ingress_controller_requests counter\n')
  t.match(text, 'nginx_ingress_controller_requests{namespace="shop",ingress="web",canary="",status="200"} 50\n')
  t.match(text, 'nginx_ingress_controller_requests{namespace="shop",ingress="web",canary="",status="500"} 0\n')
  t.match(text, 'nginx_ingress_controller_requests{namespace="shop",ingress="web",canary="podinfo-canary",status="200"} 25\n')
  t.match(text, 'nginx_ingress_controller_requests{namespace="shop",ingress="web",canary="podinfo-canary",status="500"} 25\n')
})

t.test('nginx response duration: one histogram per side over both outcomes', async t => {
  const text = rendered(true)
  t.match(text, '# TYPE nginx_ingress_controller_response_duration_seconds histogram\n')
  const name = 'nginx_ingress_controller_response_duration_seconds'
  t.match(text, `${name}_bucket{namespace="shop",ingress="web",canary="podinfo-canary",le="0.025"} 0\n`)
  t.match(text, `${name}_bucket{namespace="shop",ingress="web",canary="podinfo-canary",le="0.05"} 50\n`)
  t.match(text, `${name}_bucket{namespace="shop",ingress="web",canary="podinfo-canary",le="+Inf"} 50\n`)
  t.match(text, `${name}_count{namespace="shop",ingress="web",canary="podinfo-canary"} 50\n`)
  t.match(text, `${name}_sum{namespace="shop",ingress="web",canary="podinfo-canary"} 1.5\n`)
  t.match(text, `${name}_bucket{namespace="shop",ingress="web",canary="",le="0.005"} 50\n`)
})

t.test('http_request_duration_seconds per pod and status; no nginx families for other providers', async t => {
  const text = rendered(false)
  t.notMatch(text, 'nginx_')
  t.match(text, '# TYPE http_request_duration_seconds histogram\n')
  const pod = 'kubernetes_namespace="shop",kubernetes_pod_name="podinfo-7f8b6-ccccc"'
  t.match(text, `http_request_duration_seconds_count{${pod},status="200"} 25\n`)
  t.match(text, `http_request_duration_seconds_count{${pod},status="500"} 25\n`)
  t.match(text, `http_request_duration_seconds_bucket{${pod},status="500",le="10"} 25\n`)
  t.match(text, 'http_request_duration_seconds_count{kubernetes_namespace="shop",kubernetes_pod_name="podinfo-primary-5d9c7-aaaaa",status="200"} 50\n')
})

t.test('every line is a comment or a well-formed sample; buckets are cumulative', async t => {
  const text = rendered(true)
  t.ok(text.endsWith('\n'))
  const sample = /^[a-zA-Z_:][a-zA-Z0-9_:]*\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*",?)*\} [0-9.e+-]+$/
  for (const line of text.trimEnd().split('\n')) {
    if (!line.startsWith('#') && !sample.test(line)) t.fail(`malformed: ${line}`)
  }
  const buckets = text.split('\n').filter(l => l.startsWith('http_request_duration_seconds_bucket{kubernetes_namespace="shop",kubernetes_pod_name="podinfo-7f8b6-ccccc",status="200"'))
  const values = buckets.map(l => Number(l.split(' ').at(-1)))
  t.equal(values.length, 12, '11 bounds and +Inf')
  t.ok(values.every((v, i) => i === 0 || v >= values[i - 1]!), 'non-decreasing')
  t.equal(renderExposition(new Map()), '# HELP http_request_duration_seconds Duration of HTTP requests served by the pod (simulated).\n# TYPE http_request_duration_seconds histogram\n', 'no apps')
})

t.test('label values are escaped', async t => {
  t.equal(escapeLabelValue('a"b\\c\nd'), 'a\\"b\\\\c\\nd')
})

t.test('istio: requests and durations as a server sidecar reports them, by workload and response code', async t => {
  const text = rendered(false, true)
  const sel = (workload: string, code: string): string =>
    `reporter="destination",destination_workload="${workload}",destination_workload_namespace="shop",response_code="${code}"`
  t.match(text, '# TYPE istio_requests_total counter\n')
  t.match(text, `istio_requests_total{${sel('podinfo-primary', '200')}} 50\n`)
  t.match(text, `istio_requests_total{${sel('podinfo-primary', '500')}} 0\n`)
  t.match(text, `istio_requests_total{${sel('podinfo', '200')}} 25\n`)
  t.match(text, `istio_requests_total{${sel('podinfo', '500')}} 25\n`)
  t.match(text, '# TYPE istio_request_duration_milliseconds histogram\n')
  t.match(text, `istio_request_duration_milliseconds_bucket{${sel('podinfo', '200')},le="25"} 0\n`, 'bounds in milliseconds: 30ms is above 25')
  t.match(text, `istio_request_duration_milliseconds_bucket{${sel('podinfo', '200')},le="50"} 25\n`)
  t.match(text, `istio_request_duration_milliseconds_sum{${sel('podinfo', '200')}} 750\n`, 'the sum in milliseconds: 25 × 30')
  t.match(text, `istio_request_duration_milliseconds_count{${sel('podinfo-primary', '200')}} 50\n`)
  t.notMatch(rendered(true), /istio_/, 'only for apps behind istio')
  t.notMatch(text, /nginx_/, 'and an istio app has no nginx series')
})

t.test('linkerd: inbound responses and latencies as each side\'s proxy reports them, by deployment, classification and status', async t => {
  const text = rendered(false, false, true)
  const sel = (deployment: string): string => `namespace="shop",deployment="${deployment}",direction="inbound"`
  t.match(text, '# TYPE response_total counter\n')
  t.match(text, `response_total{${sel('podinfo-primary')},classification="success",status_code="200"} 50\n`)
  t.match(text, `response_total{${sel('podinfo-primary')},classification="failure",status_code="500"} 0\n`)
  t.match(text, `response_total{${sel('podinfo')},classification="success",status_code="200"} 25\n`)
  t.match(text, `response_total{${sel('podinfo')},classification="failure",status_code="500"} 25\n`)
  t.match(text, '# TYPE response_latency_ms histogram\n')
  t.match(text, `response_latency_ms_bucket{${sel('podinfo')},status_code="200",le="25"} 0\n`, 'bounds in milliseconds: 30ms is above 25')
  t.match(text, `response_latency_ms_bucket{${sel('podinfo')},status_code="500",le="50"} 25\n`)
  t.match(text, `response_latency_ms_sum{${sel('podinfo')},status_code="200"} 750\n`, 'the sum in milliseconds: 25 × 30')
  t.notMatch(text, /response_latency_ms_bucket\{[^}]*classification/, 'the histogram has no classification label')
  t.notMatch(rendered(false, true), /response_total/, 'only for apps behind linkerd')
  t.notMatch(text, /istio_|nginx_/, 'and a linkerd app has no istio or nginx series')
})
