// In-cluster mode, as `kubectl apply -k manifests/` installs sluice. On a cluster of its own (two kwok nodes,
// and an API server that calls webhooks at their Service's endpoints), since the run's shared cluster has the
// harness's webhook registered under the same configuration names. The manifests' Deployment is scheduled
// (anti-affinity, PDB) as kwok pods; then its containers run here as two pods' worth of processes
// (test/helpers/in-cluster.ts): the ServiceAccount's token at the in-cluster path, the args read from the
// applied Deployment, reached by the API server through the Service.
import t from 'tap'
import { existsSync, readFileSync, realpathSync } from 'node:fs'
import { join, resolve } from 'node:path'
import {
  AdmissionregistrationV1Api, AppsV1Api, CoordinationV1Api, CoreV1Api, DiscoveryV1Api, KubeConfig, PolicyV1Api, type V1Pod, type V1PodDisruptionBudget,
} from '@kubernetes/client-node'
import type { ClusterState } from '../cluster/cluster.ts'
import { generated, inClusterTestCluster, SERVICE_ACCOUNT_DIR, startInCluster, type InClusterContainer, type InClusterReplica } from '../helpers/in-cluster.ts'
import { kubectl, kubectlOk } from '../helpers/kube.ts'
import { app } from '../helpers/manifests.ts'
import { until } from '../helpers/wait.ts'

const ROOT = resolve(import.meta.dirname, '../..')
const NS = 'sluice-system'
const LEASE = 'sluice-controller'
const BLUE_GREEN = { 'sluice.dev/strategy': 'blue-green', 'sluice.dev/port': '9898', 'sluice.dev/analysis': 'interval: 1m\niterations: 2\n' }

let state: ClusterState
const kc = new KubeConfig()

t.setTimeout(420_000)
t.before(async () => {
  state = await inClusterTestCluster(t)
  kc.loadFromFile(state.kubeconfig)
  await kubectlOk(['apply', '--server-side', '-k', join(ROOT, 'manifests')], undefined, state.kubeconfig)
})

const k = (args: readonly string[], input?: string) => kubectl(args, input, state.kubeconfig)
const sluicePods = async (): Promise<V1Pod[]> =>
  (await kc.makeApiClient(CoreV1Api).listNamespacedPod({ namespace: NS, labelSelector: 'app.kubernetes.io/name=sluice' })).items
const isReady = (p: V1Pod): boolean => p.status?.conditions?.some(c => c.type === 'Ready' && c.status === 'True') === true

/** The sum of a metric's samples (all label sets) on one of a replica's telemetry ports. */
async function metric(replica: InClusterReplica, port: string, name: string): Promise<number> {
  const r = await fetch(`http://127.0.0.1:${replica.port(port)}/metrics`)
  const text = await r.text()
  let sum = 0
  for (const line of text.split('\n')) {
    const m = /^(\S+?)(\{.*\})? (\S+)$/.exec(line)
    if (m?.[1] === name) sum += Number(m[3])
  }
  return sum
}
const reviews = (r: InClusterReplica): Promise<number> => metric(r, 'webhook-metrics', 'sluice_admission_review_duration_seconds_count')
const leading = (r: InClusterReplica): Promise<number> => metric(r, 'http-metrics', 'sluice_controller_leader')
const holder = async (): Promise<string | undefined> =>
  (await kc.makeApiClient(CoordinationV1Api).readNamespacedLease({ name: LEASE, namespace: NS })).spec?.holderIdentity

/** What a container's sluice process (the tether's child) has: its environment's names and its mounts (mount point, options). */
function seenBy(c: InClusterContainer): { env: string[]; mounts: Map<string, string> } {
  const tether = c.process.child?.pid
  const pid = readFileSync(`/proc/${tether}/task/${tether}/children`, 'utf8').trim()
  const env = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').map(e => e.split('=')[0]!)
  const mounts = new Map(readFileSync(`/proc/${pid}/mountinfo`, 'utf8').trim().split('\n').map(l => l.split(' ')).map(f => [f[4]!, f[5]!]))
  return { env, mounts }
}

async function appNamespace(name: string): Promise<string> {
  await kc.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name } } })
  return name
}

const disruption = (p: V1PodDisruptionBudget) => ({
  expected: p.status?.expectedPods, healthy: p.status?.currentHealthy, desired: p.status?.desiredHealthy, allowed: p.status?.disruptionsAllowed,
})

/** An eviction, as `kubectl drain` asks for one; the error's HTTP status if refused. */
async function evict(p: V1Pod): Promise<number | undefined> {
  const name = p.metadata?.name ?? ''
  const body = { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name, namespace: NS } }
  return kc.makeApiClient(CoreV1Api).createNamespacedPodEviction({ name, namespace: NS, body }).then(() => undefined, (e: unknown) => (e as { code?: number }).code ?? -1)
}

t.test('the manifests\' Deployment: its two pods on two nodes, and a PDB that lets one go at a time', async t => {
  const d = await kc.makeApiClient(AppsV1Api).readNamespacedDeployment({ name: 'sluice', namespace: NS })
  const term = d.spec?.template.spec?.affinity?.podAntiAffinity?.preferredDuringSchedulingIgnoredDuringExecution?.[0]?.podAffinityTerm
  t.equal(term?.topologyKey, 'kubernetes.io/hostname', 'preferred anti-affinity by node')
  t.same(term?.labelSelector?.matchLabels, d.spec?.selector.matchLabels, 'the anti-affinity selects the Deployment\'s own pods')

  const pods = await until(sluicePods, ps => ps.length === 2 && ps.every(p => p.spec?.nodeName !== undefined && isReady(p)), 'two sluice pods scheduled and Ready')
  t.not(pods[0]!.spec?.nodeName, pods[1]!.spec?.nodeName, 'the scheduler puts them on different nodes')

  const policy = kc.makeApiClient(PolicyV1Api)
  const pdb = await until(() => policy.readNamespacedPodDisruptionBudget({ name: 'sluice', namespace: NS }),
    p => p.status?.observedGeneration === p.metadata?.generation && p.status?.currentHealthy === 2, 'the PDB counting both pods')
  t.same(disruption(pdb), { expected: 2, healthy: 2, desired: 1, allowed: 1 }, 'one replica may be disrupted, never both')

  // A drain of both nodes at once (cordoned first, as kubectl drain does, so no replacement can become Ready):
  // the first eviction is granted, the second refused.
  const nodes = pods.map(p => p.spec!.nodeName!)
  await kubectlOk(['cordon', ...nodes], undefined, state.kubeconfig)
  t.equal(await evict(pods[0]!), undefined, 'the first eviction is granted')
  t.equal(await evict(pods[1]!), 429, 'the second eviction is refused by the PDB')
  await kubectlOk(['uncordon', ...nodes], undefined, state.kubeconfig)

  // kwok's pods serve nothing at their IPs: they leave the Service before the real processes join it.
  await kubectlOk(['-n', NS, 'scale', 'deployment', 'sluice', '--replicas=0'], undefined, state.kubeconfig)
  await until(sluicePods, ps => ps.length === 0, 'the kwok pods gone')
  const discovery = kc.makeApiClient(DiscoveryV1Api)
  await until(async () => (await discovery.listNamespacedEndpointSlice({ namespace: NS, labelSelector: 'kubernetes.io/service-name=sluice' })).items
    .flatMap(s => s.endpoints ?? []).length, n => n === 0, 'the Service without endpoints')
})

t.test('two in-cluster replicas: one leader, both webhooks serve through the Service, and a crash leaves the other in charge', async t => {
  const running = await startInCluster({
    kubeconfig: state.kubeconfig, apiHost: '127.0.0.1', apiPort: state.apiPort, caPem: state.caPem,
    namespace: NS, deployment: 'sluice', service: 'sluice', replicas: 2, logDir: join(state.dir, 'logs', 'in-cluster'),
  })
  t.teardown(() => running.stop())
  const [a, b] = running.replicas as [InClusterReplica, InClusterReplica]
  t.match(a.containers.map(c => c.args[0]), ['webhook', 'controller'], 'the Deployment\'s containers, as it stores them')
  t.ok(a.containers[1]!.args.includes(`--identity=${a.pod}`), '$(POD_NAME) expanded from the downward API env')
  t.notOk(existsSync(join(SERVICE_ACCOUNT_DIR, 'token')), 'no token at the in-cluster path outside the replicas\' mount namespaces')
  for (const c of [...a.containers, ...b.containers]) {
    const seen = seenBy(c)
    // /var/run is a link to /run: the mount point is under /run.
    t.match(seen.mounts.get(realpathSync(SERVICE_ACCOUNT_DIR)), /^ro,/, `${c.name}: the ServiceAccount files mounted read-only at ${SERVICE_ACCOUNT_DIR}`)
    t.ok(seen.env.includes('KUBERNETES_SERVICE_HOST') && !seen.env.includes('KUBECONFIG'), `${c.name}: the in-cluster address, no kubeconfig`)
  }

  const leaderPod = await until(holder, h => h === a.pod || h === b.pod, 'a replica holding the Lease')
  const [leader, follower] = leaderPod === a.pod ? [a, b] : [b, a]
  await until(async () => [await leading(leader), await leading(follower)], v => v[0] === 1 && v[1] === 0, 'the leader gauge 1 on the leader only')

  const hooks = (await kc.makeApiClient(AdmissionregistrationV1Api).readMutatingWebhookConfiguration({ name: 'sluice' })).webhooks ?? []
  t.match(hooks.map(h => h.clientConfig), [{ service: { namespace: NS, name: 'sluice', port: 443 }, url: undefined, caBundle: /^[A-Za-z0-9+/=]+$/ }],
    'the webhook called through the Service, with the CA the replicas wrote')

  const ns1 = await appNamespace('in-cluster-app-1')
  const r = await k(['apply', '-f', '-'], app({ namespace: ns1, replicas: 3, annotations: BLUE_GREEN }))
  t.equal(r.code, 0, r.stderr)
  t.match(r.stderr, /Warning: Deployment .*\/podinfo: first deployment: 3 replica\(s\) go to podinfo-primary/, 'the plan, from the in-cluster webhook')
  const d = await kc.makeApiClient(AppsV1Api).readNamespacedDeployment({ name: 'podinfo', namespace: ns1 })
  t.equal(d.spec?.replicas, 0, 'mutated: the target is held at zero')
  t.equal(d.metadata?.annotations?.['status.sluice.dev/desired-replicas'], '3', 'the user\'s replicas recorded')
  await generated(kc, ns1)
  t.equal(await metric(follower, 'http-metrics', 'sluice_reconcile_duration_seconds_count'), 0, 'the follower does not reconcile')
  t.ok(await metric(leader, 'http-metrics', 'sluice_reconcile_duration_seconds_count') > 0, 'the leader does')

  // The API server picks one of the Service's endpoints per call: server-side dry runs until both have answered.
  const counts = await until(async () => {
    await kubectlOk(['apply', '--dry-run=server', '-f', '-'], app({ namespace: ns1, replicas: 4, annotations: BLUE_GREEN }), state.kubeconfig)
    return [await reviews(a), await reviews(b)]
  }, c => c.every(n => n > 0), 'reviews answered by both replicas', 60_000)
  t.ok(counts.every(n => n > 0), `both webhooks reviewed (${counts.join(', ')})`)

  // The leader crashes (SIGKILL: no Lease release); its endpoint leaves the Service as the pod's would.
  const before = await reviews(follower)
  await leader.stop('SIGUSR2')
  await until(holder, h => h === follower.pod, 'the other replica taking the Lease', 60_000)
  t.equal(await leading(follower), 1, 'the other controller leads')
  const ns2 = await appNamespace('in-cluster-app-2')
  const r2 = await k(['apply', '-f', '-'], app({ namespace: ns2, replicas: 2, annotations: BLUE_GREEN }))
  t.equal(r2.code, 0, r2.stderr)
  t.match(r2.stderr, /first deployment: 2 replica\(s\) go to podinfo-primary/, 'admission still served')
  t.ok(await reviews(follower) > before, 'reviewed by the remaining replica')
  await generated(kc, ns2)
})
