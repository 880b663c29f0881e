// Runs the controller: informer caches (warm on every replica), leader election, and on the leader a
// keyed work queue fed by watch events and by the per-canary scheduler. Keys are `c:<ns>/<name>` for a
// Canary's reconcile and `d:<ns>/<name>` for the Canary generated from an annotated Deployment.
import { CoreV1Api, type KubeConfig, type V1Deployment } from '@kubernetes/client-node'
import { hostname } from 'node:os'
import type { Logger } from 'pino'
import { createDeployer } from '../deployer/deployer.ts'
import { configKey, configRefs } from '../deployer/configs.ts'
import { describeError, readApiError } from '../kube/errors.ts'
import { applyClient } from '../kube/apply.ts'
import type { KubeObject } from '../kube/apply.ts'
import { MANAGED_BY_LABEL, MANAGED_BY_VALUE } from '../api/resolve.ts'
import type { Canary } from '../api/types.ts'
import { createHooks } from './hook-adapter.ts'
import { createEventRecorder } from '../telemetry/events.ts'
import { createControllerMetrics } from '../telemetry/controller-metrics.ts'
import { startTelemetryServer } from '../telemetry/server.ts'
import { createCaches } from './caches.ts'
import { generation } from './generate.ts'
import { createLeaderElector } from './leader.ts'
import { createWorkQueue, type WorkQueue } from './queue.ts'
import { createReconciler, type Reconciler } from './reconcile.ts'
import type { Recorder } from './ports.ts'

export interface ControllerOptions {
  readonly kc: KubeConfig
  readonly logger: Logger
  /** sluice's namespace: the Lease lives there. */
  readonly namespace: string
  /** Watch only this namespace (default: all). */
  readonly watchNamespace?: string
  readonly metricsServer?: string
  readonly minIntervalMs: number
  readonly concurrency: number
  readonly leaseName: string
  readonly leaseDurationMs: number
  readonly identity?: string
  /** host:port of /metrics, /healthz, /readyz; undefined: no telemetry server. */
  readonly telemetry?: { host: string; port: number }
  /** Called when leadership is lost; the default exits the process at once. */
  readonly onLostLeadership?: () => void
}

export interface RunningController {
  readonly telemetryPort?: number
  isLeader(): boolean
  stop(): Promise<void>
}

interface Triggers {
  readonly generation?: number
  readonly annotations: string
  readonly deleting: boolean
  readonly finalizers: string
}

// A Canary's own status writes come back as watch events; only changes a user (or GC) makes need a reconcile.
function triggersOf(c: Canary): Triggers {
  return {
    ...(c.metadata.generation !== undefined && { generation: c.metadata.generation }),
    annotations: JSON.stringify(c.metadata.annotations ?? {}),
    deleting: c.metadata.deletionTimestamp !== undefined,
    finalizers: JSON.stringify(c.metadata.finalizers ?? []),
  }
}

function sameTriggers(a: Triggers | undefined, b: Triggers): boolean {
  return a !== undefined && a.generation === b.generation && a.annotations === b.annotations && a.deleting === b.deleting && a.finalizers === b.finalizers
}

const keyOf = (kind: 'c' | 'd', namespace: string | undefined, name: string | undefined): string => `${kind}:${namespace ?? ''}/${name ?? ''}`

function splitKey(key: string): { kind: string; namespace: string; name: string } {
  const [kind, rest] = [key.slice(0, 1), key.slice(2)]
  const slash = rest.indexOf('/')
  return { kind, namespace: rest.slice(0, slash), name: rest.slice(slash + 1) }
}

const isGeneratedObject = (d: V1Deployment): boolean => d.metadata?.labels?.[MANAGED_BY_LABEL] === MANAGED_BY_VALUE

export async function runController(o: ControllerOptions): Promise<RunningController> {
  const log = o.logger
  const caches = createCaches(o.kc, log, o.watchNamespace)
  const kube = applyClient(o.kc)
  const metrics = createControllerMetrics()
  const events = createEventRecorder({ kc: o.kc, logger: log })
  const recorder: Recorder = events
  const core = o.kc.makeApiClient(CoreV1Api)
  const hooks = createHooks({ caches, core, logger: log })
  let queue: WorkQueue | undefined

  const reconciler: Reconciler = createReconciler({
    kc: o.kc, caches, kube, deployer: createDeployer(o.kc, kube), recorder, telemetry: metrics, hooks, log,
    analysis: {
      getSecret: (namespace, name) => hooks.secretData(namespace, name),
      ...(o.metricsServer !== undefined && { defaultMetricsServer: o.metricsServer }),
    },
    minIntervalMs: o.minIntervalMs,
    now: () => new Date(),
    schedule: (key, at) => queue?.add(`c:${key}`, at),
  })

  async function generate(namespace: string, name: string): Promise<void> {
    const d = caches.deployments.get(name, namespace)
    if (!d || isGeneratedObject(d)) return
    const context = { policies: caches.policies.list(), namespaceLabels: caches.namespaces.get(namespace)?.metadata?.labels ?? {} }
    const g = generation(d, caches.canaries.get(name, namespace), context)
    const deployment = { apiVersion: 'apps/v1', kind: 'Deployment', name, namespace, ...(d.metadata?.uid && { uid: d.metadata.uid }) }
    if (g.kind === 'apply') {
      try {
        await kube.apply(g.canary as unknown as KubeObject)
      } catch (e) {
        // Refused by the API (the webhook validated with the policies of that moment): say so; retrying will not help.
        await recorder.record(deployment, 'Warning', 'CanaryRejected', `the Canary generated from the sluice.dev annotations was refused: ${describeError(e)}`)
        if (readApiError(e)?.code === 422) return
        throw e
      }
      log.info({ canary: `${namespace}/${name}` }, 'Canary generated from the Deployment annotations')
    } else if (g.kind === 'opted-out') {
      queue?.add(keyOf('c', namespace, name))
    } else if (g.kind === 'conflict') {
      await recorder.record(deployment, 'Warning', 'CanaryConflict', g.message)
    }
  }

  async function work(key: string): Promise<void> {
    const { kind, namespace, name } = splitKey(key)
    const started = process.hrtime.bigint()
    let ok = false
    try {
      if (kind === 'd') await generate(namespace, name)
      else await reconciler.reconcile(namespace, name)
      ok = true
    } finally {
      metrics.observeReconcile(Number(process.hrtime.bigint() - started) / 1e9, ok)
    }
  }

  const enqueueCanaries = (namespace: string | undefined, match: (canary: Canary) => boolean): void => {
    for (const c of caches.canaries.list(namespace).filter(match)) queue?.add(keyOf('c', c.metadata.namespace, c.metadata.name))
  }

  const seen = new Map<string, Triggers>()
  caches.canaries.on((c, event) => {
    const key = keyOf('c', c.metadata.namespace, c.metadata.name)
    const triggers = triggersOf(c)
    if (event === 'delete') seen.delete(key)
    else if (event === 'update' && sameTriggers(seen.get(key), triggers)) return
    else seen.set(key, triggers)
    queue?.add(key)
  })
  caches.deployments.on((d, event) => {
    const namespace = d.metadata?.namespace
    const name = d.metadata?.name ?? ''
    if (!isGeneratedObject(d) && event !== 'delete') queue?.add(keyOf('d', namespace, name))
    // Readiness of either side moves a waiting Canary on at once.
    enqueueCanaries(namespace, c => c.spec.targetRef.name === name || `${c.spec.targetRef.name}-primary` === name)
  })
  const onConfig = (kind: 'configmap' | 'secret') => (obj: { metadata?: { namespace?: string; name?: string } }): void => {
    const key = configKey({ kind, name: obj.metadata?.name ?? '' })
    const namespace = obj.metadata?.namespace
    enqueueCanaries(namespace, c => {
      const target = caches.deployments.get(c.spec.targetRef.name, namespace)
      return configRefs(target?.spec?.template.spec).some(r => configKey(r) === key)
    })
  }
  caches.configMaps.on(onConfig('configmap'))
  caches.secrets.on(onConfig('secret'))
  caches.autoscalers.on(h => { enqueueCanaries(h.metadata?.namespace, c => c.spec.autoscalerRef?.name === h.metadata?.name) })
  caches.policies.on(() => { for (const d of caches.deployments.list(o.watchNamespace)) queue?.add(keyOf('d', d.metadata?.namespace, d.metadata?.name)) })

  await caches.start()
  log.info({ namespace: o.watchNamespace ?? '(all)' }, 'controller caches synced')

  const startWork = (): void => {
    queue = createWorkQueue({
      concurrency: o.concurrency,
      work,
      onError: (key, err) => { log.warn({ key, err: describeError(err) }, 'reconcile failed; retrying with backoff') },
      onDepth: n => { metrics.setQueueDepth(n) },
    })
    for (const d of caches.deployments.list()) if (!isGeneratedObject(d)) queue.add(keyOf('d', d.metadata?.namespace, d.metadata?.name))
    for (const c of caches.canaries.list()) queue.add(keyOf('c', c.metadata.namespace, c.metadata.name))
    log.info('leading: reconciling')
  }

  const identity = o.identity ?? `${hostname()}-${process.pid}`
  const elector = createLeaderElector({
    kc: o.kc, namespace: o.namespace, name: o.leaseName, identity, logger: log,
    leaseDurationMs: o.leaseDurationMs,
    renewDeadlineMs: Math.floor(o.leaseDurationMs * 2 / 3),
    retryPeriodMs: Math.max(200, Math.floor(o.leaseDurationMs / 7)),
    onStartedLeading: startWork,
    onStoppedLeading: () => {
      // Another replica may already act: stop at once, do not finish the queue.
      log.error({ identity }, 'leadership lost; stopping')
      void queue?.stop()
      queue = undefined
      ;(o.onLostLeadership ?? (() => process.exit(1)))()
    },
  })

  const server = o.telemetry && await startTelemetryServer({
    host: o.telemetry.host, port: o.telemetry.port, registry: metrics.registry, logger: log,
    ready: () => caches.deployments.synced && caches.canaries.synced,
  })
  elector.start()
  log.info({ identity, lease: `${o.namespace}/${o.leaseName}` }, 'controller started; waiting for the lease')

  return {
    ...(server && { telemetryPort: server.port }),
    isLeader: () => elector.isLeader(),
    async stop() {
      await queue?.stop()
      await elector.stop()
      caches.stop()
      await server?.close()
    },
  }
}
