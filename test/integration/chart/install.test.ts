// helm install, upgrade and uninstall of charts/sluice on the run's cluster, with the real helm, checked by
// what the API server stores. The harness already runs a sluice webhook with the cluster's one set of
// configurations named sluice and the CRDs (test/cluster/with-cluster.ts), so this release leaves those to
// it (crds.install=false, webhooks.create=false) and lives in a namespace of its own; its cluster-scoped RBAC
// is named after the release, so nothing collides. live.test.ts installs the chart with both, on a cluster of
// its own, with sluice serving from the release.
import t from 'tap'
import { randomBytes } from 'node:crypto'
import { CHART_DIR, helm, helmOk } from '../../helpers/helm.ts'
import { kubectl, kubectlOk, namespace } from '../../helpers/kube.ts'
import { until } from '../../helpers/wait.ts'

interface Deployment {
  spec: { replicas: number; template: { spec: { serviceAccountName: string; containers: { name: string; image: string; args: string[]; env?: { name: string; value?: string }[] }[] } } }
  status?: { readyReplicas?: number; observedGeneration?: number }
  metadata: { generation: number; labels: Record<string, string> }
}

async function getJson<T>(args: readonly string[]): Promise<T> {
  return JSON.parse(await kubectlOk(['get', ...args, '-o', 'json'])) as T
}

async function exists(args: readonly string[]): Promise<boolean> {
  const r = await kubectl(['get', ...args, '-o', 'name'])
  if (r.code === 0) return true
  if (/NotFound/.test(r.stderr)) return false
  throw new Error(`kubectl get ${args.join(' ')}: ${r.stderr}`)
}

async function canI(user: string, verb: string, resource: string, ns?: string): Promise<boolean> {
  const r = await kubectl(['auth', 'can-i', verb, resource, `--as=${user}`, ...(ns ? ['-n', ns] : [])])
  return r.stdout.trim() === 'yes'
}

const logLevels = (d: Deployment): (string | undefined)[] =>
  d.spec.template.spec.containers.map(c => c.env?.find(e => e.name === 'SLUICE_LOG_LEVEL')?.value)

t.test('helm install, upgrade and uninstall: the objects the API server stores follow the release', async t => {
  const ns = await namespace(t)
  const release = `it-${randomBytes(3).toString('hex')}`
  const clusterRbac = `${release}-sluice`
  const base = [CHART_DIR, '--namespace', ns, '--set', 'crds.install=false', '--set', 'webhooks.create=false']
  t.teardown(async () => { await helm(['uninstall', release, '--namespace', ns]) })

  const refused = await helm(['install', release, ...base, '--set', 'replicas=0'])
  t.not(refused.code, 0, 'replicas=0 is refused by the schema')
  t.match(refused.stderr, /replicas/)
  t.notOk(await exists(['deployment', 'sluice', '-n', ns]), 'and nothing was created')

  await helmOk(['install', release, ...base, '--set', 'prometheus.address=http://prometheus.example:9090'])
  const installed = await getJson<Deployment>(['deployment', 'sluice', '-n', ns])
  t.equal(installed.spec.replicas, 2)
  t.equal(installed.metadata.labels['app.kubernetes.io/instance'], release)
  t.equal(installed.spec.template.spec.serviceAccountName, 'sluice')
  const controller = installed.spec.template.spec.containers.find(c => c.name === 'controller')
  t.equal(controller?.image, 'ghcr.io/sluice-dev/sluice:0.1.0')
  t.ok(controller?.args.includes(`--namespace=${ns}`) && controller.args.includes('--metrics-server=http://prometheus.example:9090'), 'controller flags')
  t.same(logLevels(installed), ['info', 'info'])
  for (const what of [['service', 'sluice'], ['poddisruptionbudget', 'sluice'], ['serviceaccount', 'sluice'], ['role', 'sluice'], ['rolebinding', 'sluice'],
    ['deployment', 'sluice-loadtester'], ['service', 'sluice-loadtester'], ['configmap', 'sluice-loadtester-gates']]) {
    t.ok(await exists([...what, '-n', ns]), `${what.join(' ')} stored`)
  }
  t.ok(await exists(['clusterrole', clusterRbac]) && await exists(['clusterrolebinding', clusterRbac]), 'cluster RBAC named after the release')
  // The RBAC as the API server grants it to the chart's ServiceAccounts.
  const sa = `system:serviceaccount:${ns}:sluice`
  t.ok(await canI(sa, 'update', 'mutatingwebhookconfigurations/sluice'), 'sluice may update its webhook configuration')
  t.notOk(await canI(sa, 'update', 'mutatingwebhookconfigurations/other'), 'and no other')
  t.notOk(await canI(sa, 'create', 'mutatingwebhookconfigurations'), 'nor create one')
  t.ok(await canI(sa, 'create', 'leases', ns), 'leader election in its namespace')
  t.ok(await canI(`system:serviceaccount:${ns}:sluice-loadtester`, 'patch', 'configmaps/sluice-loadtester-gates', ns), 'the load tester patches its gates')
  t.notOk(await canI(`system:serviceaccount:${ns}:sluice-loadtester`, 'patch', 'configmaps/other', ns), 'and nothing else')
  // kwok runs the pods: the Deployment becomes available as scheduled.
  await until(() => getJson<Deployment>(['deployment', 'sluice', '-n', ns]), d => d.status?.readyReplicas === 2, 'sluice: 2 ready replicas')
  // The harness's configurations are not the release's.
  const harness = await getJson<{ metadata: { annotations?: Record<string, string> }; webhooks: { clientConfig: { url?: string } }[] }>(['mutatingwebhookconfiguration', 'sluice'])
  t.notOk(harness.metadata.annotations?.['meta.helm.sh/release-name'], 'the harness\'s webhook configuration is not adopted')
  t.ok(harness.webhooks[0]?.clientConfig.url, 'and still points at the harness\'s webhook')

  // A gate the load tester wrote survives an upgrade of the release.
  await kubectlOk(['patch', 'configmap', 'sluice-loadtester-gates', '-n', ns, '--type=merge', '-p', '{"data":{"gate.shop.podinfo":"open"}}'])
  await helmOk(['upgrade', release, CHART_DIR, '--namespace', ns, '--reuse-values', '--set', 'replicas=3', '--set', 'logLevel=debug'])
  const upgraded = await getJson<Deployment>(['deployment', 'sluice', '-n', ns])
  t.equal(upgraded.spec.replicas, 3, 'replicas follow the upgrade')
  t.same(logLevels(upgraded), ['debug', 'debug'], 'so does the log level')
  t.ok(upgraded.metadata.generation > installed.metadata.generation)
  t.same(logLevels(await getJson<Deployment>(['deployment', 'sluice-loadtester', '-n', ns])), ['debug'])
  t.equal((await getJson<{ data?: Record<string, string> }>(['configmap', 'sluice-loadtester-gates', '-n', ns])).data?.['gate.shop.podinfo'], 'open', 'the gate is kept')
  await until(() => getJson<Deployment>(['deployment', 'sluice', '-n', ns]), d => d.status?.readyReplicas === 3, 'sluice: 3 ready replicas')
  const history = JSON.parse(await helmOk(['history', release, '--namespace', ns, '-o', 'json'])) as { revision: number; status: string }[]
  t.same(history.map(h => [h.revision, h.status]), [[1, 'superseded'], [2, 'deployed']])

  await helmOk(['uninstall', release, '--namespace', ns])
  for (const what of [['deployment', 'sluice', '-n', ns], ['service', 'sluice', '-n', ns], ['serviceaccount', 'sluice', '-n', ns],
    ['deployment', 'sluice-loadtester', '-n', ns], ['configmap', 'sluice-loadtester-gates', '-n', ns], ['clusterrole', clusterRbac], ['clusterrolebinding', clusterRbac]]) {
    await until(() => exists(what), e => !e, `${what.join(' ')} removed by helm uninstall`)
  }
  t.ok(await exists(['mutatingwebhookconfiguration', 'sluice']), 'the harness\'s configurations stay')
  t.ok(await exists(['crd', 'canaries.sluice.dev']), 'and its CRDs')
  t.same(JSON.parse(await helmOk(['list', '--namespace', ns, '-o', 'json'])) as unknown, [], 'no release left')
})
