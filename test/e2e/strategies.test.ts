// Blue-green and A/B releases end to end: kubectl apply, the webhook, the controller, and what each router's
// objects show over time while the phase machine runs its iterations.
import t, { type Test } from 'tap'
import { NetworkingV1Api } from '@kubernetes/client-node'
import { installGatewayApiCrds } from '../cluster/gateway-api.ts'
import { kubeconfigPath } from '../helpers/kube.ts'
import { until } from '../helpers/wait.ts'
import { apply, deploymentYaml, ingressYaml, IMAGE_V2 } from './apps.ts'
import { admin, canary, core, custom, deployment, eventsOf, phase, recorder, sharedEnvironment, testNamespace } from './env.ts'

const shared = await sharedEnvironment()
t.teardown(() => shared.stop())
const metricsServer = shared.prometheus.url
const net = admin.makeApiClient(NetworkingV1Api)

const MATCH = 'match: [{headers: {x-canary: {exact: insider}}}]'

/** Waits until the canary's Deployment has no replicas, and the primary runs `image`. */
async function promotedTo(ns: string, image: string): Promise<void> {
  await until(() => deployment(ns, 'podinfo'), d => d?.spec?.replicas === 0, 'the canary scaled to zero')
  await until(() => deployment(ns, 'podinfo-primary'), d => d?.spec?.template?.spec?.containers[0]?.image === image, `the primary on ${image}`)
}

/** The phase, iteration and weight the Canary's status shows. */
async function progress(ns: string): Promise<{ phase?: string; iterations: number; weight: number }> {
  const s = (await canary(ns, 'podinfo'))?.status
  if (!s) throw new Error('no status yet')
  return { phase: s.phase, iterations: s.iterations ?? 0, weight: s.canaryWeight ?? 0 }
}

const distinct = <T>(xs: readonly T[]): T[] => xs.filter((x, i) => i === 0 || x !== xs[i - 1])

t.test('4. blue-green on provider kubernetes: iterations on the primary, then the apex switches to the canary, then back to the promoted primary', async t => {
  const { ns } = await testNamespace(t, { metricsServer })
  const sluice = {
    'sluice.dev/strategy': 'blue-green',
    'sluice.dev/port': '9898',
    'sluice.dev/analysis': 'interval: 2s\niterations: 3\nthreshold: 2\n',
  }
  await apply(deploymentYaml({ ns, sluice }))
  await phase(ns, 'podinfo', 'Initialized')
  const apexSelector = async (): Promise<string | undefined> =>
    (await core.readNamespacedService({ name: 'podinfo', namespace: ns })).spec?.selector?.app
  t.equal(await apexSelector(), 'podinfo-primary', 'after initialization the apex selects the primary')

  const selectors = recorder(apexSelector)
  const statuses = recorder(() => progress(ns))
  // The selector first, then the status: the status is written before the router acts, so a status read after a
  // selector is at least as new as the decision that set it.
  const pairs = recorder(async () => ({ selector: await apexSelector(), ...await progress(ns) }))
  await apply(deploymentYaml({ ns, image: IMAGE_V2, sluice }))
  const done = await phase(ns, 'podinfo', 'Succeeded', 180_000, 'Failed')
  const seen = await selectors.stop()
  const status = await statuses.stop()
  const joint = await pairs.stop()

  // The kubernetes router cannot split: the iterations run with every user on the primary, after the last
  // one all traffic goes to the canary for one more checked interval, and the promotion hands it back.
  t.same(seen, ['podinfo-primary', 'podinfo', 'podinfo-primary'], 'apex selector: primary, then the canary, then the promoted primary')
  t.same(distinct(status.map(s => s.iterations)), [0, 1, 2, 3, 4, 0], 'iterations 1..3, then 4 marks "all traffic on the canary", reset on completion')
  const onCanary = status.filter(s => s.iterations === 4)
  t.ok(onCanary.length > 0 && onCanary.every(s => s.weight === 100), `the status says weight 100 while the canary serves everything (saw ${JSON.stringify(onCanary)})`)
  t.ok(status.filter(s => s.iterations >= 1 && s.iterations <= 3).every(s => s.weight === 0), 'weight 0 during the iterations')
  const early = joint.filter(p => p.selector === 'podinfo' && p.phase === 'Progressing' && p.iterations <= 3)
  t.same(early, [], 'the apex never selected the canary before the three iterations had passed')
  t.equal(done.status?.failedChecks, 0, 'no check failed')

  await promotedTo(ns, IMAGE_V2)
  const events = (await eventsOf(ns, 'Canary', 'podinfo')).join('\n')
  for (const i of [1, 2, 3]) t.match(events, new RegExp(`Advance podinfo\\.${ns} canary iteration ${i}/3`), `iteration ${i} was announced`)
  t.match(events, /Routing all traffic to canary/)
  t.match(events, /Promoted: Promotion completed!/)
  t.equal(await apexSelector(), 'podinfo-primary', 'the apex stays on the primary')
})

interface CanaryIngressView { weight?: string; header?: string; value?: string; pattern?: string; cookie?: string }

async function canaryIngress(ns: string): Promise<CanaryIngressView> {
  const a = (await net.readNamespacedIngress({ name: 'podinfo-canary', namespace: ns })).metadata?.annotations ?? {}
  const p = 'nginx.ingress.kubernetes.io/'
  const view: CanaryIngressView = {
    weight: a[`${p}canary-weight`], header: a[`${p}canary-by-header`], value: a[`${p}canary-by-header-value`],
    pattern: a[`${p}canary-by-header-pattern`], cookie: a[`${p}canary-by-cookie`],
  }
  if (a[`${p}canary`] !== 'true') throw new Error('podinfo-canary is not marked as a canary Ingress')
  // JSON comparison in recorder() and t.same must not see undefined keys.
  return Object.fromEntries(Object.entries(view).filter(([, v]) => v !== undefined))
}

t.test('5a. A/B by header through nginx: requests with x-canary: insider reach the canary during the iterations', async t => {
  const { ns } = await testNamespace(t, { metricsServer })
  const sluice = {
    'sluice.dev/strategy': 'ab',
    'sluice.dev/provider': 'nginx',
    'sluice.dev/port': '9898',
    'sluice.dev/spec': 'ingressRef: {apiVersion: networking.k8s.io/v1, kind: Ingress, name: podinfo}\n',
    'sluice.dev/analysis': `interval: 2s\niterations: 3\nthreshold: 2\n${MATCH}\n` +
      'metrics:\n- {name: request-success-rate, interval: 10s, thresholdRange: {min: 99}}\n',
  }
  await apply(ingressYaml(ns))
  await apply(deploymentYaml({ ns, sluice }))
  await phase(ns, 'podinfo', 'Initialized')
  t.same(await canaryIngress(ns), { weight: '0' }, 'initialized: the canary Ingress exists at weight 0')

  const ingresses = recorder(() => canaryIngress(ns))
  const statuses = recorder(() => progress(ns))
  await apply(deploymentYaml({ ns, image: IMAGE_V2, sluice }))
  // The status is written before the router acts on it, so wait for the router, then look at the status.
  const routed = await until(() => canaryIngress(ns), v => v.weight === undefined, 'the canary Ingress routing by header', 120_000)
  t.same(routed, { header: 'x-canary', value: 'insider' }, 'routed by header x-canary=insider, no weight split')
  const during = await progress(ns)
  t.equal(during.phase, 'Progressing', 'while the analysis is Progressing')
  t.ok(during.iterations >= 1, `in its iterations (at ${during.iterations})`)
  t.equal(during.weight, 0, 'A/B keeps the canary weight at 0 in status')
  const done = await phase(ns, 'podinfo', 'Succeeded', 180_000, 'Failed')
  const seen = await ingresses.stop()
  const status = await statuses.stop()

  t.same(seen, [{ weight: '0' }, { header: 'x-canary', value: 'insider' }, { weight: '0' }],
    'canary Ingress: idle, then header routing through the iterations and the promotion, then idle again')
  t.same(await canaryIngress(ns), { weight: '0' }, 'after Succeeded: no header routing, weight 0')
  t.ok(status.every(s => s.weight === 0), 'the status weight stayed 0 throughout')
  t.ok(status.some(s => s.iterations === 3), 'the analysis ran its 3 iterations')
  t.equal(done.status?.failedChecks, 0)
  t.ok((done.status?.checks ?? []).some(r => r.name === 'request-success-rate' && r.verdict === 'pass' && r.value !== null && r.value >= 99),
    'the success rate of the header traffic was measured and passed')
  await promotedTo(ns, IMAGE_V2)
  const events = (await eventsOf(ns, 'Canary', 'podinfo')).join('\n')
  t.match(events, new RegExp(`Advance podinfo\\.${ns} canary iteration 3/3`))
  t.match(events, /Promoted: Promotion completed!/)
})

interface RuleView { headers: string[]; backends: string[] }

const GATEWAY_API = { group: 'gateway.networking.k8s.io', version: 'v1', plural: 'httproutes' } as const

/** Each rule of HTTPRoute podinfo as its header matches ("name=value") and its backends ("service:weight"). */
async function routeRules(ns: string): Promise<RuleView[]> {
  const route = await custom.getNamespacedCustomObject({ ...GATEWAY_API, namespace: ns, name: 'podinfo' }) as {
    spec: { rules: { matches?: { headers?: { name: string; value: string }[] }[]; backendRefs?: { name: string; weight?: number }[] }[] }
  }
  return route.spec.rules.map(r => ({
    headers: (r.matches ?? []).flatMap(m => (m.headers ?? []).map(h => `${h.name}=${h.value}`)),
    backends: (r.backendRefs ?? []).map(b => `${b.name}:${b.weight ?? 1}`),
  }))
}

/** A/B through the HTTPRoute `provider` writes, attached to the parent `gatewayRef` names (YAML, in namespace `ns`). */
async function abThroughHttpRoute(t: Test, provider: string, gatewayRef: (ns: string) => string): Promise<void> {
  await installGatewayApiCrds(kubeconfigPath())
  const { ns } = await testNamespace(t, { metricsServer })
  const sluice = {
    'sluice.dev/strategy': 'ab',
    'sluice.dev/provider': provider,
    'sluice.dev/port': '9898',
    'sluice.dev/spec': `service: {port: 9898, gatewayRefs: [${gatewayRef(ns)}]}\n`,
    'sluice.dev/analysis': `interval: 2s\niterations: 3\nthreshold: 2\n${MATCH}\n`,
  }
  await apply(deploymentYaml({ ns, sluice }))
  await phase(ns, 'podinfo', 'Initialized')
  const idle: RuleView[] = [
    { headers: ['x-canary=insider'], backends: ['podinfo-primary:100', 'podinfo-canary:0'] },
    { headers: [], backends: ['podinfo-primary:100'] },
  ]
  t.same(await routeRules(ns), idle, 'initialized: the header rule and the default rule both send everything to the primary')

  const rules = recorder(() => routeRules(ns))
  await apply(deploymentYaml({ ns, image: IMAGE_V2, sluice }))
  // The status is written before the router acts on it, so wait for the router, then look at the status.
  const changed = await until(() => routeRules(ns), r => JSON.stringify(r) !== JSON.stringify(idle), 'the HTTPRoute routing by header', 120_000)
  const routed: RuleView[] = [
    { headers: ['x-canary=insider'], backends: ['podinfo-primary:0', 'podinfo-canary:100'] },
    { headers: [], backends: ['podinfo-primary:100'] },
  ]
  t.same(changed, routed, 'requests with x-canary: insider go to podinfo-canary, all others to podinfo-primary')
  const during = await progress(ns)
  t.equal(during.phase, 'Progressing', 'while the analysis is Progressing')
  t.ok(during.iterations >= 1, `in its iterations (at ${during.iterations})`)
  const done = await phase(ns, 'podinfo', 'Succeeded', 180_000, 'Failed')
  const seen = await rules.stop()

  t.same(seen, [idle, routed, idle], 'HTTPRoute: idle, then the header rule on the canary through the iterations and the promotion, then idle again')
  t.equal(done.status?.failedChecks, 0)
  await promotedTo(ns, IMAGE_V2)
  t.match((await eventsOf(ns, 'Canary', 'podinfo')).join('\n'), /Promoted: Promotion completed!/)
}

t.test('5b. A/B by header through Gateway API: an HTTPRoute rule for x-canary: insider goes to the canary during the iterations', async t => {
  await abThroughHttpRoute(t, 'gatewayapi', ns => `{name: public, namespace: ${ns}}`)
})

t.test('5c. A/B by header through linkerd\'s Gateway API path: the HTTPRoute on the apex Service (GAMMA) routes x-canary: insider to the canary', async t => {
  await abThroughHttpRoute(t, 'linkerd', () => '{group: "", kind: Service, name: podinfo, port: 9898}')
})
