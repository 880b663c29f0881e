// Canary releases through the istio router, end to end: kubectl apply, the webhook, the controller, the
// VirtualService in the API server (Istio's own CRDs), and the simulator's istio_requests_total measured by
// a real Prometheus through istio's builtin request-success-rate.
import { installIstioCrds } from '../cluster/istio.ts'
import { routerReleaseTests } from './router-release.ts'

interface StoredVirtualService { spec?: { http?: { route?: { destination?: { host?: string }; weight?: number }[] }[] } }

await routerReleaseTests({
  provider: 'istio', kind: 'VirtualService', group: 'networking.istio.io', version: 'v1', plural: 'virtualservices',
  metric: 'istio_requests_total', installCrds: installIstioCrds,
  canaryWeightOf: o => (o as StoredVirtualService).spec?.http?.[0]?.route?.find(r => r.destination?.host === 'podinfo-canary')?.weight ?? 0,
})
