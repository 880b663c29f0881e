// Runs the controller: informer caches (warm on every replica), leader election, and on the leader a
// keyed work queue fed by watch events and by the per-canary scheduler. Keys are `c:<ns>/<name>` for a
// Canary's reconcile and `d:<ns>/<name>` for the Canary generated from an annotated Deployment.
import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node'
import { hostname } from 'node:os'
import type { Logger } from 'pino'
import type { Registry } from 'prom-client'
import { createDeployer } from '../deployer/deployer.ts'
import { describeError } from '../kube/errors.ts'
import { applyClient } from '../kube/apply.ts'
import { createHooks } from './hook-adapter.ts'
import { createEventRecorder } from '../telemetry/events.ts'
import { createControllerMetrics } from '../telemetry/controller-metrics.ts'
import { startTelemetryServer } from '../telemetry/server.ts'
import { createCaches } from './caches.ts'
import { createLeaderElector } from './leader.ts'
import { createWorkQueue, type WorkQueue } from './queue.ts'
import { createReconciler, type Reconciler } from './reconcile.ts'
import { createGenerator } from './generator.ts'
import { allKeys, splitKey, wireTriggers } from './triggers.ts'
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
  /** Whether each step is also written as a Kubernetes Event (`--step-events`, default on). */
  readonly stepEvents: boolean
  readonly concurrency: number
  readonly leaseName: string
  readonly leaseDurationMs: number
  readonly identity?: string
  /** host:port of /metrics, /healthz, /readyz; undefined: no telemetry server. */
  readonly telemetry?: { host: string; port: number }
  /** Where the metrics are registered (shared with the webhook by `sluice serve`); a new registry when absent. */
  readonly registry?: Registry
  /** Called when leadership is lost; the default exits the process at once. */
  readonly onLostLeadership?: () => void
}

export interface RunningController {
  readonly telemetryPort?: number
  isLeader(): boolean
  stop(): Promise<void>
}

export async function runController(o: ControllerOptions): Promise<RunningController> {
  const log = o.logger
  const caches = createCaches(o.kc, log, o.watchNamespace)
  const kube = applyClient(o.kc)
  const metrics = createControllerMetrics(o.registry)
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
    stepEvents: o.stepEvents,
    now: () => new Date(),
    schedule: (key, at) => queue?.add(`c:${key}`, at),
  })

  const generate = createGenerator({ caches, kube, recorder, log, enqueue: key => queue?.add(key) })

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

  wireTriggers(caches, (key, lane) => { if (lane === 'routine') queue?.addRoutine(key); else queue?.add(key) }, o.watchNamespace)

  await caches.start()
  log.info({ namespace: o.watchNamespace ?? '(all)' }, 'controller caches synced')

  const startWork = (): void => {
    queue = createWorkQueue({
      concurrency: o.concurrency,
      work,
      onError: (key, err) => { log.warn({ key, err: describeError(err) }, 'reconcile failed; retrying with backoff') },
      onDepth: n => { metrics.setQueueDepth(n) },
      onWait: (lane, seconds) => { metrics.observeQueueWait(lane, seconds) },
    })
    for (const key of allKeys(caches)) queue.add(key)
    metrics.setLeading(true)
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
      metrics.setLeading(false)
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
