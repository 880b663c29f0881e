// Sample reviews the webhook decides before /readyz says yes. V8 compiles a path the first times it runs:
// without this, the first real reviews after a start or a failover pay for it (several milliseconds each,
// inside the API server's timeout). They are decided like any review, in process, never sent anywhere.
import { MUTATE_DEPLOYMENTS_PATH } from './server.ts'
import type { WarmUpReview } from './server.ts'

const NAMESPACE = 'sluice-warm-up'

/** Rounds of warmUpReviews() before /readyz: enough for V8's optimizing tiers to pick the hot functions up. */
export const WARM_UP_ROUNDS = 200

function deployment(image: string): Record<string, unknown> {
  return {
    apiVersion: 'apps/v1', kind: 'Deployment',
    metadata: {
      name: 'warm-up', namespace: NAMESPACE, generation: 1,
      labels: { app: 'warm-up' },
      annotations: {
        'sluice.dev/strategy': 'canary',
        'sluice.dev/provider': 'nginx',
        'sluice.dev/port': '8080',
        'sluice.dev/spec': 'ingressRef: {apiVersion: networking.k8s.io/v1, kind: Ingress, name: warm-up}\n',
        'sluice.dev/analysis': [
          'interval: 1m', 'threshold: 5', 'maxWeight: 50', 'stepWeight: 10',
          'metrics:',
          '- {name: request-success-rate, interval: 1m, thresholdRange: {min: 99}}',
          '- {name: request-duration, interval: 1m, thresholdRange: {max: 500}}',
          'webhooks:',
          '- {name: smoke, type: pre-rollout, url: "http://loadtester.sluice-warm-up/", timeout: 30s, metadata: {cmd: "hey -z 1m http://warm-up-canary:8080/"}}',
          '- {name: load, url: "http://loadtester.sluice-warm-up/", timeout: 5s}',
          '',
        ].join('\n'),
      },
    },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: 'warm-up' } },
      template: {
        metadata: { labels: { app: 'warm-up' } },
        spec: {
          containers: [{
            name: 'app', image, ports: [{ name: 'http', containerPort: 8080 }],
            env: [{ name: 'MODE', value: 'warm-up' }], resources: { requests: { cpu: '100m', memory: '64Mi' } },
          }],
        },
      },
    },
  }
}

function review(uid: string, operation: 'CREATE' | 'UPDATE', object: unknown, oldObject?: unknown): string {
  return JSON.stringify({
    apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview',
    request: {
      uid, operation, name: 'warm-up', namespace: NAMESPACE, dryRun: true,
      kind: { group: 'apps', version: 'v1', kind: 'Deployment' },
      resource: { group: 'apps', version: 'v1', resource: 'deployments' },
      userInfo: { username: 'system:sluice:warm-up' },
      object, ...(oldObject !== undefined && { oldObject }),
    },
  })
}

/** A create, a new revision (a changed image) and the same template re-applied: the three paths a Deployment write takes. */
export function warmUpReviews(): WarmUpReview[] {
  const v1 = deployment('registry.example.com/warm-up:1.0.0')
  const v2 = deployment('registry.example.com/warm-up:1.0.1')
  return [
    { path: MUTATE_DEPLOYMENTS_PATH, body: review('warm-up-create', 'CREATE', v1) },
    { path: MUTATE_DEPLOYMENTS_PATH, body: review('warm-up-revision', 'UPDATE', v2, v1) },
    { path: MUTATE_DEPLOYMENTS_PATH, body: review('warm-up-same', 'UPDATE', v1, v1) },
  ]
}
