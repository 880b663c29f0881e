// Canary releases through the traefik router, end to end: kubectl apply, the webhook, the controller, the
// TraefikService in the API server (Traefik's own CRD), and the simulator's traefik_service_requests_total measured
// by a real Prometheus through traefik's builtin request-success-rate.
import { installTraefikCrds } from '../cluster/traefik.ts'
import { routerReleaseTests } from './router-release.ts'

interface StoredTraefikService { spec?: { weighted?: { services?: { name?: string; weight?: number }[] } } }

await routerReleaseTests({
  provider: 'traefik', kind: 'TraefikService', group: 'traefik.io', version: 'v1alpha1', plural: 'traefikservices',
  metric: 'traefik_service_requests_total', installCrds: installTraefikCrds,
  canaryWeightOf: o => (o as StoredTraefikService).spec?.weighted?.services?.find(s => s.name === 'podinfo-canary')?.weight ?? 0,
})
