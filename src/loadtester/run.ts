// `sluice loadtester` as a function: checks the gate store, then serves. Tests and the local environment
// start it here; the CLI only reads flags into these options.
import type { AddressInfo } from 'node:net'
import type { KubeConfig } from '@kubernetes/client-node'
import { pino, type Logger } from 'pino'
import { configMapGateStore, DEFAULT_GATE_CONFIGMAP } from './configmap-store.ts'
import type { GateStore } from './gates.ts'
import { Jobs, type JobInfo } from './jobs.ts'
import { loadTesterMetrics } from './metrics.ts'
import { spawnProcess, type Spawner } from './process.ts'
import { buildLoadTesterServer } from './server.ts'

export const DEFAULT_PROGRAMS = ['hey'] as const

export interface LoadTesterOptions {
  /** For the gate ConfigMap; not needed when `store` is given. */
  readonly kc?: KubeConfig
  /** The gate ConfigMap's namespace (the load tester's own). */
  readonly namespace: string
  readonly configMapName?: string
  /** Another gate store instead of the ConfigMap (unit tests). */
  readonly store?: GateStore
  readonly host?: string
  /** 0 picks a free port; the one bound is in the result. */
  readonly port: number
  /** Programs allowed besides hey. */
  readonly allow?: readonly string[]
  readonly enableBash?: boolean
  readonly enableHelm?: boolean
  readonly enableKubectl?: boolean
  readonly maxJobs?: number
  readonly maxDurationMs?: number
  readonly maxOutputBytes?: number
  readonly idleTimeoutMs?: number
  /** Between SIGTERM and SIGKILL when a command is stopped. */
  readonly graceMs?: number
  readonly logger?: Logger
  readonly spawn?: Spawner
}

export interface RunningLoadTester {
  readonly port: number
  /** http://<host>:<port>, with 127.0.0.1 for a wildcard host. */
  readonly url: string
  /** The commands running now. */
  jobs(): JobInfo[]
  /** Stops every command, then the server. */
  stop(): Promise<void>
}

export const LOADTESTER_DEFAULTS = {
  maxJobs: 16,
  maxDurationMs: 3_600_000,
  maxOutputBytes: 1024 * 1024,
  idleTimeoutMs: 5 * 60_000,
  graceMs: 5_000,
} as const

function gateStore(o: LoadTesterOptions): GateStore & { ensure?: () => Promise<void> } {
  if (o.store) return o.store
  if (!o.kc) throw new Error('the load tester needs a kubeconfig for its gate ConfigMap')
  return configMapGateStore(o.kc, { namespace: o.namespace, name: o.configMapName ?? DEFAULT_GATE_CONFIGMAP })
}

export async function startLoadTester(o: LoadTesterOptions): Promise<RunningLoadTester> {
  const logger = o.logger ?? pino({ level: 'info' })
  const store = gateStore(o)
  await store.ensure?.()
  const metrics = loadTesterMetrics()
  const d = LOADTESTER_DEFAULTS
  const jobs = new Jobs({
    spawn: o.spawn ?? spawnProcess, logger, metrics,
    limits: {
      maxJobs: o.maxJobs ?? d.maxJobs, maxDurationMs: o.maxDurationMs ?? d.maxDurationMs,
      maxOutputBytes: o.maxOutputBytes ?? d.maxOutputBytes, idleTimeoutMs: o.idleTimeoutMs ?? d.idleTimeoutMs, graceMs: o.graceMs ?? d.graceMs,
    },
  })
  const policy = {
    allow: new Set([...DEFAULT_PROGRAMS, ...(o.allow ?? [])]),
    enableBash: o.enableBash === true, enableHelm: o.enableHelm === true, enableKubectl: o.enableKubectl === true,
  }
  const app = buildLoadTesterServer({ logger, jobs, store, policy, metrics })
  const host = o.host ?? '0.0.0.0'
  try {
    await app.listen({ host, port: o.port, listenTextResolver: address => `load tester listening at ${address}` })
  } catch (e) {
    await app.close()
    throw e
  }
  const { port } = app.server.address() as AddressInfo
  logger.info({ allow: [...policy.allow], enableBash: policy.enableBash, enableHelm: policy.enableHelm, enableKubectl: policy.enableKubectl }, 'load tester ready')
  return {
    port,
    url: `http://${host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host}:${port}`,
    jobs: () => jobs.list(),
    async stop() {
      await jobs.stopAll()
      await app.close()
    },
  }
}
