// Canary releases through the linkerd router, end to end: kubectl apply, the webhook, the controller, the SMI
// TrafficSplit in the API server (the schema of test/cluster/linkerd.ts), and the simulator's response_total
// measured by a real Prometheus through linkerd's builtin request-success-rate.
import { installLinkerdCrds } from '../cluster/linkerd.ts'
import { routerReleaseTests } from './router-release.ts'

interface StoredTrafficSplit { spec?: { backends?: { service?: string; weight?: number }[] } }

await routerReleaseTests({
  provider: 'linkerd', kind: 'TrafficSplit', group: 'split.smi-spec.io', version: 'v1alpha2', plural: 'trafficsplits',
  metric: 'response_total', installCrds: installLinkerdCrds,
  canaryWeightOf: o => (o as StoredTrafficSplit).spec?.backends?.find(b => b.service === 'podinfo-canary')?.weight ?? 0,
})
