// `sluice loadtester` on the local cluster: its identity from manifests/loadtester.yaml (ServiceAccount, gate
// ConfigMap, Role, RoleBinding; not the Deployment, since it runs here as a local process), a kubeconfig
// with that ServiceAccount's token, and for `make up` the process itself, detached, with a pid file.
import { spawn } from 'node:child_process'
import { closeSync, existsSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node'
import { parseAllDocuments, stringify } from 'yaml'
import { kubeconfigYaml, type ClusterState } from './cluster.ts'
import { freePort, httpsGet, stopProcess, waitFor } from './process.ts'

const root = resolve(import.meta.dirname, '../..')
const MANIFEST = join(root, 'manifests/loadtester.yaml')
const SLUICE = join(root, 'bin/sluice.ts')
export const LOADTESTER_SERVICE_ACCOUNT = 'sluice-loadtester'
const IDENTITY_KINDS = new Set(['ServiceAccount', 'ConfigMap', 'Role', 'RoleBinding'])

interface Obj { kind?: string; metadata?: { namespace?: string }; subjects?: { namespace?: string }[] }

/** The identity objects of manifests/loadtester.yaml, moved into `namespace`, as one YAML stream. */
export function loadTesterIdentityYaml(namespace: string): string {
  const objects = parseAllDocuments(readFileSync(MANIFEST, 'utf8')).map(d => d.toJS() as Obj).filter(o => IDENTITY_KINDS.has(o.kind ?? ''))
  for (const o of objects) {
    if (o.metadata) o.metadata.namespace = namespace
    for (const s of o.subjects ?? []) s.namespace = namespace
  }
  return objects.map(o => stringify(o)).join('---\n')
}

/** A token of the load tester's ServiceAccount in `namespace`, asked of the API server by `admin`. */
export async function loadTesterToken(admin: KubeConfig, namespace: string, seconds = 48 * 3600): Promise<string> {
  const core = admin.makeApiClient(CoreV1Api)
  const request = await core.createNamespacedServiceAccountToken({
    name: LOADTESTER_SERVICE_ACCOUNT, namespace, body: { spec: { audiences: [], expirationSeconds: seconds } },
  })
  const token = request.status?.token
  if (!token) throw new Error(`no token issued for ${namespace}/${LOADTESTER_SERVICE_ACCOUNT}`)
  return token
}

/** Writes a kubeconfig for the load tester's ServiceAccount of the local cluster. */
export function writeLoadTesterKubeconfig(state: Pick<ClusterState, 'apiPort' | 'caPem'>, token: string, path: string): void {
  writeFileSync(path, kubeconfigYaml(`https://127.0.0.1:${state.apiPort}`, state.caPem, token, LOADTESTER_SERVICE_ACCOUNT), { mode: 0o600 })
}

const PID_FILE = 'loadtester.pid'

/** `make up`: the load tester as its own ServiceAccount in sluice-system, outliving this process. */
export async function startDetachedLoadTester(state: ClusterState, kubeconfig: string, namespace: string): Promise<{ url: string; log: string }> {
  await stopDetachedLoadTester(state.dir)
  const port = await freePort()
  const url = `http://127.0.0.1:${port}`
  const log = join(state.dir, 'logs', 'loadtester.log')
  const fd = openSync(log, 'a')
  const child = spawn(process.execPath, [SLUICE, 'loadtester', `--kubeconfig=${kubeconfig}`, `--namespace=${namespace}`, `--listen=127.0.0.1:${port}`],
    { stdio: ['ignore', fd, fd], detached: true, env: { ...process.env, NO_PROXY: '127.0.0.1,localhost' } })
  closeSync(fd)
  child.unref()
  writeFileSync(join(state.dir, PID_FILE), String(child.pid))
  await waitFor(async () => {
    if (child.exitCode !== null) throw new Error(`sluice loadtester exited with ${child.exitCode}; see ${log}`)
    return (await httpsGet(`${url}/healthz`, undefined, 1000)).status === 200
  }, { timeoutMs: 30_000, what: `sluice loadtester on ${url} (log: ${log})` })
  return { url, log }
}

/** Stops what startDetachedLoadTester started (make down); true when it was running. */
export async function stopDetachedLoadTester(dir: string): Promise<boolean> {
  const pidFile = join(dir, PID_FILE)
  if (!existsSync(pidFile)) return false
  const stopped = await stopProcess(Number(readFileSync(pidFile, 'utf8')), SLUICE)
  rmSync(pidFile, { force: true })
  return stopped
}
