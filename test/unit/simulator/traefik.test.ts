// The simulator's traefik part: the canary's share under a stored TraefikService, and Traefik's service metrics
// (traefik_service_requests_total by code, traefik_service_request_duration_seconds) labelled as Traefik names the Services.
import t from 'tap'
import { renderExposition } from '../../simulator/exposition.ts'
import { tick, type AppInput, type TrafficState } from '../../simulator/traffic.ts'
import { traefikCanaryShare, traefikServiceLabel } from '../../simulator/traefik.ts'

const NAMES = { primary: 'podinfo-primary', canary: 'podinfo-canary' }
const weighted = (...services: object[]): unknown => ({ weighted: { services } })

t.test('the canary\'s share: the weighted children\'s weights over the two sides', async t => {
  for (const w of [0, 10, 50, 100]) {
    t.equal(traefikCanaryShare(weighted({ name: 'podinfo-primary', weight: 100 - w }, { name: 'podinfo-canary', weight: w }), NAMES), w / 100, `weight ${w}`)
  }
  t.equal(traefikCanaryShare(weighted({ name: 'podinfo-primary' }, { name: 'podinfo-canary' }), NAMES), 0.5, 'a missing weight is 1, as Traefik takes it')
  t.equal(traefikCanaryShare(weighted({ name: 'podinfo-primary', weight: 1 }, { name: 'podinfo-canary', kind: 'TraefikService', weight: 1 }), NAMES), 0, 'a TraefikService child is not the canary Service')
  t.equal(traefikCanaryShare({ mirroring: { name: 'podinfo-primary', mirrors: [{ name: 'podinfo-canary', percent: 50 }] } }, NAMES), 0, 'mirroring: the primary serves')
  t.equal(traefikCanaryShare(undefined, NAMES), 0, 'no TraefikService: the primary')
  t.equal(traefikServiceLabel('shop', 'podinfo-canary', 9898), 'shop-podinfo-canary-9898@kubernetescrd')
})

t.test('the exposition: requests by code and durations in seconds, per side\'s Service, only for traefik apps', async t => {
  const side = (pod: string, errorRate: number, latencySeconds: number): AppInput['primary'] => ({ pods: [{ name: pod, ready: true }], errorRate, latencySeconds })
  const state: TrafficState = new Map()
  const labels = { primary: 'shop-podinfo-primary-80@kubernetescrd', canary: 'shop-podinfo-canary-80@kubernetescrd' }
  tick(state, [{
    namespace: 'shop', name: 'podinfo', canaryShare: 0.5, traefik: labels,
    primary: side('podinfo-primary-5d9c7-aaaaa', 0, 0.005), canary: side('podinfo-7f8b6-ccccc', 0.5, 0.03),
  }], 1, { requestsPerSecond: 100 })
  const text = renderExposition(state)
  const sel = (service: string, code: string): string => `method="GET",protocol="http",service="${service}",code="${code}"`
  t.match(text, '# TYPE traefik_service_requests_total counter\n')
  t.match(text, `traefik_service_requests_total{${sel(labels.primary, '200')}} 50\n`)
  t.match(text, `traefik_service_requests_total{${sel(labels.primary, '500')}} 0\n`)
  t.match(text, `traefik_service_requests_total{${sel(labels.canary, '200')}} 25\n`)
  t.match(text, `traefik_service_requests_total{${sel(labels.canary, '500')}} 25\n`)
  t.match(text, '# TYPE traefik_service_request_duration_seconds histogram\n')
  t.match(text, `traefik_service_request_duration_seconds_bucket{${sel(labels.canary, '200')},le="0.025"} 0\n`, '30ms is above 0.025s')
  t.match(text, `traefik_service_request_duration_seconds_bucket{${sel(labels.canary, '200')},le="0.05"} 25\n`)
  t.match(text, `traefik_service_request_duration_seconds_count{${sel(labels.primary, '200')}} 50\n`)
  t.notMatch(text, /istio_|nginx_/, 'a traefik app has no other provider\'s series')
  const plain: TrafficState = new Map()
  tick(plain, [{ namespace: 'shop', name: 'podinfo', canaryShare: 0, primary: side('p-1-a', 0, 0.005), canary: side('c-1-a', 0, 0.005) }], 1, { requestsPerSecond: 10 })
  t.notMatch(renderExposition(plain), /traefik_/, 'only for apps behind traefik')
})
