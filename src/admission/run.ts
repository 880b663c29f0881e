// Runs the admission webhook: informer caches, certificate manager, HTTPS server, and the webhook
// configurations (rewritten when DeliveryPolicies change). The request path reads only the caches.
import {
  AdmissionregistrationV1Api, AppsV1Api, CoreV1Api, CustomObjectsApi, type KubeConfig, type V1Deployment, type V1Namespace,
} from '@kubernetes/client-node'
import type { Logger } from 'pino'
import { Registry } from 'prom-client'
import { createCertificateManager, type CertificateManager } from '../certs/manager.ts'
import { joinPemBundle } from '../certs/inspect.ts'
import { servingNames } from '../certs/names.ts'
import { DEFAULT_ROTATION_POLICY, type RotationPolicy } from '../certs/rotation.ts'
import { secretStore } from '../certs/store.ts'
import { webhookConfigurationSink } from '../certs/webhooks.ts'
import { isNotFound } from '../kube/errors.ts'
import { createInformer, type Informer } from '../kube/informer.ts'
import { MANAGED_BY_LABEL, MANAGED_BY_VALUE } from '../api/resolve.ts'
import { GROUP, VERSION, type AlertProvider, type DeliveryPolicy, type MetricTemplate } from '../api/types.ts'
import { deploymentHandler } from './deployments.ts'
import { guardHandler } from './guard.ts'
import { RESOURCE_KINDS, resourcesHandler } from './resources.ts'
import { CONFIGURATION_NAME, mutatingConfiguration, validatingConfiguration, type Endpoint, type RegistrationOptions } from './registration.ts'
import { ensureDefaultMetrics } from '../telemetry/controller-metrics.ts'
import { startTelemetryServer, type TelemetryServer } from '../telemetry/server.ts'
import { admissionMetrics, certificateMetrics } from './admission-metrics.ts'
import { buildAdmissionServer, VALIDATE_RESOURCES_PATH, type AdmissionServer } from './server.ts'
import { WARM_UP_ROUNDS, warmUpReviews } from './warm-up.ts'

export interface WebhookOptions {
  readonly kc: KubeConfig
  readonly logger: Logger
  readonly namespace: string
  readonly service: string
  readonly host: string
  readonly port: number
  readonly sluiceUsername: string
  /** Register by URL (local runs) instead of through the Service. */
  readonly url?: string
  readonly extraIps?: readonly string[]
  readonly extraDnsNames?: readonly string[]
  readonly rotation?: RotationPolicy
  readonly certCheckIntervalMs?: number
  readonly minIntervalMs?: number
  readonly register: boolean
  readonly namespaceLabels?: Readonly<Record<string, string>>
  readonly secretName?: string
  /** Where the admission and certificate metrics go (shared with the controller by `sluice serve`); a new registry when absent. */
  readonly registry?: Registry
  /** host:port of its own /metrics, /healthz, /readyz (plain HTTP, as the controller's); none when absent. */
  readonly telemetry?: { host: string; port: number }
}

export interface RunningWebhook {
  readonly server: AdmissionServer
  readonly certs: CertificateManager
  readonly port: number
  readonly telemetryPort?: number
  stop(): Promise<void>
}

type Listed<T> = { items: T[]; metadata?: { resourceVersion?: string } }

function customInformer<T extends { metadata?: { name?: string; namespace?: string } }>(kc: KubeConfig, plural: string, log: Logger): Informer<T> {
  const api = kc.makeApiClient(CustomObjectsApi)
  return createInformer<T & { metadata?: { name?: string; namespace?: string; resourceVersion?: string } }>(kc, {
    path: `/apis/${GROUP}/${VERSION}/${plural}`,
    list: async () => (await api.listClusterCustomObject({ group: GROUP, version: VERSION, plural })) as Listed<T>,
    onError: err => log.warn({ err: String(err), plural }, 'watch error; restarting'),
  })
}

// The guard's view of Deployments for scale requests (whose Scale object carries no labels): only those
// sluice generated, and only their names, so the cache stays small however many Deployments the cluster has.
function generatedDeployments(kc: KubeConfig, log: Logger): Informer<V1Deployment> {
  const apps = kc.makeApiClient(AppsV1Api)
  const labelSelector = `${MANAGED_BY_LABEL}=${MANAGED_BY_VALUE}`
  return createInformer<V1Deployment>(kc, {
    path: '/apis/apps/v1/deployments', labelSelector,
    list: () => apps.listDeploymentForAllNamespaces({ labelSelector }),
    transform: d => ({ metadata: { name: d.metadata?.name, namespace: d.metadata?.namespace, resourceVersion: d.metadata?.resourceVersion } }),
    onError: err => log.warn({ err: String(err) }, 'generated deployment watch error; restarting'),
  })
}

export async function runWebhook(o: WebhookOptions): Promise<RunningWebhook> {
  const log = o.logger
  const core = o.kc.makeApiClient(CoreV1Api)
  const admissionApi = o.kc.makeApiClient(AdmissionregistrationV1Api)
  const policies = customInformer<DeliveryPolicy>(o.kc, 'deliverypolicies', log)
  const templates = customInformer<MetricTemplate>(o.kc, 'metrictemplates', log)
  const alertProviders = customInformer<AlertProvider>(o.kc, 'alertproviders', log)
  const namespaces = createInformer<V1Namespace>(o.kc, {
    path: '/api/v1/namespaces', list: () => core.listNamespace(),
    onError: err => log.warn({ err: String(err) }, 'namespace watch error; restarting'),
  })
  const generated = generatedDeployments(o.kc, log)
  const informers = [policies, templates, alertProviders, namespaces, generated]
  // Moves on every change to a cache the Deployment lint reads: a remembered lint never outlives what it read.
  let lintInputs = 0
  for (const informer of [policies, templates, alertProviders, namespaces]) informer.on(() => { lintInputs++ })

  const rotation = o.rotation ?? DEFAULT_ROTATION_POLICY
  const certs = createCertificateManager({
    store: secretStore(core, { namespace: o.namespace, name: o.secretName ?? `${o.service}-webhook-certs` }),
    sink: o.register ? webhookConfigurationSink(admissionApi, { mutating: [CONFIGURATION_NAME], validating: [CONFIGURATION_NAME] }) : undefined,
    names: servingNames({ service: o.service, namespace: o.namespace, extraIpAddresses: o.extraIps ?? [], extraDnsNames: o.extraDnsNames ?? [] }),
    policy: rotation,
    logger: log,
    ...(o.certCheckIntervalMs !== undefined && { checkIntervalMs: o.certCheckIntervalMs }),
    onServingChange: serving => server.reloadCertificate(serving.certPem, serving.keyPem),
  })
  const set = await certs.sync()
  const registry = o.registry ?? new Registry()
  ensureDefaultMetrics(registry)
  certificateMetrics(registry, () => certs.current(), rotation)

  const refs = {
    metricTemplate: (ns: string, name: string) => templates.get(name, ns) !== undefined,
    alertProvider: (ns: string, name: string) => alertProviders.get(name, ns) !== undefined,
  }
  const minInterval = o.minIntervalMs !== undefined ? { minIntervalMs: o.minIntervalMs } : {}
  const server: AdmissionServer = buildAdmissionServer({
    tls: set.serving,
    logger: log,
    metrics: admissionMetrics(registry),
    mutateDeployments: deploymentHandler({
      sluiceUsername: o.sluiceUsername,
      policies: () => policies.list(),
      namespaceLabels: ns => namespaces.get(ns)?.metadata?.labels,
      refs,
      ...minInterval,
      cacheGeneration: () => lintInputs,
    }),
    validateGuard: guardHandler({ sluiceUsername: o.sluiceUsername, generatedDeployment: (ns, name) => generated.get(name, ns) !== undefined }),
    routes: [{
      path: VALIDATE_RESOURCES_PATH, type: 'validating',
      accepts: RESOURCE_KINDS.map(kind => ({ group: GROUP, kind })),
      handler: resourcesHandler({ sluiceUsername: o.sluiceUsername, refs, ...minInterval }),
    }],
  })

  // Until every cache has listed once, /readyz says no: an empty cache would admit what it should reject.
  await Promise.all(informers.map(i => i.start()))
  // Warmed before it listens: no real review can arrive while the samples are left out of the metrics and the log.
  const warm = await server.warmUp(warmUpReviews(), WARM_UP_ROUNDS)
  log.info({ reviews: warm.reviews, ms: Math.round(warm.ms), results: warm.results }, 'decision path warmed up')
  await server.listen({ host: o.host, port: o.port })
  const port = (server.server.address() as { port: number }).port
  server.setCachesSynced(true)
  const telemetry: TelemetryServer | undefined = o.telemetry && await startTelemetryServer({
    host: o.telemetry.host, port: o.telemetry.port, registry, logger: log, ready: () => true,
  })

  const registrar = keepRegistered(o, admissionApi, certs, policies, log)
  await registrar.registered()
  certs.start()
  log.info({ port, url: o.url }, 'sluice webhook serving')

  return {
    server, certs, port,
    ...(telemetry && { telemetryPort: telemetry.port }),
    async stop() {
      registrar.stop()
      certs.stop()
      for (const i of informers) i.stop()
      await server.close()
      await telemetry?.close()
    },
  }
}

/**
 * Writes the webhook configurations (endpoint, CA bundle, the policies' namespace selectors) now and again
 * whenever the policies change, debounced; a failure is logged and retried with the next change.
 */
function keepRegistered(
  o: WebhookOptions, api: AdmissionregistrationV1Api, certs: CertificateManager, policies: Informer<DeliveryPolicy>, log: Logger,
): { registered(): Promise<void>; stop(): void } {
  const endpoint: Endpoint = o.url ? { kind: 'url', base: o.url } : { kind: 'service', namespace: o.namespace, name: o.service }
  let registering: Promise<void> = Promise.resolve()
  const register = (): void => {
    if (!o.register) return
    registering = registering.then(async () => {
      const current = certs.current()
      const registration: RegistrationOptions = {
        endpoint, sluiceNamespace: o.namespace, sluiceUsername: o.sluiceUsername, policies: policies.list(),
        ...(current && { caBundle: Buffer.from(joinPemBundle(current.trusted)).toString('base64') }),
        ...(o.namespaceLabels && { namespaceLabels: o.namespaceLabels }),
      }
      await applyConfigurations(api, registration)
      log.info({ policies: registration.policies?.length ?? 0 }, 'webhook configurations registered')
    }).catch((err: unknown) => { log.error({ err: String(err) }, 'registering webhook configurations failed') })
  }
  register()
  let debounce: NodeJS.Timeout | undefined
  policies.on(() => {
    clearTimeout(debounce)
    debounce = setTimeout(register, 200)
  })
  return { registered: () => registering, stop: () => { clearTimeout(debounce) } }
}

// The configurations are created at install time (manifests/, or the local harness) by an administrator:
// sluice may only update its own, by name, so it can never create a webhook that intercepts anything else.
async function applyConfigurations(api: AdmissionregistrationV1Api, r: RegistrationOptions): Promise<void> {
  const missing = (kind: string) => (err: unknown): never => {
    if (isNotFound(err)) throw new Error(`${kind} ${CONFIGURATION_NAME} does not exist: install it first (kubectl apply -f manifests/webhooks.yaml)`)
    throw err
  }
  const mutating = mutatingConfiguration(r)
  const m = await api.readMutatingWebhookConfiguration({ name: CONFIGURATION_NAME }).catch(missing('MutatingWebhookConfiguration'))
  await api.replaceMutatingWebhookConfiguration({ name: CONFIGURATION_NAME, body: { ...mutating, metadata: { ...mutating.metadata, resourceVersion: m.metadata?.resourceVersion } } })
  const validating = validatingConfiguration(r)
  const v = await api.readValidatingWebhookConfiguration({ name: CONFIGURATION_NAME }).catch(missing('ValidatingWebhookConfiguration'))
  await api.replaceValidatingWebhookConfiguration({ name: CONFIGURATION_NAME, body: { ...validating, metadata: { ...validating.metadata, resourceVersion: v.metadata?.resourceVersion } } })
}
