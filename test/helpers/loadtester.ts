// The load tester in a test's namespace, as its own ServiceAccount with the RBAC of manifests/loadtester.yaml:
// in-process (startLoadTester with `kc`) or as a `sluice loadtester` process through the tether, which a
// test can kill and start again.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { KubeConfig } from '@kubernetes/client-node'
import { loadTesterIdentityYaml, loadTesterToken, LOADTESTER_SERVICE_ACCOUNT } from '../cluster/loadtester.ts'
import { freePort, httpsGet, waitFor } from '../cluster/process.ts'
import { kubeConfig, kubectlOk, type TestLike } from './kube.ts'
import { tetheredSluice } from './tethered.ts'

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
  const proc = tetheredSluice(['loadtester', '--kubeconfig', account.kubeconfig, '--namespace', ns, '--listen', `127.0.0.1:${port}`, ...extraArgs], log)
  const start = async (): Promise<void> => {
    const c = await proc.start()
    await waitFor(async () => {
      if (c.exitCode !== null) throw new Error(`sluice loadtester exited with ${c.exitCode}; see ${log}`)
      return (await httpsGet(`${url}/healthz`, undefined, 1000)).status === 200
    }, { timeoutMs: 60_000, what: `sluice loadtester on ${url} (log: ${log})` })
  }
  await start()
  t.teardown(() => proc.stop('SIGTERM'))
  return { url, log, start, kill: () => proc.stop('SIGUSR2') }
}
