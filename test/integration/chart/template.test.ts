// The Helm chart (charts/sluice) rendered by the real helm: lint, the default render against
// `kubectl kustomize manifests/` (the one source of truth, modulo the differences listed in DIFFERENCES),
// every value changing what it says, and the schema refusing wrong values. No cluster is needed here.
import t from 'tap'
import { execFile } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { mutatingConfiguration, validatingConfiguration, type RegistrationOptions } from '../../../src/admission/registration.ts'
import { CHART_DIR, helm, helmOk, parseObjects, renderChart, type K8sObject } from '../../helpers/helm.ts'
import { kubectlPath } from '../../helpers/kube.ts'

const run = promisify(execFile)

const HELM_LABELS = ['helm.sh/chart', 'app.kubernetes.io/managed-by', 'app.kubernetes.io/instance', 'app.kubernetes.io/version']

/**
 * What the chart does differently from manifests/, by design (README, "Install on your cluster"):
 * Helm's four labels on every object; the CRDs' helm.sh/resource-policy: keep; no Namespace object (helm
 * install -n NS --create-namespace); and --namespace=<release namespace> on the webhook and the controller
 * (the manifests rely on its default, sluice-system; the load tester's is explicit in both).
 */
function normalizeChart(objects: readonly K8sObject[]): K8sObject[] {
  return objects.map(o => {
    const copy = structuredClone(o)
    for (const l of HELM_LABELS) delete copy.metadata.labels?.[l]
    if (copy.kind === 'CustomResourceDefinition') {
      delete copy.metadata.annotations?.['helm.sh/resource-policy']
      if (copy.metadata.annotations && Object.keys(copy.metadata.annotations).length === 0) delete copy.metadata.annotations
    }
    if (key(copy) === 'Deployment/sluice-system/sluice') for (const c of containers(copy)) c.args = c.args?.filter(a => a !== '--namespace=sluice-system')
    return copy
  })
}

interface Container { name: string; image?: string; imagePullPolicy?: string; args?: string[]; env?: { name: string; value?: string }[]; resources?: unknown }

function podSpec(o: K8sObject): Record<string, unknown> | undefined {
  if (o.kind !== 'Deployment') return undefined
  return ((o.spec as { template: { spec: Record<string, unknown> } }).template.spec)
}

function containers(o: K8sObject): Container[] {
  return (podSpec(o)?.containers as Container[] | undefined) ?? []
}

const key = (o: K8sObject): string => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`
const byKey = (objects: readonly K8sObject[]): Map<string, K8sObject> => new Map(objects.map(o => [key(o), o]))

function one(objects: readonly K8sObject[], kind: string, name: string): K8sObject {
  const found = objects.filter(o => o.kind === kind && o.metadata.name === name)
  if (found.length !== 1 || !found[0]) throw new Error(`expected one ${kind} ${name}, found ${found.length}`)
  return found[0]
}

function container(objects: readonly K8sObject[], deployment: string, name: string): Container {
  const c = containers(one(objects, 'Deployment', deployment)).find(x => x.name === name)
  if (!c) throw new Error(`no container ${name} in Deployment ${deployment}`)
  return c
}

const logLevel = (c: Container): string | undefined => c.env?.find(e => e.name === 'SLUICE_LOG_LEVEL')?.value

t.test('helm lint --strict passes, with the defaults and with every value set', async t => {
  const lint = await helmOk(['lint', '--strict', CHART_DIR])
  t.match(lint, /1 chart\(s\) linted, 0 chart\(s\) failed/)
  const custom = await helmOk(['lint', '--strict', CHART_DIR, '-f', CUSTOM_FILE])
  t.match(custom, /0 chart\(s\) failed/)
})

t.test('defaults render what kubectl kustomize manifests/ builds, but for the documented differences', async t => {
  const chart = await renderChart()
  const manifests = parseObjects((await run(kubectlPath(), ['kustomize', `${CHART_DIR}/../../manifests`], { maxBuffer: 64 << 20 })).stdout)
  const namespaces = manifests.filter(o => o.kind === 'Namespace')
  t.same(namespaces.map(o => o.metadata.name), ['sluice-system'], 'the manifests create the namespace; the chart leaves it to helm -n --create-namespace')
  t.ok(chart.every(o => HELM_LABELS.every(l => o.metadata.labels?.[l] !== undefined)), 'every chart object carries Helm\'s labels')
  const want = byKey(manifests.filter(o => o.kind !== 'Namespace'))
  const got = byKey(normalizeChart(chart))
  t.same([...got.keys()].sort(), [...want.keys()].sort(), 'the same objects')
  for (const [k, o] of want) t.same(got.get(k), o, k)
})

t.test('the chart\'s CRDs are manifests/crds, kept on uninstall, and crds.install=false leaves them out', async t => {
  const chart = await renderChart()
  const crds = chart.filter(o => o.kind === 'CustomResourceDefinition')
  t.same(crds.map(o => o.metadata.name).sort(),
    ['alertproviders.sluice.dev', 'canaries.sluice.dev', 'deliverypolicies.sluice.dev', 'metrictemplates.sluice.dev'])
  for (const crd of crds) {
    t.equal(crd.metadata.annotations?.['helm.sh/resource-policy'], 'keep', `${crd.metadata.name} is kept by helm uninstall`)
    const file = parseObjects(readFileSync(`${CHART_DIR}/../../manifests/crds/${crd.metadata.name.split('.')[0]}.yaml`, 'utf8'))[0]
    t.same(crd.spec, file?.spec, `${crd.metadata.name}: the spec of manifests/crds`)
  }
  const without = await renderChart(['--set', 'crds.install=false'])
  t.equal(without.filter(o => o.kind === 'CustomResourceDefinition').length, 0)
  t.equal(without.length, chart.length - crds.length, 'nothing else changes')
})

// One file with every value changed, for lint and for the render below.
const CUSTOM_FILE = `${CHART_DIR}/ci/custom-values.yaml`

t.test('custom image, replicas, resources, placement, labels and annotations reach the objects', async t => {
  const objects = await renderChart(['-f', CUSTOM_FILE], 'prod', 'platform')
  const sluice = one(objects, 'Deployment', 'sluice')
  t.equal((sluice.spec as { replicas: number }).replicas, 3)
  for (const c of [...containers(sluice), ...containers(one(objects, 'Deployment', 'sluice-loadtester'))]) {
    t.equal(c.image, 'registry.example.com/sluice:1.2.3', `${c.name}: image`)
    t.equal(c.imagePullPolicy, 'Always', `${c.name}: pull policy`)
    t.equal(logLevel(c), 'debug', `${c.name}: log level`)
  }
  // Helm merges maps: what a values file leaves out (the cpu limits) keeps its default.
  t.same(container(objects, 'sluice', 'webhook').resources, { requests: { cpu: '200m', memory: '192Mi' }, limits: { cpu: '1', memory: '384Mi' } })
  t.same(container(objects, 'sluice', 'controller').resources, { requests: { cpu: '300m', memory: '256Mi' }, limits: { cpu: '1', memory: '1Gi' } })
  t.same(container(objects, 'sluice-loadtester', 'loadtester').resources, { requests: { cpu: '500m', memory: '128Mi' }, limits: { cpu: '1', memory: '256Mi' } })
  const noLimit = await renderChart(['--set', 'resources.controller.limits.cpu=null'])
  t.same(container(noLimit, 'sluice', 'controller').resources, { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '512Mi' } }, 'null removes a default')
  for (const name of ['sluice', 'sluice-loadtester']) {
    const spec = podSpec(one(objects, 'Deployment', name))
    t.same(spec?.nodeSelector, { 'node-role.example.com/platform': 'true' }, `${name}: nodeSelector`)
    t.same(spec?.tolerations, [{ key: 'dedicated', operator: 'Equal', value: 'platform', effect: 'NoSchedule' }], `${name}: tolerations`)
    const template = (one(objects, 'Deployment', name).spec as { template: { metadata: { labels: Record<string, string>; annotations: Record<string, string> } } }).template.metadata
    t.equal(template.labels['team'], 'platform', `${name}: pod labels`)
    t.equal(template.annotations['example.com/owner'], 'platform', `${name}: pod annotations`)
    t.equal(template.annotations['prometheus.io/port'], '8080', `${name}: the scrape annotations stay`)
  }
  // Helm merges maps: the node affinity joins the default anti-affinity (affinity=null drops the default, below).
  const affinity = podSpec(sluice)?.affinity as Record<string, unknown> | undefined
  t.same(affinity?.nodeAffinity, { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/arch', operator: 'In', values: ['amd64'] }] }] } })
  t.ok(affinity?.podAntiAffinity, 'the default anti-affinity stays')
  t.ok(objects.every(o => o.metadata.labels?.['team'] === 'platform'), 'commonLabels on every object')
  t.ok(objects.filter(o => o.metadata.namespace !== undefined).every(o => o.metadata.namespace === 'platform'), 'namespaced objects in the release namespace')
  t.equal(one(objects, 'ClusterRole', 'prod-sluice').kind, 'ClusterRole', 'cluster-scoped RBAC named after the release')
  t.same((one(objects, 'ClusterRoleBinding', 'prod-sluice') as { subjects?: unknown }).subjects, [{ kind: 'ServiceAccount', name: 'sluice', namespace: 'platform' }])
})

t.test('prometheus.address, defaultProvider, logLevel, watchNamespace and stepEvents become the processes\' flags', async t => {
  const objects = await renderChart(['-f', CUSTOM_FILE], 'prod', 'platform')
  const webhook = container(objects, 'sluice', 'webhook')
  const controller = container(objects, 'sluice', 'controller')
  t.same(webhook.args, ['webhook', '--listen=0.0.0.0:9443', '--telemetry-listen=0.0.0.0:8081', '--namespace=platform',
    '--default-provider=nginx', '--scope-label=kubernetes.io/metadata.name=shop'])
  t.same(controller.args, ['controller', '--identity=$(POD_NAME)', '--metrics-server=https://prometheus.example.com:9090',
    '--namespace=platform', '--default-provider=nginx', '--watch-namespace=shop', '--step-events=off'])
  t.same(container(objects, 'sluice-loadtester', 'loadtester').args, ['loadtester', '--listen=0.0.0.0:8080', '--namespace=platform'])
  const defaults = await renderChart(['--set', 'prometheus.address='])
  t.notOk(container(defaults, 'sluice', 'controller').args?.some(a => a.startsWith('--metrics-server')), 'an empty address: no flag')
  t.notOk(container(defaults, 'sluice', 'controller').args?.some(a => a.startsWith('--step-events')), 'step Events by default: no flag')
})

t.test('the webhook configurations are what the running webhook writes for that namespace and scope', async t => {
  const objects = await renderChart(['-f', CUSTOM_FILE], 'prod', 'platform')
  // What `sluice webhook --namespace=platform --scope-label=…` writes at start, less the CA bundle.
  const options: RegistrationOptions = {
    endpoint: { kind: 'service', namespace: 'platform', name: 'sluice', port: 443 },
    sluiceNamespace: 'platform', sluiceUsername: 'system:serviceaccount:platform:sluice',
    namespaceLabels: { 'kubernetes.io/metadata.name': 'shop' },
  }
  const strip = (o: K8sObject): unknown => ({ ...o, metadata: { ...o.metadata, labels: { 'app.kubernetes.io/name': o.metadata.labels?.['app.kubernetes.io/name'] } } })
  t.same(strip(one(objects, 'MutatingWebhookConfiguration', 'sluice')), mutatingConfiguration(options))
  t.same(strip(one(objects, 'ValidatingWebhookConfiguration', 'sluice')), validatingConfiguration(options))
  const without = await renderChart(['--set', 'webhooks.create=false'])
  t.notOk(without.some(o => o.kind.endsWith('WebhookConfiguration')), 'webhooks.create=false: none')
  const all = await renderChart()
  t.notOk(all.filter(o => o.kind.endsWith('WebhookConfiguration')).some(o => o.metadata.annotations?.['helm.sh/resource-policy'] !== undefined || o.metadata.annotations?.['helm.sh/hook'] !== undefined),
    'plain release objects: helm uninstall removes them')
})

t.test('loadtester.enabled=false, replicas=1 and affinity=null leave their objects out', async t => {
  const all = await renderChart()
  const noLoadTester = await renderChart(['--set', 'loadtester.enabled=false'])
  t.same(all.filter(o => o.metadata.name === 'sluice-loadtester' || o.metadata.name === 'sluice-loadtester-gates').map(key).sort(),
    ['ConfigMap/sluice-system/sluice-loadtester-gates', 'Deployment/sluice-system/sluice-loadtester', 'Role/sluice-system/sluice-loadtester',
      'RoleBinding/sluice-system/sluice-loadtester', 'Service/sluice-system/sluice-loadtester', 'ServiceAccount/sluice-system/sluice-loadtester'])
  t.same(noLoadTester.map(key).sort(), all.filter(o => !o.metadata.name.startsWith('sluice-loadtester')).map(key).sort())
  const single = await renderChart(['--set', 'replicas=1'])
  t.equal((one(single, 'Deployment', 'sluice').spec as { replicas: number }).replicas, 1)
  t.notOk(single.some(o => o.kind === 'PodDisruptionBudget'), 'one replica: no PDB (minAvailable 1 would block every drain)')
  t.ok(all.some(o => o.kind === 'PodDisruptionBudget'))
  t.ok(podSpec(one(all, 'Deployment', 'sluice'))?.affinity, 'the default anti-affinity')
  t.notOk(podSpec(one(await renderChart(['--set', 'affinity=null']), 'Deployment', 'sluice'))?.affinity, 'affinity=null removes it')
})

t.test('the schema refuses a wrong type, an unknown key and a value out of its set, naming it', async t => {
  const cases: [string[], RegExp][] = [
    [['--set', 'replicas=two'], /replicas.*(integer|number)/s],
    [['--set', 'replica=3'], /additional propert.*replica/is],
    [['--set', 'logLevel=verbose'], /logLevel/],
    [['--set', 'image.pullPolicy=Sometimes'], /pullPolicy/],
    [['--set', 'defaultProvider=kuma'], /defaultProvider/],
    [['--set', 'watchNamespace=Not_A_Namespace'], /watchNamespace/],
    [['--set', 'stepEvents=sometimes'], /stepEvents/],
    [['--set', 'prometheus.address=prometheus:9090'], /prometheus.*address/s],
    [['--set', 'resources.webhook.requests.cpu=lots'], /cpu/],
    [['--set', 'commonLabels.team=not a label'], /commonLabels/],
  ]
  for (const [args, message] of cases) {
    const r = await helm(['template', 'sluice', CHART_DIR, ...args])
    t.not(r.code, 0, `${args.join(' ')} is refused`)
    t.match(r.stderr, /values don't meet the specifications of the schema/, `${args.join(' ')}: a schema error`)
    t.match(r.stderr, message, `${args.join(' ')}: names the value`)
  }
})

t.test('the chart\'s appVersion is sluice\'s version, the default image tag, as in manifests/', async t => {
  const pkg = JSON.parse(readFileSync(`${CHART_DIR}/../../package.json`, 'utf8')) as { version: string }
  const chart = parseObjects(readFileSync(`${CHART_DIR}/Chart.yaml`, 'utf8'))[0] as unknown as { version: string; appVersion: string }
  t.equal(chart.appVersion, pkg.version)
  t.equal(chart.version, pkg.version)
  t.equal(container(await renderChart(), 'sluice', 'webhook').image, `ghcr.io/sluice-dev/sluice:${pkg.version}`)
})

t.test('helm package copies the linked files in: the packaged chart renders as the directory does', async t => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-chart-'))
  t.teardown(() => { rmSync(dir, { recursive: true, force: true }) })
  await helmOk(['package', CHART_DIR, '--destination', dir])
  const archive = join(dir, 'sluice-0.1.0.tgz')
  t.same(await renderChart([], 'sluice', 'sluice-system', archive), await renderChart())
})
