// The traffic simulator against the real cluster and a real Prometheus: the router objects sluice
// would have written decide what the builtin queries see.
import t, { type Test } from 'tap'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { resolve } from 'node:path'
import { AppsV1Api, CustomObjectsApi } from '@kubernetes/client-node'
import { builtinQuery, createPrometheusProvider, renderQuery, templateVars } from '../../../src/metrics/index.ts'
import type { Canary } from '../../../src/api/types.ts'
import { virtualService } from '../../../src/router/istio.ts'
import { traefikService } from '../../../src/router/traefik.ts'
import { installIstioCrds } from '../../cluster/istio.ts'
import { installTraefikCrds } from '../../cluster/traefik.ts'
import { httpProxy } from '../../../src/router/contour.ts'
import { installContourCrds } from '../../cluster/contour.ts'
import { installLinkerdCrds } from '../../cluster/linkerd.ts'
import { installFlaggerCrds } from '../../cluster/flagger.ts'
import { trafficSplit } from '../../../src/router/linkerd.ts'
import { startPrometheus } from '../../cluster/prometheus.ts'
import { httpsGet } from '../../cluster/process.ts'
import { kubeConfig, kubeconfigPath, kubectlOk, namespace } from '../../helpers/kube.ts'
import { canary, deployment, ingress, manifest } from '../../helpers/objects.ts'
import { until } from '../../helpers/wait.ts'
import { startSimulator } from '../../simulator/simulator.ts'

const admin = kubeConfig()
const apps = admin.makeApiClient(AppsV1Api)
const custom = admin.makeApiClient(CustomObjectsApi)

const sim = await startSimulator({ kubeConfig: admin })
t.teardown(() => sim.stop())
const prom = await startPrometheus([{ job_name: 'simulator', static_configs: [{ targets: [new URL(sim.url).host] }] }])
t.teardown(() => prom.stop())
const provider = createPrometheusProvider({ address: prom.url, timeoutMs: 5000 })

/** `name` with `replicas`, its sluice annotations and its pod template's (the simulator's behaviour), as kubectl applies it. */
function deploymentJson(ns: string, name: string, replicas: number, annotations: Record<string, string>, template: Record<string, string> = {}): string {
  return JSON.stringify(manifest(deployment({ metadata: { name, namespace: ns, annotations }, spec: { replicas, template: { metadata: { annotations: template } } } })))
}

function ingressJson(ns: string, name: string, backend: string, annotations: Record<string, string> = {}): string {
  return JSON.stringify(manifest(ingress({ metadata: { name, namespace: ns, annotations } }, backend)))
}

async function ready(ns: string, name: string, replicas: number): Promise<void> {
  await until(() => apps.readNamespacedDeployment({ name, namespace: ns }), d => d.status?.readyReplicas === replicas, `${ns}/${name} with ${replicas} ready`)
}

/** Polls the query until its value is within 2 of `expected`; the last value seen is in the timeout message. */
async function settlesNear(q: string, expected: number): Promise<number> {
  return await until(() => provider.query(q).catch((e: unknown) => e), v => typeof v === 'number' && Math.abs(v - expected) < 2,
    `${q} ≈ ${expected}`, 90_000) as number
}

t.test('nginx at canary-weight 50 with a canary failing half its requests: success rate 50', async t => {
  const ns = await namespace(t)
  const strategy = {
    'sluice.dev/strategy': 'canary', 'sluice.dev/provider': 'nginx', 'sluice.dev/port': '9898',
    'sluice.dev/spec': 'ingressRef: {apiVersion: networking.k8s.io/v1, kind: Ingress, name: podinfo}\n',
    'sluice.dev/analysis': '{interval: 1m, threshold: 5, maxWeight: 50, stepWeight: 10}',
  }
  const failing = { 'simulator.sluice.dev/error-rate': '0.5' }
  // Created first without the opt-in: the webhook holds a new app's target at 0 replicas, whereas an
  // app opted in while live keeps its replicas, which the canary side needs here.
  await kubectlOk(['apply', '-f', '-'], deploymentJson(ns, 'podinfo', 1, {}, failing))
  await kubectlOk(['apply', '-f', '-'], deploymentJson(ns, 'podinfo', 1, strategy, failing))
  await kubectlOk(['apply', '-f', '-'], deploymentJson(ns, 'podinfo-primary', 2, {}))
  await kubectlOk(['apply', '-f', '-'], ingressJson(ns, 'podinfo', 'podinfo'))
  await kubectlOk(['apply', '-f', '-'], ingressJson(ns, 'podinfo-canary', 'podinfo-canary', {
    'nginx.ingress.kubernetes.io/canary': 'true', 'nginx.ingress.kubernetes.io/canary-weight': '50',
  }))
  const stored = await custom.createNamespacedCustomObject({ group: 'sluice.dev', version: 'v1beta1', namespace: ns, plural: 'canaries', body: manifest(canary({
    metadata: { namespace: ns },
    spec: { provider: 'nginx', ingressRef: { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', name: 'podinfo' }, analysis: { interval: '1m', stepWeight: 50 } },
  })) }) as Canary
  const held = await apps.readNamespacedDeployment({ name: 'podinfo', namespace: ns })
  t.equal(held.spec?.replicas, 1, 'opting in a live app kept its replica')
  await ready(ns, 'podinfo', 1)
  await ready(ns, 'podinfo-primary', 2)

  const vars = templateVars(stored, { name: 'request-success-rate', interval: '10s' })
  t.equal(vars.ingress, 'podinfo')
  const nginx = await settlesNear(renderQuery(builtinQuery('nginx', 'request-success-rate'), vars), 50)
  t.ok(Math.abs(nginx - 50) < 2, `nginx request-success-rate ≈ 50 (got ${nginx})`)
  // The generic query selects the target's pods only (not podinfo-primary-…): they fail half of what they serve.
  const pods = await settlesNear(renderQuery(builtinQuery('kubernetes', 'request-success-rate'), vars), 50)
  t.ok(Math.abs(pods - 50) < 2, `per-pod request-success-rate of the canary ≈ 50 (got ${pods})`)
  const split = await until(() => prom.query(`sum by (canary) (rate(nginx_ingress_controller_requests{namespace="${ns}"}[10s]))`),
    r => r.length === 2 && r.every(s => Math.abs(Number(s.value[1]) - 50) < 5), 'about 50 requests/s on each side')
  // Prometheus drops an empty label, so the primary's canary="" series has no canary label at all.
  t.same(split.map(s => s.metric.canary ?? '').sort(), ['', 'podinfo-canary'], 'the primary unlabelled, the canary by its Service')
})

t.test('flagger: the target of a flagger.app Canary is an app; its primary, controlled by the Canary, is its primary side only', async t => {
  await installFlaggerCrds(kubeconfigPath())
  const ns = await namespace(t)
  // Flagger's Canary as bench/peer writes it: no sluice.dev annotation anywhere, provider nginx.
  const stored = await custom.createNamespacedCustomObject({ group: 'flagger.app', version: 'v1beta1', namespace: ns, plural: 'canaries', body: {
    apiVersion: 'flagger.app/v1beta1', kind: 'Canary', metadata: { name: 'podinfo', namespace: ns },
    spec: {
      provider: 'nginx', targetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'podinfo' },
      ingressRef: { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', name: 'podinfo' }, service: { port: 9898 },
      analysis: { interval: '10s', threshold: 2, maxWeight: 60, stepWeight: 20 },
    },
  } }) as { metadata: { uid: string } }
  await kubectlOk(['apply', '-f', '-'], deploymentJson(ns, 'podinfo', 1, {}, { 'simulator.sluice.dev/error-rate': '0.5' }))
  // Flagger's primary: controlled by the Canary, with the target's annotations copied as Flagger copies them (sluice's
  // here, as on a target opted in to both). Created live first: the webhook keeps a live app's replicas.
  const primary = (annotations: Record<string, string>): string => JSON.stringify({ ...JSON.parse(deploymentJson(ns, 'podinfo-primary', 1, {})) as object, metadata: {
    name: 'podinfo-primary', namespace: ns, annotations,
    ownerReferences: [{ apiVersion: 'flagger.app/v1beta1', kind: 'Canary', name: 'podinfo', uid: stored.metadata.uid, controller: true }],
  } })
  await kubectlOk(['apply', '-f', '-'], primary({}))
  await kubectlOk(['apply', '-f', '-'], primary({
    'sluice.dev/strategy': 'canary', 'sluice.dev/provider': 'nginx', 'sluice.dev/port': '9898',
    'sluice.dev/spec': 'ingressRef: {apiVersion: networking.k8s.io/v1, kind: Ingress, name: podinfo}\n',
    'sluice.dev/analysis': '{interval: 10s, threshold: 2, maxWeight: 60, stepWeight: 20}',
  }))
  await kubectlOk(['apply', '-f', '-'], ingressJson(ns, 'podinfo', 'podinfo'))
  await kubectlOk(['apply', '-f', '-'], ingressJson(ns, 'podinfo-canary', 'podinfo-canary', {
    'nginx.ingress.kubernetes.io/canary': 'true', 'nginx.ingress.kubernetes.io/canary-weight': '50',
  }))
  await ready(ns, 'podinfo', 1)
  await ready(ns, 'podinfo-primary', 1)
  // Flagger's builtin nginx query has the same selector as sluice's: namespace, ingress, canary!="".
  const vars = { namespace: ns, ingress: 'podinfo', interval: '10s', name: 'podinfo', target: 'podinfo', service: 'podinfo' }
  const rate = await settlesNear(renderQuery(builtinQuery('nginx', 'request-success-rate'), vars), 50)
  t.ok(Math.abs(rate - 50) < 2, `nginx request-success-rate of the Flagger canary ≈ 50 (got ${rate})`)
  // Taken for an app, the primary would add series of its own canary side (podinfo-primary-canary).
  const sides = await until(() => prom.query(`count by (canary) (nginx_ingress_controller_requests{namespace="${ns}"})`),
    r => r.length > 0, 'the app\'s series')
  t.same(sides.map(s => s.metric.canary ?? '').sort(), ['', 'podinfo-canary'], 'one app: the primary unlabelled, the canary by its Service')
})

t.test('kubernetes: the apex Service switched to a healthy canary gives success rate 100', async t => {
  const ns = await namespace(t)
  const strategy = { 'sluice.dev/strategy': 'blue-green', 'sluice.dev/port': '9898', 'sluice.dev/analysis': '{interval: 1m, threshold: 5, iterations: 10}' }
  await kubectlOk(['apply', '-f', '-'], deploymentJson(ns, 'backend', 2, {}, { 'simulator.sluice.dev/latency-ms': '30' }))
  await kubectlOk(['apply', '-f', '-'], deploymentJson(ns, 'backend', 2, strategy, { 'simulator.sluice.dev/latency-ms': '30' }))
  // The primary fails everything: any of its requests in the canary's query would show.
  await kubectlOk(['apply', '-f', '-'], deploymentJson(ns, 'backend-primary', 1, {}, { 'simulator.sluice.dev/error-rate': '1' }))
  await kubectlOk(['apply', '-f', '-'], JSON.stringify({
    apiVersion: 'v1', kind: 'Service', metadata: { name: 'backend', namespace: ns },
    spec: { selector: { app: 'backend' }, ports: [{ name: 'http', port: 9898 }] },
  }))
  await ready(ns, 'backend', 2)
  await ready(ns, 'backend-primary', 1)
  // No Canary object: the simulator resolves the provider (kubernetes, the default) from the annotations.
  const vars = { namespace: ns, target: 'backend', service: 'backend', interval: '10s', name: 'backend' }
  const rate = await settlesNear(renderQuery(builtinQuery('kubernetes', 'request-success-rate'), vars), 100)
  t.ok(Math.abs(rate - 100) < 2, `request-success-rate ≈ 100 (got ${rate})`)
  const p99 = await until(() => provider.query(renderQuery(builtinQuery('kubernetes', 'request-duration'), vars)).catch((e: unknown) => e),
    v => typeof v === 'number', 'a request-duration value') as number
  // 30 ms lands in the (25 ms, 50 ms] bucket: the p99 interpolates to 25 + 25 × 0.99 ms.
  t.ok(Math.abs(p99 - 49.75) < 0.5, `request-duration p99 ≈ 49.75 ms (got ${p99})`)
})

/**
 * The canary `podinfo` failing half its requests in 30 ms and a primary failing all of them in 400 ms (any of its requests
 * in the canary's query would show), a Canary for `router`, and the router's object (`plural`) as `build` writes it,
 * without the generated metadata (the admin writes it here). The Canary is returned.
 */
type RouterObject = { apiVersion: string; kind: string; metadata: { name: string }; spec: unknown }
async function failingCanary(ns: string, router: 'istio' | 'linkerd' | 'traefik' | 'contour', plural: string, build: (stored: Canary) => RouterObject): Promise<Canary> {
  await kubectlOk(['apply', '-f', '-'], deploymentJson(ns, 'podinfo', 1, {}, { 'simulator.sluice.dev/error-rate': '0.5', 'simulator.sluice.dev/latency-ms': '30' }))
  await kubectlOk(['apply', '-f', '-'], deploymentJson(ns, 'podinfo-primary', 1, {}, { 'simulator.sluice.dev/error-rate': '1', 'simulator.sluice.dev/latency-ms': '400' }))
  const stored = await custom.createNamespacedCustomObject({ group: 'sluice.dev', version: 'v1beta1', namespace: ns, plural: 'canaries', body: manifest(canary({
    metadata: { namespace: ns }, spec: { provider: router, analysis: { interval: '1m', stepWeight: 10 } },
  })) }) as Canary
  const o = build(stored)
  const [group = '', version = ''] = o.apiVersion.split('/')
  await custom.createNamespacedCustomObject({ group, version, namespace: ns, plural, body: {
    apiVersion: o.apiVersion, kind: o.kind, metadata: { name: o.metadata.name, namespace: ns }, spec: o.spec,
  } })
  await ready(ns, 'podinfo', 1)
  await ready(ns, 'podinfo-primary', 1)
  return stored
}

/** The provider's builtin queries see the canary alone: a success rate of 50, and 30 ms in the (25, 50] ms bucket. */
async function builtinsSeeTheCanary(t: Test, router: 'istio' | 'linkerd' | 'traefik' | 'contour', stored: Canary, what: string): Promise<void> {
  const vars = templateVars(stored, { name: 'request-success-rate', interval: '10s' })
  const rate = await settlesNear(renderQuery(builtinQuery(router, 'request-success-rate'), vars), 50)
  t.ok(Math.abs(rate - 50) < 2, `${router} request-success-rate of the canary's ${what} ≈ 50 (got ${rate})`)
  const p99 = await until(() => provider.query(renderQuery(builtinQuery(router, 'request-duration'), vars)).catch((e: unknown) => e),
    v => typeof v === 'number', 'a request-duration value') as number
  // The p99 interpolates to 25 + 25 × 0.99 ms, in milliseconds whatever unit the provider counts in.
  t.ok(Math.abs(p99 - 49.75) < 0.5, `${router} request-duration p99 ≈ 49.75 ms (got ${p99})`)
}

t.test('istio: a VirtualService at 50/50 with a canary failing half its requests: istio\'s builtin queries see the canary\'s workload', async t => {
  await installIstioCrds(kubeconfigPath())
  const ns = await namespace(t)
  const stored = await failingCanary(ns, 'istio', 'virtualservices', c => virtualService(c, { primary: 50, canary: 50 }))
  await builtinsSeeTheCanary(t, 'istio', stored, 'workload')
  const split = await until(() => prom.query(`sum by (destination_workload) (rate(istio_requests_total{reporter="destination",destination_workload_namespace="${ns}"}[10s]))`),
    r => r.length === 2 && r.every(s => Math.abs(Number(s.value[1]) - 50) < 5), 'about 50 requests/s on each workload')
  t.same(split.map(s => s.metric.destination_workload).sort(), ['podinfo', 'podinfo-primary'], 'each side by its Deployment')
})

t.test('linkerd: a TrafficSplit at 50/50 with a canary failing half its requests: linkerd\'s builtin queries see the canary\'s deployment', async t => {
  await installLinkerdCrds(kubeconfigPath())
  const ns = await namespace(t)
  const stored = await failingCanary(ns, 'linkerd', 'trafficsplits', c => trafficSplit(c, { primary: 50, canary: 50 }))
  await builtinsSeeTheCanary(t, 'linkerd', stored, 'deployment')
  const split = await until(() => prom.query(`sum by (deployment) (rate(response_total{namespace="${ns}",direction="inbound"}[10s]))`),
    r => r.length === 2 && r.every(s => Math.abs(Number(s.value[1]) - 50) < 5), 'about 50 requests/s on each side')
  t.same(split.map(s => s.metric.deployment).sort(), ['podinfo', 'podinfo-primary'], 'each side by its Deployment')
})

t.test('traefik: a TraefikService at 70/30 with a canary failing half its requests: traefik\'s builtin queries see the canary\'s Service', async t => {
  await installTraefikCrds(kubeconfigPath())
  const ns = await namespace(t)
  const stored = await failingCanary(ns, 'traefik', 'traefikservices', c => traefikService(c, { primary: 70, canary: 30 }))
  await builtinsSeeTheCanary(t, 'traefik', stored, 'Service')
  const near = (v: string, want: number): boolean => Math.abs(Number(v) - want) < 5
  const split = await until(() => prom.query(`sum by (service) (rate(traefik_service_requests_total{service=~"${ns}-.*"}[10s]))`),
    r => r.length === 2 && r.some(s => s.metric.service?.includes('-canary-') === true && near(s.value[1], 30)) && r.some(s => near(s.value[1], 70)),
    'about 70 requests/s on the primary and 30 on the canary')
  t.same(split.map(s => s.metric.service).sort(), [`${ns}-podinfo-canary-9898@kubernetescrd`, `${ns}-podinfo-primary-9898@kubernetescrd`],
    'each side by the name Traefik gives its Service')
})

t.test('contour: an HTTPProxy at 70/30 with a canary failing half its requests: contour\'s builtin queries see the canary\'s cluster', async t => {
  await installContourCrds(kubeconfigPath())
  const ns = await namespace(t)
  const stored = await failingCanary(ns, 'contour', 'httpproxies', c => httpProxy(c, { primary: 70, canary: 30 }))
  await builtinsSeeTheCanary(t, 'contour', stored, 'cluster')
  const perCluster = async (): Promise<Record<string, number>> => Object.fromEntries((await prom.query(
    `sum by (envoy_cluster_name) (rate(envoy_cluster_upstream_rq{envoy_cluster_name=~"${ns}_.*"}[10s]))`)).map(x => [String(x.metric.envoy_cluster_name), Number(x.value[1])]))
  const canaryShare = (r: Record<string, number>): number => (r[`${ns}_podinfo-canary_9898`] ?? 0) / Object.values(r).reduce((a, b) => a + b, 0)
  // The share settles once the rate window holds only requests made after both sides were ready.
  const rates = await until(perCluster, r => Object.keys(r).length === 2 && Math.abs(canaryShare(r) - 0.3) < 0.05, 'the canary cluster at about 30% of the requests')
  t.same(Object.keys(rates).sort(), [`${ns}_podinfo-canary_9898`, `${ns}_podinfo-primary_9898`],
    `one series per side Service's cluster, split 70/30 as the HTTPProxy says (canary share ${canaryShare(rates).toFixed(2)})`)
})

t.test('the CLI prints its URL, serves /metrics and exits cleanly on SIGTERM', async t => {
  const cli = resolve(import.meta.dirname, '../../simulator/cli.ts')
  const child = spawn(process.execPath, [cli, '--kubeconfig', kubeconfigPath(), '--listen', '127.0.0.1:0'], { stdio: ['ignore', 'pipe', 'pipe'] })
  t.teardown(() => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL') })
  let stderr = ''
  child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d })
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>
  child.stdout.setEncoding('utf8')
  const [line] = await Promise.race([once(child.stdout, 'data') as Promise<[string]>, exited.then(() => { throw new Error(`cli exited: ${stderr}`) })])
  const url = line.trim()
  t.match(url, /^http:\/\/127\.0\.0\.1:\d+$/)
  const res = await httpsGet(`${url}/metrics`, undefined, 5000)
  t.equal(res.status, 200)
  t.match(res.body, '# TYPE http_request_duration_seconds histogram')
  child.kill('SIGTERM')
  const [code, signal] = await exited
  t.same({ code, signal }, { code: 0, signal: null }, `exit 0 (stderr: ${stderr})`)
})
