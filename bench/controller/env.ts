// The benchmark's environment for one size: a fresh local cluster with sluice installed and its webhook
// running (as in the integration run, default 10 s interval floor), the traffic simulator and a Prometheus
// scraping it, and the controller under test: `node bin/sluice.ts controller` as sluice's ServiceAccount.
// Each process runs on its own, so that /proc tells their CPU and memory apart.
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { closeSync, openSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { createInterface } from 'node:readline'
import { KubeConfig } from '@kubernetes/client-node'
import { clusterDown, clusterUp, readState } from '../../test/cluster/cluster.ts'
import type { ClusterState } from '../../test/cluster/cluster.ts'
import { installSluice } from '../../test/cluster/install-sluice.ts'
import { startPrometheus } from '../../test/cluster/prometheus.ts'
import { freePort, httpsGet, waitFor } from '../../test/cluster/process.ts'
import { precreateConfigurations, startSluiceWebhook } from '../../test/cluster/sluice-webhook.ts'
import type { OnCleanup } from '../children.ts'
import { findPid } from './procs.ts'

const root = resolve(import.meta.dirname, '../..')

/** The cluster and the traffic with no controller yet: what every controller under test is measured in. */
export interface Base {
  readonly state: ClusterState
  readonly admin: KubeConfig
  readonly prometheusUrl: string
  /** Every process of the run by name, for CPU accounting. */
  readonly pids: Readonly<Record<string, number | undefined>>
}

export interface Env extends Base {
  readonly controller: { readonly pid: number; readonly telemetryPort: number; readonly log: string; exited(): boolean }
}

export interface BaseOptions {
  readonly dir: string
  readonly binDir: string
  readonly scrapeInterval: string
  readonly log: (m: string) => void
  readonly onCleanup: OnCleanup
}

export interface EnvOptions extends BaseOptions {
  readonly controllerArgs: readonly string[]
  /** Another checkout's bin/sluice.ts, to compare a change against this tree (default: this tree's). */
  readonly controllerBin?: string
  /** Node flags for the controller process, e.g. --cpu-prof. */
  readonly controllerNodeArgs: readonly string[]
  /** `controller` (the webhook in a process of its own) or `serve` (webhook and controller in one process). */
  readonly command: 'controller' | 'serve'
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves once the child is gone. */
export async function stopChild(child: ChildProcess, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const gone = new Promise<void>(res => child.once('exit', () => res()))
  child.kill('SIGTERM')
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs)
  await gone
  clearTimeout(timer)
}

export function logFile(state: ClusterState, name: string): { path: string; fd: number } {
  const path = join(state.dir, 'logs', `${name}.log`)
  return { path, fd: openSync(path, 'a') }
}

async function startSimulator(state: ClusterState, o: BaseOptions): Promise<{ url: string; pid: number }> {
  const { fd } = logFile(state, 'simulator')
  const child = spawn(process.execPath, [join(root, 'test/simulator/cli.ts'), '--kubeconfig', state.kubeconfig, '--listen', '127.0.0.1:0'],
    { stdio: ['ignore', 'pipe', fd], env: { ...process.env, NO_PROXY: '127.0.0.1,localhost' } })
  closeSync(fd)
  o.onCleanup('simulator', () => stopChild(child, 5000))
  const lines = createInterface({ input: child.stdout! })
  const url = await new Promise<string>((res, rej) => {
    child.once('exit', code => rej(new Error(`the simulator exited (${code}) before it listened; see ${state.dir}/logs/simulator.log`)))
    lines.once('line', res)
  })
  lines.close()
  // Nothing more is printed; keep the pipe drained anyway.
  child.stdout?.resume()
  return { url: url.trim(), pid: child.pid! }
}

/** `sluice serve`'s webhook half: served and registered by URL on loopback, as the local harness does. */
async function webhookFlags(state: ClusterState): Promise<string[]> {
  await precreateConfigurations(state)
  const port = await freePort()
  return [`--listen=127.0.0.1:${port}`, `--url=https://127.0.0.1:${port}`, '--cert-ip=127.0.0.1', '--cert-dns=localhost']
}

async function startController(state: ClusterState, kubeconfig: string, prometheusUrl: string, o: EnvOptions): Promise<Env['controller']> {
  const telemetryPort = await freePort()
  const { path, fd } = logFile(state, o.command)
  const args = [
    ...o.controllerNodeArgs, o.controllerBin ?? join(root, 'bin/sluice.ts'), o.command, '--kubeconfig', kubeconfig, '--metrics-server', prometheusUrl,
    '--telemetry-listen', `127.0.0.1:${telemetryPort}`, '--lease-name', 'sluice-bench-controller',
    ...(o.command === 'serve' ? await webhookFlags(state) : []), ...o.controllerArgs,
  ]
  const child = spawn(process.execPath, args, { stdio: ['ignore', fd, fd], env: { ...process.env, NO_PROXY: '127.0.0.1,localhost' } })
  closeSync(fd)
  o.onCleanup('controller', () => stopChild(child, 10_000))
  await waitFor(async () => {
    if (child.exitCode !== null) throw new Error(`the controller exited with ${child.exitCode}; see ${path}`)
    return (await httpsGet(`http://127.0.0.1:${telemetryPort}/readyz`, undefined, 1000)).status === 200
  }, { timeoutMs: 60_000, what: `the controller's /readyz (log: ${path})` })
  return { pid: child.pid!, telemetryPort, log: path, exited: () => child.exitCode !== null || child.signalCode !== null }
}

/** A fresh local cluster (the remains of an earlier run stopped first), the traffic simulator and a Prometheus scraping it. */
export async function startBase(o: BaseOptions): Promise<Base> {
  const dir = resolve(o.dir)
  if (readState(dir)) {
    o.log(`stopping the remains of an earlier run in ${dir}`)
    await clusterDown(dir, o.log)
  }
  o.onCleanup('local cluster', () => clusterDown(dir, o.log))
  const state = await clusterUp({ dir, binDir: o.binDir, log: o.log })
  const admin = new KubeConfig()
  admin.loadFromFile(state.kubeconfig)
  // The simulator follows CRDs installed after it starts (sluice's, Flagger's).
  const sim = await startSimulator(state, o)
  const prometheus = await startPrometheus([{ job_name: 'simulator', static_configs: [{ targets: [new URL(sim.url).host] }] }], o.scrapeInterval)
  o.onCleanup('prometheus', () => prometheus.stop())
  o.log(`simulator at ${sim.url}, Prometheus at ${prometheus.url} (scraping every ${o.scrapeInterval})`)
  return {
    state, admin, prometheusUrl: prometheus.url,
    pids: {
      'kube-apiserver': state.pids['kube-apiserver'],
      etcd: state.pids.etcd,
      'kube-controller-manager': state.pids['kube-controller-manager'],
      'kube-scheduler': state.pids['kube-scheduler'],
      kwok: state.pids.kwok,
      simulator: sim.pid,
      prometheus: findPid(['prometheus', `--web.listen-address=${new URL(prometheus.url).host}`]),
      'bench (this process)': process.pid,
    },
  }
}

/** The base with sluice installed: its webhook and `sluice controller` running, or `sluice serve` doing both. */
export async function startEnv(o: EnvOptions): Promise<Env> {
  const base = await startBase(o)
  const { state } = base
  o.log(`installing sluice (CRDs, RBAC, ServiceAccount)${o.command === 'controller' ? ' and starting its webhook' : ''}`)
  const sluice = await installSluice(state)
  const webhook = o.command === 'controller' ? await startSluiceWebhook(state, sluice.kubeconfig, []) : undefined
  if (webhook) o.onCleanup('sluice webhook', () => webhook.stop())
  const controller = await startController(state, sluice.kubeconfig, base.prometheusUrl, o)
  o.log(`sluice ${o.command} pid ${controller.pid}, telemetry on 127.0.0.1:${controller.telemetryPort} (log: ${controller.log})`)
  return { ...base, controller, pids: { [o.command === 'serve' ? 'sluice serve' : 'controller']: controller.pid, ...base.pids, ...(webhook && { 'sluice webhook': webhook.child.pid }) } }
}
