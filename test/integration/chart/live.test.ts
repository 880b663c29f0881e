// The chart as a user installs it, CRDs and webhook configurations included, with sluice then serving from
// the release's objects. On a cluster of its own (test/helpers/in-cluster.ts): the run's shared cluster has
// the harness's configurations named sluice and its CRDs, so install.test.ts turns both off there. The
// installed Deployment's containers run here as two pods' worth of processes (startInCluster), reached by the
// API server through the release's Service; then helm upgrade and helm uninstall, checked by what the API
// server stores and by what it does with the next kubectl apply.
import t, { type Test } from 'tap'
import { join } from 'node:path'
import {
  AdmissionregistrationV1Api, AppsV1Api, CustomObjectsApi, KubeConfig, Watch,
  type V1MutatingWebhookConfiguration, type V1ValidatingWebhookConfiguration,
} from '@kubernetes/client-node'
import type { ClusterState } from '../../cluster/cluster.ts'
import { CHART_DIR, helmOk } from '../../helpers/helm.ts'
import { generated, inClusterTestCluster, startInCluster, type InCluster } from '../../helpers/in-cluster.ts'
import { absent, kubectl, kubectlOk } from '../../helpers/kube.ts'
import { app } from '../../helpers/manifests.ts'
import { until } from '../../helpers/wait.ts'

const NS = 'sluice-system'
const RELEASE = 'sluice'
const POLICY = 'chart-live'
const BLUE_GREEN = { 'sluice.dev/strategy': 'blue-green', 'sluice.dev/port': '9898', 'sluice.dev/analysis': 'interval: 1m\niterations: 2\n' }
const CONFIG_PATHS = {
  mutating: '/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations',
  validating: '/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations',
} as const
type Configuration = V1MutatingWebhookConfiguration | V1ValidatingWebhookConfiguration

let state: ClusterState
let running: InCluster | undefined
const kc = new KubeConfig()
const admission = () => kc.makeApiClient(AdmissionregistrationV1Api)
const k = (args: readonly string[], input?: string) => kubectl(args, input, state.kubeconfig)
const helmHere = (args: readonly string[]) => helmOk([...args, '--kubeconfig', state.kubeconfig])

t.setTimeout(420_000)
t.before(async () => {
  state = await inClusterTestCluster(t)
  kc.loadFromFile(state.kubeconfig)
  // kwok would run the chart's pods at addresses that serve nothing and name them in the Service: with both
  // nodes cordoned they stay Pending, and the processes below are the release's only endpoints.
  await kubectlOk(['cordon', 'kwok-node-0', 'kwok-node-1'], undefined, state.kubeconfig)
})
t.teardown(async () => { await running?.stop() })

const configurations = async (): Promise<Record<keyof typeof CONFIG_PATHS, Configuration>> => ({
  mutating: await admission().readMutatingWebhookConfiguration({ name: 'sluice' }),
  validating: await admission().readValidatingWebhookConfiguration({ name: 'sluice' }),
})
const caBundles = (c: Configuration): (string | undefined)[] => (c.webhooks ?? []).map(w => w.clientConfig.caBundle)
const webhookNames = (c: Configuration): string[] => (c.webhooks ?? []).map(w => w.name)

/** Every version of the configuration named sluice the API server stores after `resourceVersion`, as its watch delivers them. */
async function versionsAfter(path: string, resourceVersion: string): Promise<{ seen: Configuration[]; stop(): void }> {
  const seen: Configuration[] = []
  const req = await new Watch(kc).watch(path, { fieldSelector: 'metadata.name=sluice', resourceVersion },
    (_type: string, obj: Configuration) => { seen.push(obj) }, () => undefined)
  return { seen, stop: () => { req.abort() } }
}

async function appNamespace(name: string): Promise<string> {
  await kubectlOk(['create', 'namespace', name], undefined, state.kubeconfig)
  return name
}

/** An annotated Deployment applied with kubectl: the plan comes back as a warning from sluice's webhook, then the controller's Canary and primary. */
async function admitted(t: Test, ns: string): Promise<void> {
  const r = await k(['apply', '-f', '-'], app({ namespace: ns, replicas: 3, annotations: BLUE_GREEN }))
  t.equal(r.code, 0, r.stderr)
  t.match(r.stderr, /Warning: Deployment .*\/podinfo: first deployment: 3 replica\(s\) go to podinfo-primary/, `${ns}: the plan, from the release's webhook`)
  const d = await kc.makeApiClient(AppsV1Api).readNamespacedDeployment({ name: 'podinfo', namespace: ns })
  t.equal(d.spec?.replicas, 0, `${ns}: mutated, the target held at zero`)
  await generated(kc, ns)
}

t.test('helm install with the CRDs and webhook configurations: sluice from the release serves them through its Service', async t => {
  await helmHere(['install', RELEASE, CHART_DIR, '--namespace', NS, '--create-namespace'])
  const installed = await configurations()
  for (const c of Object.values(installed)) {
    t.equal(c.metadata?.annotations?.['meta.helm.sh/release-name'], RELEASE, `${c.kind}: created by the release`)
    t.same(caBundles(c).filter(Boolean), [], `${c.kind}: no caBundle yet`)
  }
  await until(() => kubectl(['get', 'crd', 'canaries.sluice.dev', '-o', 'name'], undefined, state.kubeconfig), r => r.code === 0, 'the chart\'s CRDs')

  running = await startInCluster({
    kubeconfig: state.kubeconfig, apiHost: '127.0.0.1', apiPort: state.apiPort, caPem: state.caPem,
    namespace: NS, deployment: 'sluice', service: 'sluice', replicas: 2, logDir: join(state.dir, 'logs', 'chart-live'),
  })
  const served = await until(configurations, cs => Object.values(cs).every(c => caBundles(c).every(b => b !== undefined)), 'the caBundle written by the replicas')
  for (const c of Object.values(served)) {
    t.match(c.webhooks?.map(w => w.clientConfig), c.webhooks?.map(() => ({ service: { namespace: NS, name: 'sluice', port: 443 }, url: undefined, caBundle: /^[A-Za-z0-9+/=]+$/ })),
      `${c.kind}: every webhook called through the release's Service, with the replicas' CA`)
  }
  await admitted(t, await appNamespace('chart-app-1'))

  // A DeliveryPolicy: sluice adds a webhook of its own to the release's MutatingWebhookConfiguration.
  await kc.makeApiClient(CustomObjectsApi).createClusterCustomObject({ group: 'sluice.dev', version: 'v1beta1', plural: 'deliverypolicies', body: {
    apiVersion: 'sluice.dev/v1beta1', kind: 'DeliveryPolicy', metadata: { name: POLICY },
    spec: { mode: 'audit', namespaceSelector: { matchLabels: { tier: POLICY } } },
  } })
  await until(configurations, cs => webhookNames(cs.mutating).includes(`${POLICY}.policy.sluice.dev`), 'the policy\'s webhook registered')
})

t.test('helm upgrade: no version of the configurations lacks the caBundle or the policy webhook sluice wrote, and admission goes on', async t => {
  const before = await configurations()
  const kinds = ['mutating', 'validating'] as const
  const watches = await Promise.all(kinds.map(kind => versionsAfter(CONFIG_PATHS[kind], before[kind].metadata!.resourceVersion!)))
  t.teardown(() => { for (const w of watches) w.stop() })

  for (const kind of kinds) {
    // sluice replaces its configurations whole (src/admission/run.ts): Helm's labels and annotations are gone,
    // so the upgrade has something to write back.
    t.notOk(before[kind].metadata?.annotations?.['meta.helm.sh/release-name'], `${kind}: sluice's last write left out Helm's annotations`)
  }

  await helmHere(['upgrade', RELEASE, CHART_DIR, '--namespace', NS, '--reuse-values', '--set', 'logLevel=debug', '--set', 'resources.webhook.limits.memory=300Mi'])
  const after = await configurations()
  for (const [i, kind] of kinds.entries()) {
    const w = watches[i]!
    const rv = after[kind].metadata?.resourceVersion
    // The watch delivers every stored version, up to the one read after the upgrade.
    await until(async () => w.seen.map(s => s.metadata?.resourceVersion), rvs => rvs.includes(rv), `${kind}: the watch up to date`)
    t.ok(w.seen.length > 0, `${kind}: helm's server-side apply wrote it (${w.seen.length} version(s))`)
    t.equal(after[kind].metadata?.annotations?.['meta.helm.sh/release-name'], RELEASE, `${kind}: the release's annotations back`)
    for (const v of [...w.seen, after[kind]]) t.same(caBundles(v), caBundles(before[kind]), `${kind} at ${v.metadata?.resourceVersion}: the caBundle kept`)
    // Why: an apply removes only fields its manager owned before. The caBundle's owner is sluice's Update.
    const owners = (after[kind].metadata?.managedFields ?? []).filter(m => JSON.stringify(m.fieldsV1).includes('"f:caBundle"')).map(m => [m.manager, m.operation])
    t.same(owners, [['kubernetes-client-javascript', 'Update']], `${kind}: the caBundle is owned by sluice's update, not by Helm's apply`)
  }
  const [mutatingSeen] = watches
  t.ok([...mutatingSeen!.seen, after.mutating].every(v => webhookNames(v).includes(`${POLICY}.policy.sluice.dev`)), 'the policy webhook kept in every version')
  t.same(webhookNames(after.mutating), webhookNames(before.mutating), 'the same webhooks after the upgrade')
  // Served by the replicas from before the upgrade, as the old pods serve until the rolling update replaces them.
  await admitted(t, await appNamespace('chart-app-2'))
})

t.test('helm uninstall: the webhook configurations go, nothing blocks a Deployment write, the CRDs and Canaries stay', async t => {
  // The pods terminate with the release; stopped first, while the configurations still exist, an annotated
  // write is refused (failurePolicy: Fail): what a configuration left behind would do to every annotated app.
  await running?.stop()
  running = undefined
  const blocked = await k(['apply', '--dry-run=server', '-f', '-'], app({ namespace: 'chart-app-1', replicas: 4, annotations: BLUE_GREEN }))
  t.not(blocked.code, 0, 'refused while the configurations exist and nothing serves them')
  t.match(blocked.stderr, /failed calling webhook "deployments\.sluice\.dev"/, 'by the mutating webhook')

  await helmHere(['uninstall', RELEASE, '--namespace', NS])
  t.ok(await absent(() => admission().readMutatingWebhookConfiguration({ name: 'sluice' })), 'the MutatingWebhookConfiguration removed')
  t.ok(await absent(() => admission().readValidatingWebhookConfiguration({ name: 'sluice' })), 'the ValidatingWebhookConfiguration removed')
  t.ok(await absent(() => kc.makeApiClient(AppsV1Api).readNamespacedDeployment({ name: 'sluice', namespace: NS })), 'the Deployment removed')

  const ns = await appNamespace('chart-app-3')
  const plain = await k(['apply', '-f', '-'], app({ namespace: ns, replicas: 3, annotations: BLUE_GREEN }))
  t.equal(plain.code, 0, `an annotated Deployment applied: ${plain.stderr}`)
  t.notMatch(plain.stderr, /Warning/, 'not intercepted')
  t.equal((await kc.makeApiClient(AppsV1Api).readNamespacedDeployment({ name: 'podinfo', namespace: ns })).spec?.replicas, 3, 'stored as applied')
  const again = await k(['apply', '-f', '-'], app({ namespace: 'chart-app-1', replicas: 4, annotations: BLUE_GREEN }))
  t.equal(again.code, 0, `an app sluice managed is written again: ${again.stderr}`)

  t.equal((await k(['get', 'crd', 'canaries.sluice.dev', '-o', 'name'])).code, 0, 'the CRDs kept (helm.sh/resource-policy: keep)')
  const canary = await k(['get', 'canary', 'podinfo', '-n', 'chart-app-1', '-o', 'name'])
  t.equal(canary.code, 0, `and the Canaries with them: ${canary.stderr}`)
})
