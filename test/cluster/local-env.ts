// The rest of `make up` beyond the control plane: the traffic simulator and a Prometheus scraping it every
// second, both detached so that they outlive the make process, with pid files for `make down`.
import { spawn } from 'node:child_process'
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import type { ClusterState } from './cluster.ts'
import { freePort, httpsGet, stopProcess, waitFor } from './process.ts'
import { prometheusArgs, prometheusBinary } from './prometheus.ts'

const root = resolve(import.meta.dirname, '../..')
const SIMULATOR = join(root, 'test/simulator/cli.ts')

interface Detached { readonly name: string; readonly marker: string }
const PROCESSES: readonly Detached[] = [
  { name: 'prometheus', marker: prometheusBinary() },
  { name: 'simulator', marker: SIMULATOR },
]

function spawnDetached(state: ClusterState, name: string, command: string, args: readonly string[]): void {
  const fd = openSync(join(state.dir, 'logs', `${name}.log`), 'a')
  const child = spawn(command, [...args], { stdio: ['ignore', fd, fd], detached: true, env: { ...process.env, NO_PROXY: '127.0.0.1,localhost' } })
  closeSync(fd)
  child.unref()
  writeFileSync(join(state.dir, `${name}.pid`), String(child.pid))
}

async function ready(url: string, what: string, log: string): Promise<void> {
  await waitFor(async () => (await httpsGet(url, undefined, 1000)).status === 200, { timeoutMs: 30_000, what: `${what} on ${url} (log: ${log})` })
}

export interface LocalEnvironment {
  readonly simulatorUrl: string
  readonly prometheusUrl: string
}

export async function startLocalEnvironment(state: ClusterState): Promise<LocalEnvironment> {
  await stopLocalEnvironment(state.dir)
  const simPort = await freePort()
  const simulatorUrl = `http://127.0.0.1:${simPort}`
  spawnDetached(state, 'simulator', process.execPath, [SIMULATOR, '--kubeconfig', state.kubeconfig, '--listen', `127.0.0.1:${simPort}`])
  await ready(`${simulatorUrl}/metrics`, 'traffic simulator', join(state.dir, 'logs', 'simulator.log'))

  const promDir = join(state.dir, 'prometheus')
  mkdirSync(promDir, { recursive: true })
  const promPort = await freePort()
  const prometheusUrl = `http://127.0.0.1:${promPort}`
  spawnDetached(state, 'prometheus', prometheusBinary(),
    prometheusArgs(promDir, promPort, [{ job_name: 'simulator', static_configs: [{ targets: [`127.0.0.1:${simPort}`] }] }]))
  await ready(`${prometheusUrl}/-/ready`, 'prometheus', join(state.dir, 'logs', 'prometheus.log'))
  return { simulatorUrl, prometheusUrl }
}

/** Stops what startLocalEnvironment started; true when something was running. */
export async function stopLocalEnvironment(dir: string): Promise<boolean> {
  let any = false
  for (const p of PROCESSES) {
    const pidFile = join(dir, `${p.name}.pid`)
    if (!existsSync(pidFile)) continue
    any = await stopProcess(Number(readFileSync(pidFile, 'utf8')), p.marker) || any
    rmSync(pidFile, { force: true })
  }
  return any
}
