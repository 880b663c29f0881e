// One builder per kind of object the tests need, each shaped as the API server returns it (valid per its
// schema, with the uid, generation and resourceVersion the server sets). A test states only what it is about,
// as overrides: objects merge key by key, lists replace, null removes a default (src/util/merge.ts).
// `manifest()` turns a stored object back into one a client may create.
import type { V1Container, V1DeploymentSpec, V1DeploymentStatus, V1IngressSpec, V1ObjectMeta, V2HorizontalPodAutoscalerSpec } from '@kubernetes/client-node'
import { deepMerge } from '../../src/util/merge.ts'
import type { Canary, MetricTemplate } from '../../src/api/types.ts'

/** A partial object: every key optional at every depth, null to drop a default; lists are given whole. */
export type Overrides<T> = T extends readonly unknown[] ? T
  : T extends object ? { [K in keyof T]?: Overrides<T[K]> | null }
  : T

export const IMAGE = 'ghcr.io/stefanprodan/podinfo:6.7.0'

function merged<T>(base: T, overrides: Overrides<T> | undefined): T {
  return deepMerge(base, overrides ?? {}) as T
}

type Stored = { apiVersion: string; kind: string; metadata?: object }

/**
 * An object of `kind` named by the overrides (else `fallback`) in their namespace (else `shop`), with what the
 * server sets on create: a uid (one per kind and name), generation and resourceVersion. `body` gives the rest
 * from the name, so that what refers to it by name follows an overridden one.
 */
function stored<T extends Stored>(apiVersion: T['apiVersion'], kind: T['kind'], fallback: string, overrides: Overrides<T>,
  body: (name: string) => Omit<T, keyof Stored>): T {
  const meta = (overrides as { metadata?: { name?: string | null; namespace?: string | null } | null }).metadata
  const name = meta?.name ?? fallback
  const metadata = { name, namespace: meta?.namespace ?? 'shop', uid: `${kind.toLowerCase()}-${name}`, generation: 1, resourceVersion: '1' }
  return merged({ apiVersion, kind, metadata, ...body(name) } as T, overrides)
}

/** A Canary `podinfo` in `shop` for the Deployment of the same name, port 9898, no provider (the default). */
export function canary(overrides: Overrides<Canary> = {}): Canary {
  return stored<Canary>('sluice.dev/v1beta1', 'Canary', 'podinfo', overrides, name => ({
    spec: { targetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name }, service: { port: 9898 } },
  }))
}

/** A MetricTemplate `errors` in `shop`: a query on the default provider (prometheus, at the default address). */
export function metricTemplate(overrides: Overrides<MetricTemplate> = {}): MetricTemplate {
  return stored<MetricTemplate>('sluice.dev/v1beta1', 'MetricTemplate', 'errors', overrides, () => ({ spec: { provider: {}, query: 'sum(errors)' } }))
}

// Type literals over the client's types rather than its classes, so that they also fit the routers' and the
// apply client's object types (which take any key).
export type Deployment = { apiVersion: 'apps/v1'; kind: 'Deployment'; metadata: V1ObjectMeta; spec: V1DeploymentSpec; status?: V1DeploymentStatus }
export type HorizontalPodAutoscaler = { apiVersion: 'autoscaling/v2'; kind: 'HorizontalPodAutoscaler'; metadata: V1ObjectMeta; spec: V2HorizontalPodAutoscalerSpec }
export type Ingress = { apiVersion: 'networking.k8s.io/v1'; kind: 'Ingress'; metadata: V1ObjectMeta; spec: V1IngressSpec }

/** The container `app` of podinfo, serving port 9898 (`http`): containers are a list, so an override of one is given whole. */
export function container(overrides: Overrides<V1Container> = {}): V1Container {
  return merged<V1Container>({ name: 'app', image: IMAGE, ports: [{ name: 'http', containerPort: 9898 }] }, overrides)
}

/**
 * A Deployment `podinfo` in `shop`: one replica (the server's default), selecting `app: <name>`, one
 * container `app` of podinfo serving port 9898.
 */
export function deployment(overrides: Overrides<Deployment> = {}): Deployment {
  return stored<Deployment>('apps/v1', 'Deployment', 'podinfo', overrides, name => ({
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [container()] } },
    },
  }))
}

/** An autoscaler `podinfo` in `shop` scaling the Deployment of the same name between 1 and 3 replicas. */
export function hpa(overrides: Overrides<HorizontalPodAutoscaler> = {}): HorizontalPodAutoscaler {
  return stored<HorizontalPodAutoscaler>('autoscaling/v2', 'HorizontalPodAutoscaler', 'podinfo', overrides, name => ({
    spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name }, minReplicas: 1, maxReplicas: 3 },
  }))
}

/**
 * The user's Ingress `podinfo` in `shop` for ingress-nginx: one rule for host app.example.com, path `/` to port
 * `port` of the Service `service` (the rules are a list: an override gives them whole).
 */
export function ingress(overrides: Overrides<Ingress> = {}, service = 'podinfo', port = 9898): Ingress {
  return stored<Ingress>('networking.k8s.io/v1', 'Ingress', 'podinfo', overrides, () => ({
    spec: {
      ingressClassName: 'nginx',
      rules: [{ host: 'app.example.com', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: service, port: { number: port } } } }] } }],
    },
  }))
}

// What the server sets and a create must leave out (a resourceVersion on create is an error).
const SERVER_SET = ['uid', 'generation', 'resourceVersion', 'creationTimestamp', 'managedFields'] as const

/** The object as a client writes it on create: without the fields the server sets, and without a status. */
export function manifest<T extends { metadata?: object; status?: unknown }>(o: T): T {
  const { status: _status, ...rest } = o
  const metadata = Object.fromEntries(Object.entries(o.metadata ?? {}).filter(([k]) => !(SERVER_SET as readonly string[]).includes(k)))
  return { ...rest, metadata } as T
}
