// The end-to-end environment of one test file: the traffic simulator and a real Prometheus scraping it
// every second (shared by the file's tests), and per test a namespace and its own `sluice controller`
// process, run as sluice's ServiceAccount and scoped to that namespace with a Lease of its own.
import { join } from 'node:path'
import { AppsV1Api, CoreV1Api, CustomObjectsApi, DiscoveryV1Api, Watch, type KubernetesObject, type V1Deployment } from '@kubernetes/client-node'
import type { Canary } from '../../src/api/types.ts'
import { startPrometheus, type RunningPrometheus, type ScrapeConfig } from '../cluster/prometheus.ts'
import { freePort, WaitAborted } from '../cluster/process.ts'
import { kubeConfig, namespace, sluiceKubeconfigPath, type TestLike } from '../helpers/kube.ts'
import { tetheredSluice } from '../helpers/tethered.ts'
import { until } from '../helpers/wait.ts'
import { startSimulator } from '../simulator/simulator.ts'

export const admin = kubeConfig()
export const apps = admin.makeApiClient(AppsV1Api)
export const core = admin.makeApiClient(CoreV1Api)
export const custom = admin.makeApiClient(CustomObjectsApi)
export const discovery = admin.makeApiClient(DiscoveryV1Api)

export interface Shared {
  readonly prometheus: RunningPrometheus
  readonly simulatorUrl: string
  stop(): Promise<void>
}

/** Simulator and Prometheus for a test file (scraping `extraScrapes` too, e.g. sluice's own metrics); stop them in t.teardown. */
export async function sharedEnvironment(extraScrapes: readonly ScrapeConfig[] = []): Promise<Shared> {
  const sim = await startSimulator({ kubeConfig: admin })
  const prometheus = await startPrometheus([{ job_name: 'simulator', static_configs: [{ targets: [new URL(sim.url).host] }] }, ...extraScrapes])
  return {
    prometheus,
    simulatorUrl: sim.url,
    async stop() {
      await prometheus.stop()
      await sim.stop()
    },
  }
}

export interface ControllerProcess {
  readonly log: string
  readonly telemetryPort: number
  /** SIGKILL of the controller: no lease release, no cleanup, as a crash. */
  kill(): Promise<void>
  /** Starts it again (after kill). */
  restart(): Promise<void>
}

export interface ControllerOptions {
  readonly metricsServer?: string
  readonly extraArgs?: readonly string[]
  /** Extra environment of the controller process, e.g. Node's proxy variables. */
  readonly env?: Readonly<Record<string, string>>
  /** The port of its /metrics, chosen before (for a Prometheus started before the controller); a free one when absent. */
  readonly telemetryPort?: number
}

/** A `sluice controller` for namespace `ns`, stopped (SIGTERM) when the test ends. */
export async function startController(t: TestLike, ns: string, o: ControllerOptions = {}): Promise<ControllerProcess> {
  const log = join(process.env.SLUICE_CLUSTER_DIR ?? '/tmp', 'logs', `controller-${ns}.log`)
  const telemetryPort = o.telemetryPort ?? await freePort()
  // client-go's lease of 15 s: with a shorter one a renewal held up on a loaded machine loses the lease, and
  // the controller then stops, as it must, in the middle of the test's release.
  const args = [
    'controller', '--kubeconfig', sluiceKubeconfigPath(), '--watch-namespace', ns,
    '--lease-name', `sluice-${ns}`, '--lease-duration', '15s', '--min-interval', '1s',
    '--telemetry-listen', `127.0.0.1:${telemetryPort}`,
    ...(o.metricsServer ? ['--metrics-server', o.metricsServer] : []),
    ...(o.extraArgs ?? []),
  ]
  const proc = tetheredSluice(args, log, { SLUICE_LOG_LEVEL: 'debug', ...o.env })
  const start = async (): Promise<void> => { await proc.start() }
  await start()
  t.teardown(() => proc.stop('SIGTERM'))
  return { log, telemetryPort, kill: () => proc.stop('SIGUSR2'), restart: start }
}

/** A namespace with its own controller. */
export async function testNamespace(t: TestLike, o: ControllerOptions = {}): Promise<{ ns: string; controller: ControllerProcess }> {
  const ns = await namespace(t)
  return { ns, controller: await startController(t, ns, o) }
}

export async function canary(ns: string, name: string): Promise<Canary | undefined> {
  try {
    return await custom.getNamespacedCustomObject({ group: 'sluice.dev', version: 'v1beta1', namespace: ns, plural: 'canaries', name }) as Canary
  } catch {
    return undefined
  }
}

export async function deployment(ns: string, name: string): Promise<V1Deployment | undefined> {
  try {
    return await apps.readNamespacedDeployment({ name, namespace: ns })
  } catch {
    return undefined
  }
}

/**
 * Waits for the Canary to reach `phase`; fails at once if it reaches `never` instead. A Canary still in
 * `never` from its last run (the new revision not seen yet) is not a failure until it has left it.
 */
export async function phase(ns: string, name: string, wanted: string, timeoutMs = 120_000, never?: string): Promise<Canary> {
  let left = false
  return await until(() => canary(ns, name), c => {
    const now = c?.status?.phase
    if (never !== undefined && now === never && left) throw new WaitAborted(`Canary ${ns}/${name} reached ${never} while waiting for ${wanted}: ${JSON.stringify(c?.status)}`)
    if (now !== never) left = true
    return now === wanted
  }, `Canary ${ns}/${name} in phase ${wanted}`, timeoutMs) as Canary
}

/** The Events of an object, oldest first, as "Type Reason: message". */
export async function eventsOf(ns: string, kind: string, name: string): Promise<string[]> {
  const list = await core.listNamespacedEvent({ namespace: ns, fieldSelector: `involvedObject.kind=${kind},involvedObject.name=${name}` })
  return list.items
    .sort((a, b) => String(a.lastTimestamp ?? a.eventTime ?? '').localeCompare(String(b.lastTimestamp ?? b.eventTime ?? '')))
    .map(e => `${e.type} ${e.reason}: ${e.message}`)
}

/** Ready endpoints of a Service, from its EndpointSlices. */
export async function readyEndpoints(ns: string, service: string): Promise<number> {
  const slices = await discovery.listNamespacedEndpointSlice({ namespace: ns, labelSelector: `kubernetes.io/service-name=${service}` })
  return slices.items.reduce((n, s) => n + (s.endpoints ?? []).filter(e => e.conditions?.ready === true).length, 0)
}

/**
 * Like recorder(), fed by a watch on one object: every stored version is seen, however briefly it lasted,
 * which polling on a loaded machine cannot promise. `collection` is the API path of its kind in its namespace.
 * `times[i]` is when `values[i]` was first seen (ms since the epoch), for assertions on a schedule.
 */
export async function watchRecorder<T>(collection: string, name: string, read: (obj: KubernetesObject) => T): Promise<{ values: T[]; times: number[]; stop(): Promise<T[]> }> {
  const values: T[] = []
  const times: number[] = []
  const watch = new Watch(kubeConfig())
  let failure: Error | undefined
  let stopped = false
  let resourceVersion: string | undefined
  let request: AbortController | undefined
  // The client ends a watch after 30 s without data (a stopped controller writes nothing): it is opened
  // again from the last version seen, so no version is missed; only a real failure spoils the record.
  const open = async (): Promise<void> => {
    const query: Record<string, string> = { fieldSelector: `metadata.name=${name}` }
    if (resourceVersion !== undefined) query.resourceVersion = resourceVersion
    request = await watch.watch(collection, query, (phase: string, obj: KubernetesObject & { code?: number; message?: string }) => {
      if (phase === 'ERROR') { failure ??= new Error(`watch error ${obj.code}: ${obj.message}`); return }
      if (obj.metadata?.resourceVersion) resourceVersion = obj.metadata.resourceVersion
      if (phase !== 'ADDED' && phase !== 'MODIFIED') return
      const v = read(obj)
      if (values.length === 0 || JSON.stringify(values.at(-1)) !== JSON.stringify(v)) {
        values.push(v)
        times.push(Date.now())
      }
    }, (err: unknown) => {
      if (stopped || failure) return
      const inactive = err === null || err === undefined || (err instanceof Error && err.name === 'TimeoutError')
      if (inactive) void open().catch((e: unknown) => { failure ??= e instanceof Error ? e : new Error(String(e)) })
      else failure = err instanceof Error ? err : new Error(`the watch ended: ${JSON.stringify(err)}`)
    })
    if (stopped) request.abort()
  }
  await open()
  return {
    values,
    times,
    async stop() {
      stopped = true
      request?.abort()
      // A watch that failed may have missed versions: the record would not be complete.
      if (failure) throw new Error(`the watch on ${collection}/${name} failed: ${failure.message}`)
      return values
    },
  }
}

/**
 * Polls `read` every `everyMs` until stopped, keeping the distinct consecutive values: the sequence of
 * weights, selectors or endpoint counts a test asserts on.
 */
export function recorder<T>(read: () => Promise<T>, everyMs = 100): { values: T[]; stop(): Promise<T[]> } {
  const values: T[] = []
  let running = true
  const loop = (async () => {
    while (running) {
      try {
        const v = await read()
        if (values.length === 0 || JSON.stringify(values.at(-1)) !== JSON.stringify(v)) values.push(v)
      } catch { /* the object may not exist yet */ }
      await new Promise(r => setTimeout(r, everyMs))
    }
  })()
  return { values, async stop() { running = false; await loop; return values } }
}

/** A recorder() that can be stopped only once it has sampled what the cluster shows now. */
export interface Sampler<T> {
  /** Waits for a sample taken after this call, then stops; returns every distinct value seen. */
  settle(): Promise<T[]>
}

export function sampler<T>(read: () => Promise<T>, everyMs = 50): Sampler<T> {
  let reads = 0
  const r = recorder(async () => {
    const v = await read()
    reads++
    return v
  }, everyMs)
  return {
    async settle() {
      // Two completed reads: the second began after this call, so the world as it is now is in the record.
      const mark = reads
      await until(() => Promise.resolve(reads), n => n >= mark + 2, 'a fresh sample', 30_000)
      return r.stop()
    },
  }
}
