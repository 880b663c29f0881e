// The local control plane: etcd, kube-apiserver, kube-controller-manager, kube-scheduler and kwok as
// separate processes on loopback, with per-cluster PKI and an admin bearer token. State (ports, pids)
// lives in <dir>/state.json so that `down` can stop exactly what `up` started.
import { spawn } from 'node:child_process'
import { generateKeyPairSync, randomBytes } from 'node:crypto'
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { createCA, createLeaf, type KeyPairPem } from '../../src/certs/pki.ts'
import { freePort, httpsGet, waitFor, processAlive, stopProcess } from './process.ts'

export const COMPONENTS = ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kwok'] as const
export type Component = (typeof COMPONENTS)[number]

export interface ClusterState {
  readonly dir: string
  readonly binDir: string
  readonly etcdDataDir: string
  readonly apiPort: number
  readonly kubeconfig: string
  readonly caPem: string
  readonly adminToken: string
  readonly pids: Partial<Record<Component, number>>
  readonly tokensFile: string
}

export interface UpOptions {
  readonly dir: string
  readonly binDir: string
  readonly log?: (msg: string) => void
  readonly startTimeoutMs?: number
  /** kwok nodes to register (kwok-node-0, kwok-node-1, …); 1 by default. */
  readonly nodes?: number
  /** Extra kube-apiserver flags, e.g. --enable-aggregator-routing=true for webhooks reached through Endpoints. */
  readonly apiServerArgs?: readonly string[]
}

const nodeName = (i: number): string => `kwok-node-${i}`
const here = import.meta.dirname

export function statePath(dir: string): string {
  return join(dir, 'state.json')
}

export function readState(dir: string): ClusterState | undefined {
  const p = statePath(dir)
  if (!existsSync(p)) return undefined
  return JSON.parse(readFileSync(p, 'utf8')) as ClusterState
}

function writeState(state: ClusterState): void {
  writeFileSync(statePath(state.dir), JSON.stringify(state, null, 2))
}

/** True when every recorded process still runs and the API answers /readyz. */
export async function isHealthy(state: ClusterState): Promise<boolean> {
  for (const c of COMPONENTS) {
    const pid = state.pids[c]
    if (pid === undefined || !processAlive(pid, state.binDir)) return false
  }
  try {
    const r = await httpsGet(`https://127.0.0.1:${state.apiPort}/readyz`, state.caPem, 2000)
    return r.status === 200
  } catch {
    return false
  }
}

function writePki(pki: string): { ca: KeyPairPem; token: string } {
  mkdirSync(pki, { recursive: true })
  const ca = createCA('sluice-local-cluster-ca', 30 * 24 * 3600)
  const api = createLeaf(ca, {
    commonName: 'kube-apiserver',
    dnsNames: ['localhost', 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc', 'kubernetes.default.svc.cluster.local'],
    ipAddresses: ['127.0.0.1', '10.96.0.1'],
    usage: 'server',
    lifetimeSeconds: 30 * 24 * 3600,
  })
  const sa = generateKeyPairSync('rsa', { modulusLength: 2048 })
  const token = randomBytes(24).toString('hex')
  writeFileSync(join(pki, 'ca.crt'), ca.certPem)
  writeFileSync(join(pki, 'ca.key'), ca.keyPem, { mode: 0o600 })
  writeFileSync(join(pki, 'apiserver.crt'), api.certPem)
  writeFileSync(join(pki, 'apiserver.key'), api.keyPem, { mode: 0o600 })
  writeFileSync(join(pki, 'sa.key'), sa.privateKey.export({ type: 'pkcs1', format: 'pem' }), { mode: 0o600 })
  writeFileSync(join(pki, 'sa.pub'), sa.publicKey.export({ type: 'spki', format: 'pem' }))
  // Static tokens: the admin (system:masters) that tests and kubectl use. More users are appended by
  // later harness steps before the API server starts (none yet).
  writeFileSync(join(pki, 'tokens.csv'), `${token},admin,admin-uid,"system:masters"\n`, { mode: 0o600 })
  return { ca, token }
}

export function kubeconfigYaml(server: string, caPem: string, token: string, user = 'admin'): string {
  const ca = Buffer.from(caPem).toString('base64')
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    '- name: sluice-local',
    `  cluster: {server: "${server}", certificate-authority-data: "${ca}"}`,
    'users:',
    `- name: ${user}`,
    `  user: {token: "${token}"}`,
    'contexts:',
    `- name: sluice-local`,
    `  context: {cluster: sluice-local, user: ${user}}`,
    'current-context: sluice-local',
    '',
  ].join('\n')
}

function launch(state: { dir: string; pids: Partial<Record<Component, number>> }, name: Component, bin: string, args: string[]): number {
  const logFd = openSync(join(state.dir, 'logs', `${name}.log`), 'a')
  const env: NodeJS.ProcessEnv = { ...process.env, NO_PROXY: '127.0.0.1,localhost' }
  for (const k of ['HTTP_PROXY', 'HTTPS_PROXY', 'http_proxy', 'https_proxy']) delete env[k]
  // Detached: the cluster outlives `make cluster-up`; `down` stops it by the recorded pid.
  const child = spawn(bin, args, { detached: true, stdio: ['ignore', logFd, logFd], env })
  closeSync(logFd)
  child.unref()
  if (child.pid === undefined) throw new Error(`could not start ${name} (${bin})`)
  state.pids[name] = child.pid
  return child.pid
}

/** The last lines of every component log, for a failing start or test. */
export async function logTails(dir: string, lines = 30): Promise<string> {
  const logs = join(dir, 'logs')
  if (!existsSync(logs)) return ''
  const out: string[] = []
  for (const file of readdirSync(logs).filter(f => f.endsWith('.log')).sort()) {
    const p = join(logs, file)
    // Some components log very long lines; cut them so a failure report stays readable.
    const text = (await readFile(p, 'utf8')).trimEnd().split('\n').slice(-lines)
      .map(l => (l.length > 400 ? `${l.slice(0, 400)}…` : l)).join('\n')
    out.push(`--- ${file.replace(/\.log$/, '')} (${p}) ---\n${text}`)
  }
  return out.join('\n')
}

async function waitHealthy(url: string, what: string, caPem: string | undefined, timeoutMs: number, dir: string): Promise<void> {
  try {
    await waitFor(async () => (await httpsGet(url, caPem, 2000)).status === 200, { timeoutMs, what })
  } catch (e) {
    throw new Error(`${(e as Error).message}\n${await logTails(dir)}`, { cause: e })
  }
}

export async function clusterUp(opts: UpOptions): Promise<ClusterState> {
  const log = opts.log ?? ((): void => {})
  const dir = resolve(opts.dir)
  const timeoutMs = opts.startTimeoutMs ?? 120_000
  const existing = readState(dir)
  if (existing && (await isHealthy(existing))) {
    log(`cluster already running (${dir})`)
    return existing
  }
  if (existing) {
    log('a previous cluster in this directory is not healthy; stopping its remains')
    await clusterDown(dir)
  }
  mkdirSync(join(dir, 'logs'), { recursive: true })
  const pki = join(dir, 'pki')
  const { ca, token } = writePki(pki)
  const shm = existsSync('/dev/shm') ? '/dev/shm' : dir
  const etcdDataDir = join(shm, `sluice-etcd-${randomBytes(6).toString('hex')}`)
  const [etcdPort, etcdPeer, apiPort, kcmPort, schedPort, kwokPort] = await Promise.all([1, 2, 3, 4, 5, 6].map(() => freePort()))
  const kubeconfig = join(dir, 'kubeconfig')
  writeFileSync(kubeconfig, kubeconfigYaml(`https://127.0.0.1:${apiPort}`, ca.certPem, token), { mode: 0o600 })
  const state = {
    dir, binDir: opts.binDir, etcdDataDir, apiPort: apiPort!, kubeconfig, caPem: ca.certPem, adminToken: token,
    pids: {} as Partial<Record<Component, number>>, tokensFile: join(pki, 'tokens.csv'),
  }
  const bin = (n: string): string => join(opts.binDir, n)
  const started = Date.now()
  writeState(state)

  log('starting etcd')
  launch(state, 'etcd', bin('etcd'), [
    '--name=sluice', `--data-dir=${etcdDataDir}`,
    `--listen-client-urls=http://127.0.0.1:${etcdPort}`, `--advertise-client-urls=http://127.0.0.1:${etcdPort}`,
    `--listen-peer-urls=http://127.0.0.1:${etcdPeer}`, `--initial-advertise-peer-urls=http://127.0.0.1:${etcdPeer}`,
    `--initial-cluster=sluice=http://127.0.0.1:${etcdPeer}`, '--unsafe-no-fsync=true', '--log-level=warn',
  ])
  writeState(state)
  await waitHealthy(`http://127.0.0.1:${etcdPort}/health`, 'etcd /health', undefined, timeoutMs, dir)

  log('starting kube-apiserver')
  launch(state, 'kube-apiserver', bin('kube-apiserver'), [
    `--etcd-servers=http://127.0.0.1:${etcdPort}`,
    '--bind-address=127.0.0.1', `--secure-port=${apiPort}`, '--advertise-address=127.0.0.1',
    '--endpoint-reconciler-type=none',
    `--tls-cert-file=${join(pki, 'apiserver.crt')}`, `--tls-private-key-file=${join(pki, 'apiserver.key')}`,
    `--client-ca-file=${join(pki, 'ca.crt')}`, `--token-auth-file=${join(pki, 'tokens.csv')}`,
    '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
    `--service-account-key-file=${join(pki, 'sa.pub')}`, `--service-account-signing-key-file=${join(pki, 'sa.key')}`,
    '--service-cluster-ip-range=10.96.0.0/16', '--authorization-mode=Node,RBAC', '--allow-privileged=true',
    // kwok pods mount no tokens, and the plugin would make pod creation race the default ServiceAccount.
    '--disable-admission-plugins=ServiceAccount',
    `--cert-dir=${pki}`, '--v=1', ...(opts.apiServerArgs ?? []),
  ])
  writeState(state)
  await waitHealthy(`https://127.0.0.1:${apiPort}/readyz`, 'kube-apiserver /readyz', ca.certPem, timeoutMs, dir)

  log('starting kube-controller-manager, kube-scheduler, kwok')
  const kc = `--kubeconfig=${kubeconfig}`
  // Each controller acts as its own ServiceAccount, as in production clusters, so that the garbage
  // collector and namespace controller are told apart from the admin in admission requests.
  launch(state, 'kube-controller-manager', bin('kube-controller-manager'), [
    kc, `--authentication-kubeconfig=${kubeconfig}`, `--authorization-kubeconfig=${kubeconfig}`,
    '--leader-elect=false', '--bind-address=127.0.0.1', `--secure-port=${kcmPort}`,
    `--service-account-private-key-file=${join(pki, 'sa.key')}`, `--root-ca-file=${join(pki, 'ca.crt')}`,
    '--use-service-account-credentials=true', '--controllers=*', '--concurrent-deployment-syncs=10',
    '--concurrent-replicaset-syncs=10', '--kube-api-qps=200', '--kube-api-burst=400',
  ])
  launch(state, 'kube-scheduler', bin('kube-scheduler'), [
    kc, `--authentication-kubeconfig=${kubeconfig}`, `--authorization-kubeconfig=${kubeconfig}`,
    '--leader-elect=false', '--bind-address=127.0.0.1', `--secure-port=${schedPort}`,
    '--kube-api-qps=200', '--kube-api-burst=400',
  ])
  launch(state, 'kwok', bin('kwok'), [
    kc, `--config=${join(here, 'kwok-stages.yaml')}`, '--manage-all-nodes=true',
    '--cidr=10.244.0.0/16', '--node-ip=10.255.0.1', '--node-lease-duration-seconds=40',
    `--server-address=127.0.0.1:${kwokPort}`,
  ])
  writeState(state)
  await waitHealthy(`https://127.0.0.1:${kcmPort}/healthz`, 'kube-controller-manager /healthz', undefined, timeoutMs, dir)
  await waitHealthy(`https://127.0.0.1:${schedPort}/healthz`, 'kube-scheduler /healthz', undefined, timeoutMs, dir)
  await waitHealthy(`http://127.0.0.1:${kwokPort}/healthz`, 'kwok /healthz', undefined, timeoutMs, dir)

  const names = Array.from({ length: opts.nodes ?? 1 }, (_, i) => nodeName(i))
  log(`registering node${names.length > 1 ? 's' : ''} ${names.join(', ')}`)
  for (const name of names) await createNode(state, name)
  for (const name of names) await waitNodeReady(state, name, timeoutMs)
  log(`cluster ready in ${((Date.now() - started) / 1000).toFixed(1)}s`)
  return state
}

async function api(state: ClusterState, method: string, path: string, body?: unknown): Promise<{ status: number; json: unknown }> {
  const r = await httpsGet(`https://127.0.0.1:${state.apiPort}${path}`, state.caPem, 5000, {
    method, token: state.adminToken, body: body === undefined ? undefined : JSON.stringify(body),
  })
  return { status: r.status, json: r.body ? JSON.parse(r.body) : undefined }
}

async function createNode(state: ClusterState, name: string): Promise<void> {
  const node = {
    apiVersion: 'v1', kind: 'Node',
    metadata: {
      name,
      annotations: { 'node.alpha.kubernetes.io/ttl': '0', 'kwok.x-k8s.io/node': 'fake' },
      labels: { 'kubernetes.io/hostname': name, 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': 'amd64', type: 'kwok' },
    },
    status: {
      allocatable: { cpu: '1000', memory: '4Ti', pods: '20000' },
      capacity: { cpu: '1000', memory: '4Ti', pods: '20000' },
    },
  }
  const r = await api(state, 'POST', '/api/v1/nodes', node)
  if (r.status !== 201 && r.status !== 409) throw new Error(`creating node ${name}: HTTP ${r.status} ${JSON.stringify(r.json)}`)
}

interface NodeLike { status?: { conditions?: { type: string; status: string }[] } }

async function waitNodeReady(state: ClusterState, name: string, timeoutMs: number): Promise<void> {
  try {
    await waitFor(async () => {
      const r = await api(state, 'GET', `/api/v1/nodes/${name}`)
      return (r.json as NodeLike).status?.conditions?.some(c => c.type === 'Ready' && c.status === 'True') === true
    }, { timeoutMs, what: `node ${name} Ready` })
  } catch (e) {
    throw new Error(`${(e as Error).message}\n${await logTails(state.dir)}`, { cause: e })
  }
}

/** Stops every process `up` recorded (reverse order), then removes etcd's data. Safe to call twice. */
export async function clusterDown(dir: string, log: (msg: string) => void = () => {}): Promise<void> {
  const state = readState(resolve(dir))
  if (!state) return
  for (const c of [...COMPONENTS].reverse()) {
    const pid = state.pids[c]
    if (pid === undefined) continue
    if (await stopProcess(pid, state.binDir)) log(`stopped ${c} (pid ${pid})`)
  }
  rmSync(state.etcdDataDir, { recursive: true, force: true })
  rmSync(statePath(state.dir), { force: true })
}
