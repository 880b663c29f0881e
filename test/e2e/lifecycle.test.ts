// The life of an app around its releases, end to end: opting a live app in and out, deleting a user's
// Canary, a ConfigMap change released like a new image, and a replica-only change that needs no analysis.
// Opt-in and revert are checked the way users feel them: the apex Service never runs out of ready endpoints.
import t, { type Test } from 'tap'
import { stringify } from 'yaml'
import { STATE_PREFIX } from '../../src/api/annotations.ts'
import { kubectlOk } from '../helpers/kube.ts'
import { until } from '../helpers/wait.ts'
import { apply, deploymentYaml } from './apps.ts'
import { canary, core, deployment, eventsOf, phase, readyEndpoints, sampler, sharedEnvironment, testNamespace, type Sampler } from './env.ts'

const shared = await sharedEnvironment()
t.teardown(() => shared.stop())
const metricsServer = shared.prometheus.url

const MANAGED_BY = 'app.kubernetes.io/managed-by'

/** Blue-green through the apex Service's selector: no traffic split needed, two iterations per release. */
const BLUE_GREEN: Record<string, string> = {
  'sluice.dev/strategy': 'blue-green',
  'sluice.dev/port': '9898',
  'sluice.dev/analysis': 'interval: 2s\niterations: 2\nthreshold: 2\n',
}

/** The user's own Service in front of the app, as it existed before sluice. */
function serviceYaml(ns: string): string {
  return stringify({
    apiVersion: 'v1', kind: 'Service', metadata: { name: 'podinfo', namespace: ns },
    spec: { selector: { app: 'podinfo' }, ports: [{ name: 'http', port: 9898, targetPort: 9898 }] },
  })
}

/** A Canary a user wrote for an unannotated Deployment. */
function userCanaryYaml(ns: string): string {
  return stringify({
    apiVersion: 'sluice.dev/v1beta1', kind: 'Canary', metadata: { name: 'podinfo', namespace: ns },
    spec: {
      provider: 'kubernetes',
      targetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'podinfo' },
      service: { port: 9898 },
      analysis: { interval: '2s', iterations: 2, threshold: 2 },
    },
  })
}

async function service(ns: string, name: string): Promise<{ selector?: Record<string, string>; labels?: Record<string, string> } | undefined> {
  try {
    const s = await core.readNamespacedService({ name, namespace: ns })
    return { ...(s.spec?.selector && { selector: s.spec.selector }), ...(s.metadata?.labels && { labels: s.metadata.labels }) }
  } catch {
    return undefined
  }
}

async function configMapData(ns: string, name: string): Promise<Record<string, string> | undefined> {
  try {
    return (await core.readNamespacedConfigMap({ name, namespace: ns })).data ?? {}
  } catch {
    return undefined
  }
}

async function readyReplicas(ns: string, name: string): Promise<number> {
  return (await deployment(ns, name))?.status?.readyReplicas ?? 0
}

/** The apex selects the primary's pods and the target has no replicas left: the hand-over is complete. */
async function handedOver(ns: string): Promise<void> {
  await until(() => deployment(ns, 'podinfo'), d => d?.spec?.replicas === 0, 'the target scaled to 0', 120_000)
  await until(() => service(ns, 'podinfo'), s => s?.selector?.app === 'podinfo-primary', 'the apex Service selecting podinfo-primary pods', 120_000)
}

/** The user's app before sluice: Deployment (2 replicas) and Service, serving on 2 ready endpoints. */
async function liveApp(t: Test): Promise<string> {
  const { ns } = await testNamespace(t, { metricsServer })
  await apply(deploymentYaml({ ns }))
  await apply(serviceYaml(ns))
  await until(() => readyEndpoints(ns, 'podinfo'), n => n === 2, 'podinfo serving on 2 ready endpoints', 120_000)
  return ns
}

const endpointsOf = (ns: string): Sampler<number> => sampler(() => readyEndpoints(ns, 'podinfo'))

interface HandBack { readonly primary: boolean; readonly targetReady: number }

/**
 * Whether the primary still exists and what the target has ready, sampled throughout a revert. The primary
 * is read first, so the target is never read before it: a right order is never reported wrong.
 */
function handBackOrder(ns: string): Sampler<HandBack> {
  return sampler(async (): Promise<HandBack> => {
    const primary = (await deployment(ns, 'podinfo-primary')) !== undefined
    return { primary, targetReady: await readyReplicas(ns, 'podinfo') }
  })
}

async function assertTargetFirst(t: Test, order: Sampler<HandBack>): Promise<void> {
  const steps = await order.settle()
  const gone = steps.findIndex(s => !s.primary)
  t.ok(gone > 0, `the primary was seen, then gone (saw ${JSON.stringify(steps)})`)
  t.equal(steps[gone]?.targetReady, 2, `the target had its 2 replicas ready when the primary went (saw ${JSON.stringify(steps)})`)
}

function assertNeverEmpty(t: Test, seen: number[], what: string): void {
  t.notOk(seen.includes(0), `${what}: the ready endpoints of podinfo never dropped to 0 (saw ${seen.join(' ')})`)
  t.equal(seen.at(-1), 2, `${what}: and ended at 2`)
}

t.test('8. opting in a live app keeps it serving: the primary takes over before the target is scaled to 0', async t => {
  const ns = await liveApp(t)
  const endpoints = endpointsOf(ns)
  await kubectlOk(['-n', ns, 'annotate', 'deployment', 'podinfo', ...Object.entries(BLUE_GREEN).map(([k, v]) => `${k}=${v}`)])
  const c = await phase(ns, 'podinfo', 'Initialized', 180_000)
  await handedOver(ns)
  await until(() => readyEndpoints(ns, 'podinfo'), n => n === 2, 'podinfo back on 2 ready endpoints (the primary\'s)', 60_000)
  assertNeverEmpty(t, await endpoints.settle(), 'opt-in')
  const primary = await deployment(ns, 'podinfo-primary')
  t.equal(primary?.spec?.replicas, 2, 'the primary runs the replicas the app ran')
  t.equal(primary?.status?.readyReplicas, 2, 'and they are ready')
  t.equal(c.status?.lastAppliedSpec, c.status?.lastPromotedSpec, 'the live version counts as promoted: no analysis on opt-in')
  t.equal((await service(ns, 'podinfo'))?.labels?.[MANAGED_BY], 'sluice', 'sluice manages the apex Service now')
  t.match((await eventsOf(ns, 'Canary', 'podinfo')).join('\n'), /Initialized: Initialization done!/)
})

t.test('9a. opting out gives the app back without downtime and removes what sluice generated', async t => {
  const { ns } = await testNamespace(t, { metricsServer })
  await apply(deploymentYaml({ ns, sluice: BLUE_GREEN }))
  await phase(ns, 'podinfo', 'Initialized', 180_000)
  await handedOver(ns)
  await until(() => readyEndpoints(ns, 'podinfo'), n => n === 2, 'podinfo serving on the primary\'s 2 ready endpoints', 120_000)
  const endpoints = endpointsOf(ns)
  const order = handBackOrder(ns)
  await kubectlOk(['-n', ns, 'annotate', 'deployment', 'podinfo', 'sluice.dev/strategy-', 'sluice.dev/port-', 'sluice.dev/analysis-'])
  await until(() => canary(ns, 'podinfo'), c => c === undefined, 'the generated Canary gone', 180_000)
  await until(() => deployment(ns, 'podinfo-primary'), d => d === undefined, 'podinfo-primary deleted', 60_000)
  await until(() => readyEndpoints(ns, 'podinfo'), n => n === 2, 'podinfo serving on 2 ready endpoints again', 60_000)
  assertNeverEmpty(t, await endpoints.settle(), 'opt-out')
  await assertTargetFirst(t, order)

  for (const name of ['podinfo-primary', 'podinfo-canary']) t.equal(await service(ns, name), undefined, `Service ${name} deleted`)
  const target = await deployment(ns, 'podinfo')
  t.equal(target?.spec?.replicas, 2, 'the target runs the 2 replicas the user asked for again')
  t.equal(target?.status?.readyReplicas, 2, 'and they are ready')
  t.same(Object.keys(target?.metadata?.annotations ?? {}).filter(k => k.startsWith(STATE_PREFIX)), [], `no ${STATE_PREFIX} annotation is left on the Deployment`)
  const apex = await service(ns, 'podinfo')
  t.same(apex?.selector, { app: 'podinfo' }, 'the apex Service selects the target\'s pods')
  t.equal(apex?.labels?.[MANAGED_BY], undefined, 'and is no longer marked as managed by sluice')
})

t.test('9b. deleting a user-written Canary scales the target up before the primary goes, and releases the Canary', async t => {
  const ns = await liveApp(t)
  await apply(userCanaryYaml(ns))
  await phase(ns, 'podinfo', 'Initialized', 180_000)
  await handedOver(ns)
  await until(() => readyEndpoints(ns, 'podinfo'), n => n === 2, 'podinfo serving on the primary\'s 2 ready endpoints', 120_000)
  t.ok((await canary(ns, 'podinfo'))?.metadata.finalizers?.includes('sluice.dev/finalizer'), 'the Canary carries sluice\'s finalizer')

  const endpoints = endpointsOf(ns)
  const order = handBackOrder(ns)
  await kubectlOk(['-n', ns, 'delete', 'canary', 'podinfo', '--wait=false'])
  await until(() => canary(ns, 'podinfo'), c => c === undefined, 'the Canary gone (finalizer released)', 180_000)
  await until(() => deployment(ns, 'podinfo-primary'), d => d === undefined, 'podinfo-primary deleted', 60_000)
  await until(() => readyEndpoints(ns, 'podinfo'), n => n === 2, 'podinfo serving on 2 ready endpoints again', 60_000)
  assertNeverEmpty(t, await endpoints.settle(), 'Canary deletion')
  await assertTargetFirst(t, order)

  t.equal((await deployment(ns, 'podinfo'))?.spec?.replicas, 2, 'the target runs 2 replicas again')
  t.same((await service(ns, 'podinfo'))?.selector, { app: 'podinfo' }, 'the apex Service selects the target\'s pods')
  for (const name of ['podinfo-primary', 'podinfo-canary']) t.equal(await service(ns, name), undefined, `Service ${name} deleted`)
})

const TRACKED = 'configmap/podinfo-config'

/** The ConfigMap the first env var of a Deployment's container reads. */
async function envConfigMap(ns: string, name: string): Promise<string | undefined> {
  return (await deployment(ns, name))?.spec?.template?.spec?.containers[0]?.env?.[0]?.valueFrom?.configMapKeyRef?.name
}

t.test('10. a change of a tracked ConfigMap is released like a new version', async t => {
  const { ns } = await testNamespace(t, { metricsServer })
  await apply(stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'podinfo-config', namespace: ns }, data: { message: 'v1' } }))
  const env = [{ name: 'PODINFO_UI_MESSAGE', valueFrom: { configMapKeyRef: { name: 'podinfo-config', key: 'message' } } }]
  await apply(deploymentYaml({ ns, sluice: BLUE_GREEN, containerExtra: { env } }))
  const first = (await phase(ns, 'podinfo', 'Initialized', 180_000)).status ?? {}
  t.ok(first.lastAppliedSpec, 'the first revision is recorded')
  t.same(Object.keys(first.trackedConfigs ?? {}), [TRACKED], 'status.trackedConfigs names the ConfigMap')
  t.same(await configMapData(ns, 'podinfo-config-primary'), { message: 'v1' }, 'podinfo-config-primary is a copy of the ConfigMap')
  t.equal(await envConfigMap(ns, 'podinfo-primary'), 'podinfo-config-primary', 'the primary reads the copy')
  t.equal(await envConfigMap(ns, 'podinfo'), 'podinfo-config', 'the target still reads the ConfigMap itself')

  await kubectlOk(['-n', ns, 'patch', 'configmap', 'podinfo-config', '--type', 'merge', '-p', JSON.stringify({ data: { message: 'v2' } })])
  const progressing = (await phase(ns, 'podinfo', 'Progressing', 120_000, 'Failed')).status ?? {}
  t.not(progressing.lastAppliedSpec, first.lastAppliedSpec, 'the config change is a new revision')
  t.not(progressing.trackedConfigs?.[TRACKED], first.trackedConfigs?.[TRACKED], 'the tracked hash follows the ConfigMap')
  t.same(await configMapData(ns, 'podinfo-config-primary'), { message: 'v1' }, 'the primary keeps the old config during the analysis')
  const succeeded = (await phase(ns, 'podinfo', 'Succeeded', 180_000, 'Failed')).status ?? {}
  t.equal(succeeded.lastPromotedSpec, progressing.lastAppliedSpec, 'the new revision was promoted')
  t.same(await configMapData(ns, 'podinfo-config-primary'), { message: 'v2' }, 'podinfo-config-primary now holds the new data')
  t.same(Object.keys(succeeded.trackedConfigs ?? {}), [TRACKED], 'still tracked')
  t.equal((await deployment(ns, 'podinfo'))?.spec?.replicas, 0, 'the canary is scaled down')
})

t.test('11. a replica-only change goes to the primary at once, without analysis', async t => {
  const { ns } = await testNamespace(t, { metricsServer })
  await apply(deploymentYaml({ ns, sluice: BLUE_GREEN }))
  const before = await phase(ns, 'podinfo', 'Initialized', 180_000)
  await handedOver(ns)
  const phases = sampler(async () => (await canary(ns, 'podinfo'))?.status?.phase)
  const warnings = await apply(deploymentYaml({ ns, sluice: BLUE_GREEN, replicas: 4 }))
  t.match(warnings, /replicas 4 go to podinfo-primary at once, without analysis/, 'the apply says what happens')
  await until(() => deployment(ns, 'podinfo-primary'), d => d?.spec?.replicas === 4 && d.status?.readyReplicas === 4, 'the primary at 4 ready replicas', 120_000)
  // Let the controller see the primary's new state once more before judging the phases it went through.
  await until(() => readyEndpoints(ns, 'podinfo'), n => n === 4, 'the apex Service on 4 ready endpoints', 60_000)
  const seen = await phases.settle()
  t.same(seen, ['Initialized'], `the Canary stayed Initialized throughout (saw ${seen.join(' ')})`)
  const target = await deployment(ns, 'podinfo')
  t.equal(target?.spec?.replicas, 0, 'the target stays at 0')
  t.equal(target?.metadata?.annotations?.['status.sluice.dev/desired-replicas'], '4', 'the user\'s count is recorded')
  const after = await canary(ns, 'podinfo')
  t.equal(after?.status?.lastAppliedSpec, before.status?.lastAppliedSpec, 'lastAppliedSpec is unchanged')
  t.equal(after?.status?.phase, 'Initialized')
})
