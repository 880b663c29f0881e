// The traffic simulator: watches the cluster through informers, advances every app's counters each
// tick from the router objects as stored, and serves them on GET /metrics for Prometheus to scrape.
import { createServer, type Server } from 'node:http'
import {
  ApiextensionsV1Api, AppsV1Api, CoreV1Api, CustomObjectsApi, NetworkingV1Api, VersionApi,
  type KubeConfig, type KubernetesObject, type V1CustomResourceDefinition, type V1Deployment, type V1Ingress, type V1Pod, type V1Service,
} from '@kubernetes/client-node'
import { createInformer, type Informer } from '../../src/kube/informer.ts'
import type { Canary } from '../../src/api/types.ts'
import { appInputs, indexPods, type ClusterView } from './apps.ts'
import { CONTENT_TYPE, renderExposition } from './exposition.ts'
import { DEFAULT_AB_FRACTION } from './routing.ts'
import { DEFAULT_BUCKETS, tick, type TrafficState } from './traffic.ts'

export const DEFAULT_TICK_MS = 1000
export const DEFAULT_REQUESTS_PER_SECOND = 100

export interface SimulatorOptions {
  readonly kubeConfig: KubeConfig
  readonly host?: string
  /** 0 (the default) picks a free port. */
  readonly port?: number
  readonly tickMs?: number
  /** Per app. */
  readonly requestsPerSecond?: number
  /** Fraction of requests carrying the A/B header or cookie. */
  readonly abFraction?: number
  readonly onError?: (err: unknown, what: string) => void
}

export interface RunningSimulator {
  readonly url: string
  readonly port: number
  stop(): Promise<void>
}

type Listed<T> = { items: T[]; metadata?: { resourceVersion?: string } }
type CustomObject = KubernetesObject & { spec?: unknown }

// A custom resource is watched only while its CRD is established, so a cluster without Gateway API
// (or before sluice's CRDs are installed) costs nothing and the informer does not retry against a 404.
interface GatedInformer {
  get(name: string, namespace: string): CustomObject | undefined
  list(): CustomObject[]
  /** Called with the CRD on every change, undefined when it is deleted; returns the first list of a new informer. */
  update(crd: V1CustomResourceDefinition | undefined): Promise<void> | undefined
  stop(): void
}

function servedVersion(crd: V1CustomResourceDefinition | undefined, preferred: readonly string[]): string | undefined {
  if (!crd?.status?.conditions?.some(c => c.type === 'Established' && c.status === 'True')) return undefined
  const served = new Set(crd.spec.versions.filter(v => v.served).map(v => v.name))
  return preferred.find(v => served.has(v))
}

function gatedInformer(kc: KubeConfig, group: string, plural: string, preferred: readonly string[], onError: (e: unknown) => void): GatedInformer {
  const api = kc.makeApiClient(CustomObjectsApi)
  let current: { version: string; informer: Informer<CustomObject> } | undefined
  return {
    get: (name, namespace) => current?.informer.get(name, namespace),
    list: () => current?.informer.list() ?? [],
    update(crd) {
      const version = servedVersion(crd, preferred)
      if (version === current?.version) return undefined
      current?.informer.stop()
      current = undefined
      if (!version) return undefined
      const informer = createInformer<CustomObject>(kc, {
        path: `/apis/${group}/${version}/${plural}`,
        list: async () => (await api.listClusterCustomObject({ group, version, plural })) as Listed<CustomObject>,
        onError,
      })
      current = { version, informer }
      return informer.start()
    },
    stop() { current?.informer.stop() },
  }
}

// Resolves when every promise has, or after `ms`: an informer still retrying its first list must not
// hold up the start; its objects arrive when it succeeds.
async function settledWithin(promises: readonly Promise<unknown>[], ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<void>(res => { timer = setTimeout(res, ms) })
  await Promise.race([Promise.allSettled(promises), timeout])
  clearTimeout(timer)
}

async function listen(server: Server, host: string, port: number): Promise<number> {
  await new Promise<void>((res, rej) => {
    server.once('error', rej)
    server.listen(port, host, () => { server.off('error', rej); res() })
  })
  return (server.address() as { port: number }).port
}

// client-node's ApiException message carries the whole response with headers; the status message is enough.
function describe(err: unknown): string {
  const e = err as { code?: unknown; body?: unknown }
  if (typeof e?.code === 'number' && typeof e.body === 'string') {
    try {
      return `HTTP ${e.code}: ${(JSON.parse(e.body) as { message?: string }).message ?? e.body}`
    } catch {
      return `HTTP ${e.code}: ${e.body}`
    }
  }
  return err instanceof Error ? err.message : String(err)
}

export async function startSimulator(options: SimulatorOptions): Promise<RunningSimulator> {
  const kc = options.kubeConfig
  const host = options.host ?? '127.0.0.1'
  const tickMs = options.tickMs ?? DEFAULT_TICK_MS
  const requestsPerSecond = options.requestsPerSecond ?? DEFAULT_REQUESTS_PER_SECOND
  const abFraction = options.abFraction ?? DEFAULT_AB_FRACTION
  const report = options.onError ?? ((err: unknown, what: string) => { process.stderr.write(`simulator: ${what}: ${describe(err)}\n`) })
  const watchError = (what: string) => (err: unknown): void => report(err, `watching ${what}`)

  // Fails fast on an unreachable cluster; the informers would retry forever instead.
  await kc.makeApiClient(VersionApi).getCode()

  const apps = kc.makeApiClient(AppsV1Api)
  const core = kc.makeApiClient(CoreV1Api)
  const net = kc.makeApiClient(NetworkingV1Api)
  const ext = kc.makeApiClient(ApiextensionsV1Api)
  const deployments = createInformer<V1Deployment>(kc, {
    path: '/apis/apps/v1/deployments', list: () => apps.listDeploymentForAllNamespaces(), onError: watchError('deployments'),
  })
  const pods = createInformer<V1Pod>(kc, { path: '/api/v1/pods', list: () => core.listPodForAllNamespaces(), onError: watchError('pods') })
  const services = createInformer<V1Service>(kc, {
    path: '/api/v1/services', list: () => core.listServiceForAllNamespaces(), onError: watchError('services'),
  })
  const ingresses = createInformer<V1Ingress>(kc, {
    path: '/apis/networking.k8s.io/v1/ingresses', list: () => net.listIngressForAllNamespaces(), onError: watchError('ingresses'),
  })
  const crds = createInformer<V1CustomResourceDefinition>(kc, {
    path: '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', list: () => ext.listCustomResourceDefinition(), onError: watchError('CRDs'),
  })
  const gated = new Map<string, GatedInformer>([
    ['canaries.sluice.dev', gatedInformer(kc, 'sluice.dev', 'canaries', ['v1beta1'], watchError('canaries'))],
    // Flagger's own Canaries (bench/peer runs Flagger beside sluice): their targets are apps too.
    ['canaries.flagger.app', gatedInformer(kc, 'flagger.app', 'canaries', ['v1beta1'], watchError('flagger canaries'))],
    ['httproutes.gateway.networking.k8s.io', gatedInformer(kc, 'gateway.networking.k8s.io', 'httproutes', ['v1', 'v1beta1'], watchError('httproutes'))],
    ['virtualservices.networking.istio.io', gatedInformer(kc, 'networking.istio.io', 'virtualservices', ['v1'], watchError('virtualservices'))],
    ['traefikservices.traefik.io', gatedInformer(kc, 'traefik.io', 'traefikservices', ['v1alpha1'], watchError('traefikservices'))],
    ['httpproxies.projectcontour.io', gatedInformer(kc, 'projectcontour.io', 'httpproxies', ['v1'], watchError('httpproxies'))],
    ['trafficsplits.split.smi-spec.io', gatedInformer(kc, 'split.smi-spec.io', 'trafficsplits', ['v1alpha2'], watchError('trafficsplits'))],
  ])
  const firstLists: Promise<void>[] = []
  crds.on((crd, event) => {
    const g = gated.get(crd.metadata?.name ?? '')
    const started = g?.update(event === 'delete' ? undefined : crd)
    if (started) firstLists.push(started)
  })
  const informers: { stop(): void }[] = [deployments, pods, services, ingresses, crds, ...gated.values()]
  const stopInformers = (): void => { for (const i of informers) i.stop() }

  const state: TrafficState = new Map()
  let podIndex = new Map<string, V1Pod[]>()
  const view: ClusterView = {
    deployments: () => deployments.list(),
    deployment: (ns, name) => deployments.get(name, ns),
    canaries: () => [...gated.get('canaries.sluice.dev')?.list() ?? [], ...gated.get('canaries.flagger.app')?.list() ?? []] as unknown as Canary[],
    ingress: (ns, name) => ingresses.get(name, ns),
    service: (ns, name) => services.get(name, ns),
    httpRoute: (ns, name) => gated.get('httproutes.gateway.networking.k8s.io')?.get(name, ns),
    virtualService: (ns, name) => gated.get('virtualservices.networking.istio.io')?.get(name, ns),
    traefikService: (ns, name) => gated.get('traefikservices.traefik.io')?.get(name, ns),
    httpProxy: (ns, name) => gated.get('httpproxies.projectcontour.io')?.get(name, ns),
    trafficSplit: (ns, name) => gated.get('trafficsplits.split.smi-spec.io')?.get(name, ns),
    pods: (ns, name) => podIndex.get(`${ns}/${name}`) ?? [],
  }

  const server = createServer((req, res) => {
    if (req.method === 'GET' && req.url?.split('?')[0] === '/metrics') {
      res.writeHead(200, { 'Content-Type': CONTENT_TYPE })
      res.end(renderExposition(state, DEFAULT_BUCKETS))
      return
    }
    res.writeHead(404, { 'Content-Type': 'text/plain' })
    res.end('not found: the simulator serves GET /metrics\n')
  })

  let timer: NodeJS.Timeout | undefined
  try {
    await Promise.all([deployments.start(), pods.start(), services.start(), ingresses.start(), crds.start()])
    await settledWithin(firstLists, 10_000)
    let last = performance.now()
    const step = (): void => {
      const now = performance.now()
      // After a stall (a suspended process) the missed time is not made up in one burst.
      const seconds = Math.min(now - last, 10 * tickMs) / 1000
      last = now
      try {
        podIndex = indexPods(pods.list())
        tick(state, appInputs(view, abFraction), seconds, { requestsPerSecond, bounds: DEFAULT_BUCKETS })
      } catch (e) {
        report(e, 'tick')
      }
    }
    step()
    timer = setInterval(step, tickMs)
    const port = await listen(server, host, options.port ?? 0)
    const shown = host.includes(':') ? `[${host}]` : host
    return {
      url: `http://${shown}:${port}`,
      port,
      async stop() {
        clearInterval(timer)
        stopInformers()
        const closed = new Promise<void>(res => server.close(() => res()))
        // Prometheus keeps its scrape connection alive; close() alone would wait for it.
        server.closeAllConnections()
        await closed
      },
    }
  } catch (e) {
    clearInterval(timer)
    stopInformers()
    throw e
  }
}
