// Canary releases through the istio router, end to end: kubectl apply, the webhook, the controller, the
// VirtualService in the API server (Istio's own CRDs), and the simulator's istio_requests_total measured by
// a real Prometheus through istio's builtin request-success-rate.
import { installIstioCrds } from '../cluster/istio.ts'
import { kubeconfigPath } from '../helpers/kube.ts'
import { meshReleases } from './mesh-release.ts'

interface StoredVirtualService { spec?: { http?: { route?: { destination?: { host?: string }; weight?: number }[] }[] } }

await meshReleases({
  provider: 'istio', kind: 'VirtualService', metric: 'istio_requests_total',
  object: { group: 'networking.istio.io', version: 'v1', plural: 'virtualservices' },
  // http[0]'s canary destination.
  canaryWeightOf: o => (o as StoredVirtualService).spec?.http?.[0]?.route?.find(r => r.destination?.host === 'podinfo-canary')?.weight ?? 0,
  install: kubeconfig => installIstioCrds(kubeconfig),
}, kubeconfigPath())
