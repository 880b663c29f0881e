// The benchmark's apps: N nginx canaries (a user Ingress and an annotated one-replica Deployment each),
// spread over a few namespaces, created and given a new revision through the API in parallel.
import { AppsV1Api, CoreV1Api, NetworkingV1Api, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node'
import type { KubeConfig, V1Deployment, V1Ingress } from '@kubernetes/client-node'

export const IMAGE_V1 = 'ghcr.io/stefanprodan/podinfo:6.7.0'
export const IMAGE_V2 = 'ghcr.io/stefanprodan/podinfo:6.7.1'
export const PORT = 9898

/** Canaries per namespace: a few namespaces, as a real cluster has, without one per app. */
const PER_NAMESPACE = 250

export interface AppRef {
  readonly namespace: string
  readonly name: string
}

export const keyOf = (a: AppRef): string => `${a.namespace}/${a.name}`

export interface AnalysisShape {
  readonly intervalSeconds: number
  readonly stepWeight: number
  readonly maxWeight: number
  readonly metricIntervalSeconds: number
  /** Failed checks before a rollback (default 5). */
  readonly threshold?: number
}

export function layout(n: number): { namespaces: string[]; apps: AppRef[] } {
  const count = Math.max(1, Math.ceil(n / PER_NAMESPACE))
  const namespaces = Array.from({ length: count }, (_, i) => `bench-ctl-${i}`)
  // Round-robin, so that any prefix of the list (the burst, the probes) touches every namespace.
  const apps = Array.from({ length: n }, (_, i) => ({ namespace: namespaces[i % count]!, name: `app-${String(i).padStart(4, '0')}` }))
  return { namespaces, apps }
}

export function annotations(a: AnalysisShape, app: string): Record<string, string> {
  return {
    'sluice.dev/strategy': 'canary',
    'sluice.dev/provider': 'nginx',
    'sluice.dev/port': String(PORT),
    'sluice.dev/spec': `ingressRef: {apiVersion: networking.k8s.io/v1, kind: Ingress, name: ${app}}\n`,
    'sluice.dev/analysis': [
      `interval: ${a.intervalSeconds}s`, `threshold: ${a.threshold ?? 5}`, `stepWeight: ${a.stepWeight}`, `maxWeight: ${a.maxWeight}`,
      'metrics:', `- {name: request-success-rate, interval: ${a.metricIntervalSeconds}s, thresholdRange: {min: 99}}`, '',
    ].join('\n'),
  }
}

export function deployment(app: AppRef, a: AnalysisShape, image = IMAGE_V1): V1Deployment {
  return {
    apiVersion: 'apps/v1', kind: 'Deployment',
    metadata: { name: app.name, namespace: app.namespace, annotations: annotations(a, app.name) },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: app.name } },
      template: {
        metadata: { labels: { app: app.name } },
        spec: { containers: [{ name: 'app', image, ports: [{ name: 'http', containerPort: PORT }] }] },
      },
    },
  }
}

export function ingress(app: AppRef): V1Ingress {
  return {
    apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name: app.name, namespace: app.namespace },
    spec: {
      ingressClassName: 'nginx',
      rules: [{ host: `${app.name}.${app.namespace}.example.com`, http: { paths: [
        { path: '/', pathType: 'Prefix', backend: { service: { name: app.name, port: { number: PORT } } } },
      ] } }],
    },
  }
}

export function errorText(e: unknown): string {
  const err = e as { code?: number; body?: unknown; message?: string }
  const body = typeof err.body === 'string' ? err.body : JSON.stringify(err.body ?? '')
  return `${err.code ?? ''} ${(err.message ?? String(e)).split('\n')[0]} ${body}`.slice(0, 300)
}

/** Runs `fn` over the items, `concurrency` at a time; failures are collected, never thrown. */
export async function pool<T>(items: readonly T[], concurrency: number, fn: (item: T) => Promise<void>, onDone?: (done: number) => void): Promise<string[]> {
  const errors: string[] = []
  let next = 0
  let done = 0
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++]!
      try {
        await fn(item)
      } catch (e) {
        errors.push(errorText(e))
      }
      onDone?.(++done)
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker))
  return errors
}

export interface Clients {
  readonly core: CoreV1Api
  readonly apps: AppsV1Api
  readonly net: NetworkingV1Api
}

export function clients(kc: KubeConfig): Clients {
  return { core: kc.makeApiClient(CoreV1Api), apps: kc.makeApiClient(AppsV1Api), net: kc.makeApiClient(NetworkingV1Api) }
}

export async function createNamespaces(c: Clients, namespaces: readonly string[]): Promise<void> {
  for (const name of namespaces) await c.core.createNamespace({ body: { metadata: { name } } })
}

/** Creates one app; the webhook holds the Deployment at 0 replicas, so a Deployment left at 1 was not admitted by sluice. */
export async function createApp(c: Clients, app: AppRef, a: AnalysisShape): Promise<void> {
  await c.net.createNamespacedIngress({ namespace: app.namespace, body: ingress(app) })
  const d = await c.apps.createNamespacedDeployment({ namespace: app.namespace, body: deployment(app, a) })
  if (d.spec?.replicas !== 0) throw new Error(`${keyOf(app)}: not held at 0 replicas: sluice's webhook did not patch it`)
}

/** Waits until a dry-run create of an app is admitted and patched by sluice's webhook (its caches are warm). */
export async function waitAdmitted(c: Clients, app: AppRef, a: AnalysisShape, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  let last = ''
  while (Date.now() < deadline) {
    try {
      const d = await c.apps.createNamespacedDeployment({ namespace: app.namespace, body: deployment({ ...app, name: 'dry-run' }, a), dryRun: 'All' })
      if (d.spec?.replicas === 0) return
      last = 'admitted without the replica hold'
    } catch (e) {
      last = errorText(e)
    }
    await new Promise(r => setTimeout(r, 250))
  }
  throw new Error(`a dry-run create of a benchmark Deployment was never admitted and patched by sluice: ${last}`)
}

const strategicMerge = setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch)

/** A new revision, as `kubectl apply` of a changed image sends it (strategic merge patch of the container). */
export async function newRevision(c: Clients, app: AppRef, image = IMAGE_V2, podAnnotations?: Record<string, string>): Promise<void> {
  await c.apps.patchNamespacedDeployment({
    namespace: app.namespace, name: app.name,
    body: { spec: { template: { ...(podAnnotations && { metadata: { annotations: podAnnotations } }), spec: { containers: [{ name: 'app', image }] } } } },
  }, strategicMerge)
}
