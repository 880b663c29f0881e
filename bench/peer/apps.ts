// The peer benchmark's apps: the controller benchmark's (an Ingress and a one-replica Deployment), released by
// sluice through its annotations or by Flagger through a flagger.app Canary with the same analysis.
import { CustomObjectsApi } from '@kubernetes/client-node'
import type { KubeConfig } from '@kubernetes/client-node'
import { ERROR_RATE_ANNOTATION } from '../../test/simulator/apps.ts'
import { createApp, deployment, ingress, newRevision, PORT } from '../controller/apps.ts'
import type { AnalysisShape, AppRef, Clients } from '../controller/apps.ts'

export type ControllerKind = 'sluice' | 'flagger'

// The analysis: interval 10 s, stepWeight 20 up to 60, threshold 2, request-success-rate ≥ 99 over 1 m.
export const ANALYSIS: AnalysisShape = { intervalSeconds: 10, stepWeight: 20, maxWeight: 60, metricIntervalSeconds: 60, threshold: 2 }

export const IMAGE_BAD = 'ghcr.io/stefanprodan/podinfo:6.7.2'
/** The later good release's image: a revision after the first good one. */
export const IMAGE_LATER = 'ghcr.io/stefanprodan/podinfo:6.7.3'

/** The first good release, a later good one (the controller warm: its code compiled, as in a long run), the bad one. */
export type ReleaseKind = 'good' | 'later' | 'bad'

/** Flagger's Canary for one app: the same analysis, its builtin nginx request-success-rate. */
export function flaggerCanary(app: AppRef, a: AnalysisShape): object {
  return {
    apiVersion: 'flagger.app/v1beta1', kind: 'Canary', metadata: { name: app.name, namespace: app.namespace },
    spec: {
      // Also read by the traffic simulator, which routes the app as this provider does.
      provider: 'nginx',
      targetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: app.name },
      ingressRef: { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', name: app.name },
      service: { port: PORT },
      analysis: {
        interval: `${a.intervalSeconds}s`, threshold: a.threshold ?? 5, maxWeight: a.maxWeight, stepWeight: a.stepWeight,
        metrics: [{ name: 'request-success-rate', thresholdRange: { min: 99 }, interval: `${a.metricIntervalSeconds}s` }],
      },
    },
  }
}

/** Creates one app for `kind`: sluice's by annotation (its webhook holds it at 0 replicas), Flagger's as a plain Deployment and a Canary. */
export async function createPeerApp(kind: ControllerKind, kc: KubeConfig, c: Clients, app: AppRef, a: AnalysisShape): Promise<void> {
  if (kind === 'sluice') return createApp(c, app, a)
  await c.net.createNamespacedIngress({ namespace: app.namespace, body: ingress(app) })
  const d = deployment(app, a)
  await c.apps.createNamespacedDeployment({ namespace: app.namespace, body: { ...d, metadata: { name: app.name, namespace: app.namespace } } })
  await kc.makeApiClient(CustomObjectsApi).createNamespacedCustomObject({
    group: 'flagger.app', version: 'v1beta1', namespace: app.namespace, plural: 'canaries', body: flaggerCanary(app, a),
  })
}

/** A good new version, a later good one, or a bad one: every request to its pods fails in the simulator. */
export function release(c: Clients, app: AppRef, kind: ReleaseKind): Promise<void> {
  if (kind === 'bad') return newRevision(c, app, IMAGE_BAD, { [ERROR_RATE_ANNOTATION]: '1' })
  return newRevision(c, app, kind === 'later' ? IMAGE_LATER : undefined)
}
