// The controller's informer caches. Deployments, Canaries and autoscalers are kept whole (managedFields
// dropped); ConfigMaps and Secrets only as metadata plus a hash of their data, so Secret contents never sit
// in memory. Services and Ingresses are the routers' reads (the apex, the user's and the canary Ingress): from
// memory, not GETs, on every reconcile (issue 14). `namespace` scopes the namespaced caches to one namespace (tests, single-tenant installs).
import {
  AppsV1Api, AutoscalingV2Api, CoreV1Api, CustomObjectsApi, NetworkingV1Api, type KubeConfig, type KubernetesObject, type V1ConfigMap,
  type V1Deployment, type V1Ingress, type V1Namespace, type V1Secret, type V1Service, type V2HorizontalPodAutoscaler,
} from '@kubernetes/client-node'
import type { Logger } from 'pino'
import { createInformer, type Informer, type InformerOptions } from '../kube/informer.ts'
import { normalizeCanary } from '../api/compat.ts'
import { configHash } from '../kube/revision.ts'
import { GROUP, VERSION, type AlertProvider, type Canary, type DeliveryPolicy, type MetricTemplate } from '../api/types.ts'

/** A ConfigMap or Secret as cached: its metadata and the hash of its data (configHash). */
export interface ConfigSummary extends KubernetesObject {
  readonly hash: string
}

export interface Caches {
  readonly deployments: Informer<V1Deployment>
  readonly canaries: Informer<Canary>
  readonly configMaps: Informer<ConfigSummary>
  readonly secrets: Informer<ConfigSummary>
  readonly autoscalers: Informer<V2HorizontalPodAutoscaler>
  readonly policies: Informer<DeliveryPolicy>
  readonly namespaces: Informer<V1Namespace>
  readonly templates: Informer<MetricTemplate>
  readonly alertProviders: Informer<AlertProvider>
  readonly services: Informer<V1Service>
  readonly ingresses: Informer<V1Ingress>
  start(): Promise<void>
  stop(): void
}

type Listed<T> = { items: T[]; metadata?: { resourceVersion?: string } }

// Custom resources are typed by src/api (timestamps as strings), client-node's objects by its models.
function customResources<T>(kc: KubeConfig, opts: InformerOptions<KubernetesObject>): Informer<T> {
  return createInformer<KubernetesObject>(kc, opts) as unknown as Informer<T>
}

function slim<T extends KubernetesObject>(obj: T): T {
  if (obj.metadata?.managedFields) delete obj.metadata.managedFields
  const last = 'kubectl.kubernetes.io/last-applied-configuration'
  if (obj.metadata?.annotations?.[last] !== undefined) delete obj.metadata.annotations[last]
  return obj
}

function summarize(obj: V1ConfigMap | V1Secret): ConfigSummary {
  const data = { data: obj.data ?? {}, binaryData: (obj as V1ConfigMap).binaryData ?? {} }
  const meta = obj.metadata ?? {}
  return {
    apiVersion: obj.apiVersion, kind: obj.kind,
    metadata: {
      name: meta.name, namespace: meta.namespace, resourceVersion: meta.resourceVersion,
      ...(meta.annotations && { annotations: meta.annotations }), ...(meta.labels && { labels: meta.labels }),
      ...(meta.ownerReferences && { ownerReferences: meta.ownerReferences }),
    },
    hash: configHash(data),
  }
}

export function createCaches(kc: KubeConfig, log: Logger, namespace?: string): Caches {
  const apps = kc.makeApiClient(AppsV1Api)
  const core = kc.makeApiClient(CoreV1Api)
  const autoscaling = kc.makeApiClient(AutoscalingV2Api)
  const custom = kc.makeApiClient(CustomObjectsApi)
  const networking = kc.makeApiClient(NetworkingV1Api)
  const onError = (what: string) => (err: unknown): void => { log.warn({ err: String(err), what }, 'watch error; restarting') }
  const scoped = (group: string, plural: string): string =>
    `${group === '' ? '/api/v1' : `/apis/${group}`}${namespace ? `/namespaces/${namespace}` : ''}/${plural}`

  const deployments = createInformer<V1Deployment>(kc, {
    path: scoped('apps/v1', 'deployments'), transform: slim, onError: onError('deployments'),
    list: () => namespace ? apps.listNamespacedDeployment({ namespace }) : apps.listDeploymentForAllNamespaces(),
  })
  const canaries = customResources<Canary>(kc, {
    // Flagger's old canaryAnalysis becomes analysis here (and in CanaryClient.read, the controller's fresh reads).
    path: scoped(`${GROUP}/${VERSION}`, 'canaries'), transform: c => normalizeCanary(slim(c)), onError: onError('canaries'),
    list: async () => (namespace
      ? await custom.listNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: 'canaries' })
      : await custom.listClusterCustomObject({ group: GROUP, version: VERSION, plural: 'canaries' })) as Listed<KubernetesObject>,
  })
  const configMaps = createInformer<ConfigSummary>(kc, {
    path: scoped('', 'configmaps'), transform: o => summarize(o), onError: onError('configmaps'),
    list: async () => (namespace ? await core.listNamespacedConfigMap({ namespace }) : await core.listConfigMapForAllNamespaces()) as unknown as Listed<ConfigSummary>,
  })
  const secrets = createInformer<ConfigSummary>(kc, {
    path: scoped('', 'secrets'), transform: o => summarize(o), onError: onError('secrets'),
    list: async () => (namespace ? await core.listNamespacedSecret({ namespace }) : await core.listSecretForAllNamespaces()) as unknown as Listed<ConfigSummary>,
  })
  const autoscalers = createInformer<V2HorizontalPodAutoscaler>(kc, {
    path: scoped('autoscaling/v2', 'horizontalpodautoscalers'), transform: slim, onError: onError('horizontalpodautoscalers'),
    list: () => namespace ? autoscaling.listNamespacedHorizontalPodAutoscaler({ namespace }) : autoscaling.listHorizontalPodAutoscalerForAllNamespaces(),
  })
  const templates = customResources<MetricTemplate>(kc, {
    path: `/apis/${GROUP}/${VERSION}/metrictemplates`, transform: slim, onError: onError('metrictemplates'),
    // Templates may live in another namespace than the canary (templateRef.namespace): always cluster-wide.
    list: async () => (await custom.listClusterCustomObject({ group: GROUP, version: VERSION, plural: 'metrictemplates' })) as Listed<KubernetesObject>,
  })
  const alertProviders = customResources<AlertProvider>(kc, {
    path: `/apis/${GROUP}/${VERSION}/alertproviders`, transform: slim, onError: onError('alertproviders'),
    list: async () => (await custom.listClusterCustomObject({ group: GROUP, version: VERSION, plural: 'alertproviders' })) as Listed<KubernetesObject>,
  })
  const policies = customResources<DeliveryPolicy>(kc, {
    path: `/apis/${GROUP}/${VERSION}/deliverypolicies`, transform: slim, onError: onError('deliverypolicies'),
    list: async () => (await custom.listClusterCustomObject({ group: GROUP, version: VERSION, plural: 'deliverypolicies' })) as Listed<KubernetesObject>,
  })
  const namespaces = createInformer<V1Namespace>(kc, {
    path: '/api/v1/namespaces', transform: slim, onError: onError('namespaces'), list: () => core.listNamespace(),
  })
  const services = createInformer<V1Service>(kc, {
    path: scoped('', 'services'), transform: slim, onError: onError('services'),
    list: () => namespace ? core.listNamespacedService({ namespace }) : core.listServiceForAllNamespaces(),
  })
  const ingresses = createInformer<V1Ingress>(kc, {
    path: scoped('networking.k8s.io/v1', 'ingresses'), transform: slim, onError: onError('ingresses'),
    list: () => namespace ? networking.listNamespacedIngress({ namespace }) : networking.listIngressForAllNamespaces(),
  })
  const all = [deployments, canaries, configMaps, secrets, autoscalers, templates, alertProviders, policies, namespaces, services, ingresses]
  return {
    deployments, canaries, configMaps, secrets, autoscalers, policies, namespaces, templates, alertProviders, services, ingresses,
    async start() { await Promise.all(all.map(i => i.start())) },
    stop() { for (const i of all) i.stop() },
  }
}
