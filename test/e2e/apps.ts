// The apps the e2e tests deliver, written as data and applied with the real kubectl.
import { stringify } from 'yaml'
import { kubectl, kubectlOk } from '../helpers/kube.ts'
import { watchRecorder } from './env.ts'
import { app } from '../helpers/manifests.ts'

export const IMAGE_V1 = 'ghcr.io/stefanprodan/podinfo:6.7.0'
export const IMAGE_V2 = 'ghcr.io/stefanprodan/podinfo:6.7.1'
export const IMAGE_V3 = 'ghcr.io/stefanprodan/podinfo:6.7.2'

export interface AppSpec {
  readonly ns: string
  readonly name?: string
  readonly image?: string
  readonly replicas?: number
  /** Pod template annotations, e.g. simulator.sluice.dev/error-rate. */
  readonly pod?: Record<string, string>
  /** The sluice.dev/ annotations; none means not opted in. */
  readonly sluice?: Record<string, string>
  /** Extra pod spec fields (env, volumes, nodeSelector). */
  readonly podSpec?: Record<string, unknown>
  readonly containerExtra?: Record<string, unknown>
}

/** The app's Deployment as kubectl applies it: 2 replicas of IMAGE_V1 unless told otherwise. */
export function deploymentYaml(a: AppSpec): string {
  return app({
    namespace: a.ns, name: a.name, image: a.image ?? IMAGE_V1, replicas: a.replicas ?? 2,
    annotations: a.sluice, podAnnotations: a.pod, podSpec: a.podSpec, containerExtra: a.containerExtra,
  })
}

/** The user's Ingress in front of the apex Service, for provider nginx. */
export function ingressYaml(ns: string, name = 'podinfo'): string {
  return stringify({
    apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name, namespace: ns },
    spec: { ingressClassName: 'nginx', rules: [{ host: `${name}.example.com`, http: { paths: [
      { path: '/', pathType: 'Prefix', backend: { service: { name, port: { number: 9898 } } } },
    ] } }] },
  })
}

/** The annotations of an nginx canary: steps of `step`% up to `max`%, the success rate checked every tick. */
export function nginxCanary(o: { step?: number; max?: number; interval?: string; threshold?: number; metrics?: boolean; deadline?: number; name?: string } = {}): Record<string, string> {
  const metrics = o.metrics === false ? '' : '\nmetrics:\n- {name: request-success-rate, interval: 10s, thresholdRange: {min: 99}}'
  return {
    'sluice.dev/strategy': 'canary',
    'sluice.dev/provider': 'nginx',
    'sluice.dev/port': '9898',
    'sluice.dev/spec': `ingressRef: {apiVersion: networking.k8s.io/v1, kind: Ingress, name: ${o.name ?? 'podinfo'}}\n` +
      (o.deadline !== undefined ? `progressDeadlineSeconds: ${o.deadline}\n` : ''),
    'sluice.dev/analysis': `interval: ${o.interval ?? '2s'}\nthreshold: ${o.threshold ?? 2}\nstepWeight: ${o.step ?? 20}\nmaxWeight: ${o.max ?? 60}${metrics}\n`,
  }
}

export async function apply(yaml: string): Promise<string> {
  const r = await kubectl(['apply', '-f', '-'], yaml)
  if (r.code !== 0) throw new Error(`kubectl apply failed (${r.code}): ${r.stderr}`)
  return r.stderr
}

const CANARY_WEIGHT = 'nginx.ingress.kubernetes.io/canary-weight'

/** Every canary weight the canary Ingress is stored with, in order, from now until stop(). */
export function canaryWeights(ns: string, name = 'podinfo'): ReturnType<typeof watchRecorder<string>> {
  return watchRecorder(`/apis/networking.k8s.io/v1/namespaces/${ns}/ingresses`, `${name}-canary`, o => o.metadata?.annotations?.[CANARY_WEIGHT] ?? '')
}

export async function canaryWeightAnnotation(ns: string, name = 'podinfo'): Promise<string> {
  return (await kubectlOk(['-n', ns, 'get', 'ingress', `${name}-canary`, '-o', 'jsonpath={.metadata.annotations.nginx\\.ingress\\.kubernetes\\.io/canary-weight}'])).trim()
}
