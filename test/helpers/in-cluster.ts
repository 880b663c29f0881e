// Runs the sluice containers of an applied Deployment on this machine the way a kubelet runs its pods, for a
// cluster whose nodes are kwok's (no kubelet, no container runtime). Per replica: a ServiceAccount token from
// the TokenRequest API, the CA and the namespace at the in-cluster path (a bind mount in a private mount
// namespace, so client-node's loadFromDefault falls back to loadFromCluster), KUBERNETES_SERVICE_HOST/PORT,
// and each container's command, args and env as the Deployment stores them. Once a replica's readiness probes
// pass, an EndpointSlice of the Service names it at this machine's address, as the EndpointSlice controller
// would name a pod: the API server then reaches it through the Service.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { networkInterfaces, tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  AppsV1Api, CoreV1Api, CustomObjectsApi, DiscoveryV1Api, KubeConfig,
  type V1Container, type V1ContainerPort, type V1EnvVar, type V1Probe, type V1ServicePort,
} from '@kubernetes/client-node'
import { isNotFound } from '../../src/kube/errors.ts'
import { clusterDown, clusterUp, type ClusterState } from '../cluster/cluster.ts'
import { freePort, httpsGet, waitFor } from '../cluster/process.ts'
import { nodeFlagsOf } from './image-command.ts'
import type { TestLike } from './kube.ts'
import { tetheredSluice, type Tethered } from './tethered.ts'
import { until } from './wait.ts'

export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount'
const SLICE_MANAGER = 'in-cluster.test.sluice.dev'

/**
 * Listeners the manifests leave at their default address (the controller's telemetry, 0.0.0.0:8080): the
 * flag that moves each, by container port name. Every replica here shares one network namespace, so each
 * listener gets a free port, where a pod would have its own IP.
 */
export const SLUICE_DEFAULT_LISTEN_FLAGS: Readonly<Record<string, string>> = { 'http-metrics': '--telemetry-listen' }

export interface InClusterOptions {
  /** An admin kubeconfig: reads the Deployment and Service, requests tokens, writes EndpointSlices. */
  readonly kubeconfig: string
  /** The API server as pods see it (KUBERNETES_SERVICE_HOST/PORT) and its CA (ca.crt). */
  readonly apiHost: string
  readonly apiPort: number
  readonly caPem: string
  readonly namespace: string
  readonly deployment: string
  readonly service: string
  readonly replicas: number
  /** This machine's address the API server calls (a non-loopback one: EndpointSlices refuse loopback). */
  readonly ip?: string
  readonly logDir: string
  readonly defaultListenFlags?: Readonly<Record<string, string>>
}

export interface InClusterContainer {
  readonly name: string
  readonly process: Tethered
  /** The command line after `sluice`, as run (variables expanded, ports moved). */
  readonly args: readonly string[]
  readonly log: string
}

export interface InClusterReplica {
  /** The pod name it stands for ($(POD_NAME) in the args). */
  readonly pod: string
  readonly containers: readonly InClusterContainer[]
  /** The port on this machine of a container port, by its name. */
  port(name: string): number
  /** Removes its endpoint (as a terminating pod leaves the Service), then stops its processes with `signal`. */
  stop(signal?: NodeJS.Signals): Promise<void>
}

export interface InCluster {
  readonly ip: string
  readonly replicas: readonly InClusterReplica[]
  stop(): Promise<void>
}

/**
 * A local cluster of a test's own, taken down at its teardown: two kwok nodes (for anti-affinity), and an API
 * server that calls webhooks at their Service's endpoints (--enable-aggregator-routing), as there is no
 * kube-proxy for a ClusterIP. The run's shared cluster has the harness's webhook under sluice's configuration
 * names, so sluice installed by its manifests (or chart) needs a cluster like this one.
 */
export async function inClusterTestCluster(t: Pick<TestLike, 'teardown'>, log?: (m: string) => void): Promise<ClusterState> {
  const binDir = process.env.SLUICE_K8S_BIN_DIR
  if (!binDir) throw new Error('SLUICE_K8S_BIN_DIR is not set: run through test/cluster/with-cluster.ts')
  const dir = mkdtempSync(join(tmpdir(), 'sluice-in-cluster-'))
  t.teardown(async () => {
    await clusterDown(dir)
    rmSync(dir, { recursive: true, force: true })
  })
  return clusterUp({ dir, binDir, nodes: 2, apiServerArgs: ['--enable-aggregator-routing=true'], ...(log && { log }) })
}

/** The first non-internal IPv4 address of this machine. */
export function hostAddress(): string {
  for (const addrs of Object.values(networkInterfaces())) {
    const a = addrs?.find(x => x.family === 'IPv4' && !x.internal)
    if (a) return a.address
  }
  throw new Error('this machine has no non-loopback IPv4 address for an EndpointSlice')
}

/** A kubelet's $(VAR) expansion: a known variable is replaced, `$$` is a literal `$`, anything else stays. */
export function expandVars(s: string, env: Readonly<Record<string, string>>): string {
  return s.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (m, name: string | undefined) => {
    if (name === undefined) return '$'
    return env[name] ?? m
  })
}

function envOf(c: V1Container, fields: Readonly<Record<string, string>>): Record<string, string> {
  const env: Record<string, string> = {}
  for (const e of c.env ?? [] as V1EnvVar[]) {
    const path = e.valueFrom?.fieldRef?.fieldPath
    if (path !== undefined) {
      const v = fields[path]
      if (v === undefined) throw new Error(`container ${c.name}: env ${e.name} from field ${path} is not supported here`)
      env[e.name] = v
    } else if (e.valueFrom) {
      throw new Error(`container ${c.name}: env ${e.name} from ${Object.keys(e.valueFrom).join(',')} is not supported here`)
    } else {
      env[e.name] = expandVars(e.value ?? '', env)
    }
  }
  return env
}

/**
 * The container's args with its variables expanded and every HOST:PORT of a declared container port moved to
 * the port given for it; a declared port no arg sets is set with its flag from `defaults`.
 */
export function containerArgs(
  c: V1Container, env: Readonly<Record<string, string>>, ports: ReadonlyMap<number, number>, defaults: Readonly<Record<string, string>>,
): string[] {
  const set = new Set<number>()
  const args = (c.args ?? []).map(a => expandVars(a, env)).map(a => a.replace(/^(--[\w-]+=[^:=\s]+):(\d+)$/, (m, head: string, p: string) => {
    const to = ports.get(Number(p))
    if (to === undefined) return m
    set.add(Number(p))
    return `${head}:${to}`
  }))
  for (const p of c.ports ?? [] as V1ContainerPort[]) {
    if (set.has(p.containerPort)) continue
    const flag = p.name === undefined ? undefined : defaults[p.name]
    if (flag === undefined) throw new Error(`container ${c.name}: port ${p.name ?? p.containerPort} is set by none of its args (${(c.args ?? []).join(' ')})`)
    args.push(`${flag}=0.0.0.0:${ports.get(p.containerPort)}`)
  }
  return args
}

// `unshare` without --fork execs in place: the tether's child is the node process itself, with the token,
// CA and namespace files mounted read-only at the in-cluster path for it alone. The empty mount point is made
// on the host's /run (a tmpfs) if missing.
function mountWrapper(dir: string): string[] {
  const script = 'mkdir -p "$1" && mount --bind "$2" "$1" && mount -o remount,bind,ro "$1" && shift 2 && exec "$@"'
  return ['unshare', '--mount', '--propagation', 'private', '--', 'sh', '-c', script, 'sh', SERVICE_ACCOUNT_DIR, dir]
}

function probeUrl(probe: V1Probe | undefined, ip: string, port: (p: number | string) => number): string | undefined {
  const g = probe?.httpGet
  if (!g) return undefined
  const scheme = (g.scheme ?? 'HTTP').toLowerCase()
  return `${scheme}://${ip}:${port(g.port)}${g.path ?? '/'}`
}

interface Kube { apps: AppsV1Api; core: CoreV1Api; discovery: DiscoveryV1Api }

async function serviceAccountToken(k: Kube, namespace: string, name: string): Promise<string> {
  const r = await k.core.createNamespacedServiceAccountToken({ name, namespace, body: { spec: { audiences: [], expirationSeconds: 7200 } } })
  const token = r.status?.token
  if (!token) throw new Error(`TokenRequest for ${namespace}/${name} returned no token`)
  return token
}

async function startReplica(k: Kube, o: InClusterOptions & { ip: string }, index: number, template: {
  containers: V1Container[]; serviceAccount: string; servicePorts: V1ServicePort[]
}): Promise<InClusterReplica> {
  const pod = `${o.deployment}-in-cluster-${index}`
  const dir = mkdtempSync(join(tmpdir(), `sluice-${pod}-`))
  const secrets = join(dir, 'serviceaccount')
  mkdirSync(secrets)
  mkdirSync(join(dir, 'home'))
  writeFileSync(join(secrets, 'token'), await serviceAccountToken(k, o.namespace, template.serviceAccount), { mode: 0o600 })
  writeFileSync(join(secrets, 'ca.crt'), o.caPem)
  writeFileSync(join(secrets, 'namespace'), o.namespace)

  const byNumber = new Map<number, number>()
  const byName = new Map<string, number>()
  for (const p of template.containers.flatMap(c => c.ports ?? [])) {
    const local = await freePort()
    byNumber.set(p.containerPort, local)
    if (p.name) byName.set(p.name, local)
  }
  const port = (p: number | string): number => {
    const local = typeof p === 'number' ? byNumber.get(p) : byName.get(p)
    if (local === undefined) throw new Error(`${pod}: no container port ${p}`)
    return local
  }
  const fields = { 'metadata.name': pod, 'metadata.namespace': o.namespace, 'spec.serviceAccountName': template.serviceAccount }
  const containers: InClusterContainer[] = []
  const probes: { url: string; c: InClusterContainer }[] = []
  for (const c of template.containers) {
    const nodeFlags = nodeFlagsOf(c.name, c.command)
    const env = envOf(c, fields)
    const args = containerArgs(c, env, byNumber, o.defaultListenFlags ?? SLUICE_DEFAULT_LISTEN_FLAGS)
    const log = join(o.logDir, `${pod}-${c.name}.log`)
    // Only what a pod's process has: its container env and the in-cluster variables; no kubeconfig.
    const processEnv: Record<string, string | undefined> = {
      ...env, KUBERNETES_SERVICE_HOST: o.apiHost, KUBERNETES_SERVICE_PORT: String(o.apiPort), HOME: join(dir, 'home'),
      KUBECONFIG: undefined, SLUICE_KUBECONFIG: undefined,
    }
    const proc = tetheredSluice(args, log, processEnv, mountWrapper(secrets), nodeFlags)
    const running: InClusterContainer = { name: c.name, process: proc, args, log }
    containers.push(running)
    await proc.start()
    const url = probeUrl(c.readinessProbe, o.ip, port)
    if (url) probes.push({ url, c: running })
  }
  const sliceName = `${o.service}-${pod}`
  const replica: InClusterReplica = {
    pod, containers, port,
    async stop(signal = 'SIGTERM') {
      try {
        await k.discovery.deleteNamespacedEndpointSlice({ name: sliceName, namespace: o.namespace }).catch((e: unknown) => { if (!isNotFound(e)) throw e })
      } finally {
        await Promise.all(containers.map(c => c.process.stop(signal)))
        rmSync(dir, { recursive: true, force: true })
      }
    },
  }
  try {
    for (const { url, c } of probes) {
      await waitFor(async () => {
        const child = c.process.child
        if (!child || child.exitCode !== null) throw new Error(`${pod}/${c.name} exited; see ${c.log}`)
        return (await httpsGet(url, undefined, 1000)).status === 200
      }, { timeoutMs: 60_000, what: `${pod}/${c.name} ready at ${url} (log: ${c.log})` })
    }
    await k.discovery.createNamespacedEndpointSlice({ namespace: o.namespace, body: {
      metadata: { name: sliceName, namespace: o.namespace, labels: { 'kubernetes.io/service-name': o.service, 'endpointslice.kubernetes.io/managed-by': SLICE_MANAGER } },
      addressType: 'IPv4',
      endpoints: [{ addresses: [o.ip], conditions: { ready: true, serving: true, terminating: false } }],
      ports: template.servicePorts.map(p => ({ name: p.name, protocol: p.protocol ?? 'TCP', port: port(p.targetPort ?? p.port) })),
    } })
  } catch (e) {
    await replica.stop('SIGKILL')
    throw e
  }
  return replica
}

/** Starts `replicas` pods' worth of the Deployment's containers and names each in the Service once ready. */
export async function startInCluster(o: InClusterOptions): Promise<InCluster> {
  const kc = new KubeConfig()
  kc.loadFromFile(o.kubeconfig)
  const k: Kube = { apps: kc.makeApiClient(AppsV1Api), core: kc.makeApiClient(CoreV1Api), discovery: kc.makeApiClient(DiscoveryV1Api) }
  const d = await k.apps.readNamespacedDeployment({ name: o.deployment, namespace: o.namespace })
  const svc = await k.core.readNamespacedService({ name: o.service, namespace: o.namespace })
  const spec = d.spec?.template.spec
  if (!spec) throw new Error(`Deployment ${o.namespace}/${o.deployment} has no pod template`)
  const template = { containers: spec.containers, serviceAccount: spec.serviceAccountName ?? 'default', servicePorts: svc.spec?.ports ?? [] }
  const ip = o.ip ?? hostAddress()
  mkdirSync(o.logDir, { recursive: true })
  const replicas: InClusterReplica[] = []
  const stop = async (): Promise<void> => { await Promise.all(replicas.map(r => r.stop())) }
  try {
    for (let i = 0; i < o.replicas; i++) replicas.push(await startReplica(k, { ...o, ip }, i, template))
  } catch (e) {
    await stop()
    throw e
  }
  return { ip, replicas, stop }
}

/** Waits for the Canary and `<name>-primary` the controller generates for an opted-in Deployment. */
export async function generated(kc: KubeConfig, namespace: string, name = 'podinfo'): Promise<void> {
  const custom = kc.makeApiClient(CustomObjectsApi)
  const apps = kc.makeApiClient(AppsV1Api)
  await until(async () => {
    await custom.getNamespacedCustomObject({ group: 'sluice.dev', version: 'v1beta1', namespace, plural: 'canaries', name })
    return (await apps.readNamespacedDeployment({ name: `${name}-primary`, namespace })).metadata?.name
  }, n => n === `${name}-primary`, `the Canary and ${name}-primary in ${namespace}`, 60_000)
}
