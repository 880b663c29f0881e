// The load tester in a test's namespace, as its own ServiceAccount with the RBAC of manifests/loadtester.yaml:
// in-process (startLoadTester with `kc`) or as a `sluice loadtester` process through the tether, which a
// test can kill and start again.
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { createWriteStream, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { KubeConfig } from '@kubernetes/client-node'
import { loadTesterIdentityYaml, loadTesterToken, LOADTESTER_SERVICE_ACCOUNT } from '../cluster/loadtester.ts'
import { freePort, httpsGet, waitFor } from '../cluster/process.ts'
import { kubeConfig, kubectlOk, type TestLike } from './kube.ts'

const ROOT = resolve(import.meta.dirname, '../..')

export interface LoadTesterAccount {
  /** Client configuration of the load tester's ServiceAccount. */
  readonly kc: KubeConfig
  /** The same, as a file for a `sluice loadtester` process. */
  readonly kubeconfig: string
}

/** Applies the load tester's ServiceAccount, gate ConfigMap, Role and RoleBinding in `ns`; returns its identity. */
export async function loadTesterAccount(t: TestLike, ns: string): Promise<LoadTesterAccount> {
  await kubectlOk(['apply', '-f', '-'], loadTesterIdentityYaml(ns))
  const admin = kubeConfig()
  const cluster = admin.getCurrentCluster()
  if (!cluster) throw new Error('the admin kubeconfig has no cluster')
  const token = await loadTesterToken(admin, ns, 3600)
  const kc = new KubeConfig()
  kc.loadFromOptions({
    clusters: [cluster],
    users: [{ name: LOADTESTER_SERVICE_ACCOUNT, token }],
    contexts: [{ name: 'loadtester', cluster: cluster.name, user: LOADTESTER_SERVICE_ACCOUNT }],
    currentContext: 'loadtester',
  })
  const dir = mkdtempSync(join(tmpdir(), 'sluice-loadtester-'))
  t.teardown(() => { rmSync(dir, { recursive: true, force: true }) })
  const kubeconfig = join(dir, 'kubeconfig')
  writeFileSync(kubeconfig, kc.exportConfig(), { mode: 0o600 })
  return { kc, kubeconfig }
}

export interface LoadTesterProcess {
  readonly url: string
  readonly log: string
  /** SIGKILL, as a crash: nothing is cleaned up. */
  kill(): Promise<void>
  /** Starts it again, on the same port, and waits until it serves. */
  start(): Promise<void>
}

/** `sluice loadtester` for namespace `ns` as a process, stopped (SIGTERM) when the test ends. */
export async function startLoadTesterProcess(t: TestLike, account: LoadTesterAccount, ns: string, extraArgs: readonly string[] = []): Promise<LoadTesterProcess> {
  const port = await freePort()
  const url = `http://127.0.0.1:${port}`
  const log = join(process.env.SLUICE_CLUSTER_DIR ?? tmpdir(), 'logs', `loadtester-${ns}.log`)
  mkdirSync(dirname(log), { recursive: true })
  const args = [join(ROOT, 'bin/sluice.ts'), 'loadtester', '--kubeconfig', account.kubeconfig, '--namespace', ns, '--listen', `127.0.0.1:${port}`, ...extraArgs]
  let child: ChildProcess | undefined
  const stopWith = async (signal: NodeJS.Signals): Promise<void> => {
    const c = child
    child = undefined
    if (!c || c.exitCode !== null || c.signalCode !== null) return
    const exited = once(c, 'exit')
    c.kill(signal)
    await exited
  }
  const start = async (): Promise<void> => {
    const out = createWriteStream(log, { flags: 'a' })
    await once(out, 'open')
    // Through the tether, so that a test process killed by its runner takes the load tester with it.
    const c = spawn(process.execPath, [join(ROOT, 'test/cluster/tether.ts'), process.execPath, ...args], { stdio: ['pipe', out, out] })
    child = c
    await waitFor(async () => {
      if (c.exitCode !== null) throw new Error(`sluice loadtester exited with ${c.exitCode}; see ${log}`)
      return (await httpsGet(`${url}/healthz`, undefined, 1000)).status === 200
    }, { timeoutMs: 30_000, what: `sluice loadtester on ${url} (log: ${log})` })
  }
  await start()
  t.teardown(() => stopWith('SIGTERM'))
  // SIGUSR2 makes the tether SIGKILL the load tester itself.
  return { url, log, start, kill: () => stopWith('SIGUSR2') }
}
