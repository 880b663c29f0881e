// The install manifests: the generated webhooks.yaml matches its generator, every file parses into
// well-formed objects, the kustomization lists them all, and the pieces agree with each other (the names,
// ports and labels that the Service, PDB, webhooks and RBAC use to find the Deployment).
import t from 'tap'
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseAllDocuments } from 'yaml'
import { INSTALL_REGISTRATION, renderWebhooks, WEBHOOKS_FILE } from '../../src/admission/manifests.ts'
import { PROMETHEUS_RULE_FILE, renderPrometheusRule, RULES_FILE } from '../../src/telemetry/prometheus-rule.ts'
import { CRD_OBJECTS, INSTALL_OBJECTS, WEBHOOK_OBJECTS } from '../../src/cli/uninstall-plan.ts'

const DIR = fileURLToPath(new URL('../../manifests/', import.meta.url))

interface K8sObject {
  apiVersion?: unknown
  kind?: unknown
  metadata?: { name?: unknown; namespace?: string; labels?: Record<string, string> }
  [field: string]: unknown
}

function yamlFiles(dir: string): string[] {
  return readdirSync(dir).sort().flatMap(entry => {
    const path = join(dir, entry)
    if (statSync(path).isDirectory()) return yamlFiles(path)
    return /\.ya?ml$/.test(entry) ? [relative(DIR, path)] : []
  })
}

function load(file: string): K8sObject[] {
  const docs = parseAllDocuments(readFileSync(join(DIR, file), 'utf8'))
  const list = Array.isArray(docs) ? docs : [docs]
  for (const doc of list) {
    if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors.map(e => e.message).join('; ')}`)
  }
  return list.map(d => d.toJS() as unknown).filter((o): o is K8sObject => o !== null && o !== undefined)
}

const FILES = yamlFiles(DIR)
const ALL = FILES.flatMap(file => load(file).map(object => ({ file, object })))

function only(kind: string, file?: string): K8sObject {
  const found = ALL.filter(e => e.object.kind === kind && (file === undefined || e.file === file))
  if (found.length !== 1 || !found[0]) throw new Error(`expected one ${kind}, found ${found.length}`)
  return found[0].object
}

t.test('manifests/webhooks.yaml equals the generator\'s output (run make manifests)', async t => {
  t.equal(readFileSync(WEBHOOKS_FILE, 'utf8'), renderWebhooks())
})

t.test('every YAML file parses, and every object has apiVersion, kind and metadata.name', async t => {
  t.ok(FILES.includes('webhooks.yaml') && FILES.includes('deployment.yaml') && FILES.some(f => f.startsWith('crds/')), 'the walk finds the files')
  for (const file of FILES) t.ok(load(file).length > 0, `${file} holds at least one object`)
  for (const { file, object } of ALL) {
    const what = `${file}: ${String(object.kind)} ${String(object.metadata?.name)}`
    t.ok(typeof object.apiVersion === 'string' && object.apiVersion !== '', `${what}: apiVersion`)
    t.ok(typeof object.kind === 'string' && object.kind !== '', `${what}: kind`)
    t.ok(typeof object.metadata?.name === 'string' && object.metadata.name !== '', `${what}: metadata.name`)
  }
})

// Applied on their own: the first two need the Prometheus Operator's CRDs, the NetworkPolicy selectors
// that depend on the cluster. A kustomization listing them would fail, or cut the webhook off, on many clusters.
// optional/ holds what a feature that is off by default needs (the in-cluster dashboard's identity).
const OPTIONAL = ['networkpolicy.yaml', 'prometheusrule.yaml', 'servicemonitor.yaml']

t.test('the kustomization lists every manifest but the optional ones, and nothing that is missing', async t => {
  const kustomization = only('Kustomization') as { resources?: string[] }
  const listed = [...(kustomization.resources ?? [])].sort()
  t.ok(OPTIONAL.every(f => FILES.includes(f)), 'the optional files exist')
  t.same(listed, FILES.filter(f => f !== 'kustomization.yaml' && !OPTIONAL.includes(f) && !f.startsWith('optional/')).sort())
})

t.test('manifests/prometheusrule.yaml equals the generator\'s output from monitoring/alerts.rules.yaml (run make manifests)', async t => {
  t.equal(readFileSync(PROMETHEUS_RULE_FILE, 'utf8'), renderPrometheusRule())
  const rule = only('PrometheusRule', 'prometheusrule.yaml') as K8sObject & { spec: { groups: unknown } }
  t.same(rule.spec.groups, (parseAllDocuments(readFileSync(RULES_FILE, 'utf8'))[0]?.toJS() as { groups: unknown }).groups, 'the same groups')
  t.equal(rule.apiVersion, 'monitoring.coreos.com/v1')
})

interface Container {
  name: string
  args?: string[]
  ports?: { name: string; containerPort: number }[]
  readinessProbe?: { httpGet?: { path: string; port: string | number; scheme?: string } }
  livenessProbe?: { httpGet?: { path: string; port: string | number; scheme?: string } }
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> }
  securityContext?: { allowPrivilegeEscalation?: boolean; readOnlyRootFilesystem?: boolean; capabilities?: { drop?: string[] }; privileged?: boolean }
}

interface PodTemplate {
  metadata: { labels: Record<string, string> }
  spec: {
    serviceAccountName?: string
    securityContext?: { runAsNonRoot?: boolean; runAsUser?: number; seccompProfile?: { type?: string } }
    affinity?: { podAntiAffinity?: { preferredDuringSchedulingIgnoredDuringExecution?: { podAffinityTerm: { topologyKey: string; labelSelector: { matchLabels: Record<string, string> } } }[] } }
    containers: Container[]
  }
}

const deployment = only('Deployment', 'deployment.yaml') as K8sObject & { spec: { replicas: number; selector: { matchLabels: Record<string, string> }; template: PodTemplate } }
const template = deployment.spec.template
const container = (name: string): Container => {
  const c = template.spec.containers.find(x => x.name === name)
  if (!c) throw new Error(`no container ${name}`)
  return c
}
const portNumber = (c: Container, port: string | number | undefined): number | undefined =>
  typeof port === 'number' ? port : c.ports?.find(p => p.name === port)?.containerPort

const matches = (selector: Record<string, string>, labels: Record<string, string>): boolean =>
  Object.keys(selector).length > 0 && Object.entries(selector).every(([k, v]) => labels[k] === v)

t.test('the sluice Deployment runs the webhook and the controller side by side', async t => {
  t.equal(deployment.metadata?.namespace, INSTALL_REGISTRATION.sluiceNamespace)
  t.equal(deployment.spec.replicas, 2)
  t.ok(matches(deployment.spec.selector.matchLabels, template.metadata.labels), 'its selector selects its pods')
  t.same(template.spec.containers.map(c => c.name), ['webhook', 'controller'])
  t.same(container('webhook').args, ['webhook', '--listen=0.0.0.0:9443', '--telemetry-listen=0.0.0.0:8081'])
  t.same(container('controller').args?.slice(0, 2), ['controller', '--identity=$(POD_NAME)'], 'the Lease names the pod')
  t.ok(container('controller').args?.some(a => a.startsWith('--metrics-server=')), 'a metrics server is configured')
  const spread = template.spec.affinity?.podAntiAffinity?.preferredDuringSchedulingIgnoredDuringExecution?.[0]?.podAffinityTerm
  t.equal(spread?.topologyKey, 'kubernetes.io/hostname')
  t.ok(spread && matches(spread.labelSelector.matchLabels, template.metadata.labels), 'anti-affinity to its own pods')
})

function probe(c: Container, which: 'readinessProbe' | 'livenessProbe'): { path?: string; port?: number; scheme: string } {
  const get = c[which]?.httpGet
  return { path: get?.path, port: portNumber(c, get?.port), scheme: get?.scheme ?? 'HTTP' }
}

t.test('probes: the webhook over HTTPS on 9443, the controller over HTTP on 8080', async t => {
  const webhook = container('webhook')
  t.same(probe(webhook, 'readinessProbe'), { path: '/readyz', port: 9443, scheme: 'HTTPS' }, 'the webhook serves TLS only')
  t.same(probe(webhook, 'livenessProbe'), { path: '/healthz', port: 9443, scheme: 'HTTPS' })
  const controller = container('controller')
  t.same(probe(controller, 'readinessProbe'), { path: '/readyz', port: 8080, scheme: 'HTTP' })
  t.same(probe(controller, 'livenessProbe'), { path: '/healthz', port: 8080, scheme: 'HTTP' })
})

t.test('every container runs unprivileged, with resources set', async t => {
  const pod = template.spec.securityContext
  t.same([pod?.runAsNonRoot, pod?.runAsUser, pod?.seccompProfile?.type], [true, 65534, 'RuntimeDefault'])
  for (const c of template.spec.containers) {
    const sc = c.securityContext
    t.same([sc?.readOnlyRootFilesystem, sc?.allowPrivilegeEscalation, sc?.capabilities?.drop], [true, false, ['ALL']],
      `${c.name}: read-only root, no privilege escalation, no capabilities`)
    t.ok(c.resources?.requests?.cpu && c.resources.requests.memory, `${c.name}: requests cpu and memory`)
    t.ok(c.resources?.limits?.memory, `${c.name}: a memory limit`)
  }
})

t.test('Service, PDB, webhooks and RBAC find the Deployment', async t => {
  const service = only('Service', 'service.yaml') as K8sObject & { spec: { selector: Record<string, string>; ports: { name: string; port: number; targetPort: string | number }[] } }
  t.ok(matches(service.spec.selector, template.metadata.labels), 'the Service selects sluice\'s pods')
  const https = service.spec.ports.find(p => p.port === 443)
  t.equal(portNumber(container('webhook'), https?.targetPort), 9443, '443 → the webhook\'s 9443')
  const metrics = service.spec.ports.find(p => p.port === 8080)
  t.equal(portNumber(container('controller'), metrics?.targetPort), 8080, 'metrics → the controller\'s 8080')

  const pdb = only('PodDisruptionBudget', 'pdb.yaml') as K8sObject & { spec: { minAvailable: number; selector: { matchLabels: Record<string, string> } } }
  t.equal(pdb.spec.minAvailable, 1)
  t.ok(matches(pdb.spec.selector.matchLabels, template.metadata.labels))

  const endpoint = INSTALL_REGISTRATION.endpoint
  t.same(endpoint, { kind: 'service', namespace: service.metadata?.namespace, name: service.metadata?.name, port: 443 }, 'the webhooks call this Service')
  const webhooks = ALL.filter(e => e.file === 'webhooks.yaml').flatMap(e => (e.object as { webhooks: { clientConfig: Record<string, unknown> }[] }).webhooks)
  t.ok(webhooks.length >= 2)
  for (const w of webhooks) t.notOk('caBundle' in w.clientConfig, 'no caBundle: sluice writes its own')

  const accounts = ALL.filter(e => e.file === 'rbac.yaml' && e.object.kind === 'ServiceAccount').map(e => `${e.object.metadata?.namespace}:${String(e.object.metadata?.name)}`)
  t.ok(accounts.includes(`${deployment.metadata?.namespace}:${template.spec.serviceAccountName}`), 'the pod runs as the ServiceAccount rbac.yaml binds')
  t.equal(INSTALL_REGISTRATION.sluiceUsername, `system:serviceaccount:${deployment.metadata?.namespace}:${template.spec.serviceAccountName}`,
    'the webhooks recognise the identity the pod runs as')

  for (const { file, object } of ALL) {
    if (object.metadata?.namespace !== undefined) t.equal(object.metadata.namespace, INSTALL_REGISTRATION.sluiceNamespace, `${file}: ${String(object.kind)} in sluice's namespace`)
  }
})

const LT = 'loadtester.yaml'
const loadTester = only('Deployment', LT) as K8sObject & { spec: { replicas: number; strategy: { type: string }; selector: { matchLabels: Record<string, string> }; template: PodTemplate } }
const ltPod = loadTester.spec.template
const ltContainer = ltPod.spec.containers[0] as Container

t.test('the load tester runs one unprivileged replica, apart from sluice\'s pods', async t => {
  t.equal(loadTester.spec.replicas, 1, 'one replica: background commands are de-duplicated within one process')
  t.equal(loadTester.spec.strategy.type, 'Recreate')
  t.ok(matches(loadTester.spec.selector.matchLabels, ltPod.metadata.labels), 'its selector selects its pods')
  t.notOk(matches(deployment.spec.selector.matchLabels, ltPod.metadata.labels), 'sluice\'s Deployment does not select them')
  t.same(ltContainer.args?.[0], 'loadtester')
  t.same(probe(ltContainer, 'readinessProbe'), { path: '/healthz', port: 8080, scheme: 'HTTP' })
  const sc = ltContainer.securityContext
  t.same([sc?.readOnlyRootFilesystem, sc?.allowPrivilegeEscalation, sc?.capabilities?.drop], [true, false, ['ALL']])
  t.same([ltPod.spec.securityContext?.runAsNonRoot, ltPod.spec.securityContext?.runAsUser], [true, 65534])
})

t.test('the load tester has its own identity, RBAC on its one ConfigMap only, and a Service on port 80', async t => {
  const account = only('ServiceAccount', LT)
  t.equal(ltPod.spec.serviceAccountName, account.metadata?.name)
  t.not(account.metadata?.name, template.spec.serviceAccountName, 'not sluice\'s identity (whose ClusterRole writes every ConfigMap)')
  const configMap = only('ConfigMap', LT)
  const role = only('Role', LT) as K8sObject & { rules: unknown[] }
  t.same(role.rules, [{ apiGroups: [''], resources: ['configmaps'], resourceNames: [configMap.metadata?.name], verbs: ['get', 'patch'] }])
  const binding = only('RoleBinding', LT) as K8sObject & { roleRef: unknown; subjects: unknown[] }
  t.same(binding.roleRef, { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: role.metadata?.name })
  t.same(binding.subjects, [{ kind: 'ServiceAccount', name: account.metadata?.name, namespace: loadTester.metadata?.namespace }])
  const service = only('Service', LT) as K8sObject & { spec: { selector: Record<string, string>; ports: { port: number; targetPort: string | number }[] } }
  t.ok(matches(service.spec.selector, ltPod.metadata.labels))
  t.equal(service.spec.ports[0]?.port, 80, 'port 80, as flagger-loadtester')
  t.equal(portNumber(ltContainer, service.spec.ports[0]?.targetPort), 8080)
})

interface PolicyPeer { ipBlock?: { cidr: string }; namespaceSelector?: { matchLabels: Record<string, string> }; podSelector?: { matchLabels: Record<string, string> } }
interface PolicyRule { ports: { port: number; protocol: string }[]; from: PolicyPeer[] }
type Policy = K8sObject & { spec: { podSelector: { matchLabels: Record<string, string> }; policyTypes: string[]; ingress: PolicyRule[] } }

t.test('scraping: the annotations, the Service and the ServiceMonitors name the metrics ports the containers serve', async t => {
  const service = only('Service', 'service.yaml') as K8sObject & { metadata: { annotations?: Record<string, string> }; spec: { ports: { name: string; port: number; targetPort: string }[] } }
  const annotations = (deployment.spec.template.metadata as { annotations?: Record<string, string> }).annotations
  t.same(annotations, { 'prometheus.io/scrape': 'true', 'prometheus.io/port': '8080', 'prometheus.io/path': '/metrics' }, 'the pods name the controller\'s port')
  t.equal(portNumber(container('controller'), 'http-metrics'), 8080)
  t.same(service.metadata.annotations, { 'prometheus.io/scrape': 'true', 'prometheus.io/port': '8081', 'prometheus.io/path': '/metrics' }, 'the Service names the webhook\'s')
  t.equal(portNumber(container('webhook'), 'webhook-metrics'), 8081)
  t.ok(container('webhook').args?.includes('--telemetry-listen=0.0.0.0:8081'), 'the webhook serves its metrics there')
  const ltAnnotations = (ltPod.metadata as { annotations?: Record<string, string> }).annotations
  t.equal(ltAnnotations?.['prometheus.io/port'], String(portNumber(ltContainer, 'http')), 'the load tester\'s pods name its port')

  const monitors = ALL.filter(e => e.file === 'servicemonitor.yaml').map(e => e.object as K8sObject & {
    spec: { selector: { matchLabels: Record<string, string> }; namespaceSelector: { matchNames: string[] }; endpoints: { port: string; path: string }[] }
  })
  t.same(monitors.map(m => [m.apiVersion, m.kind]), [['monitoring.coreos.com/v1', 'ServiceMonitor'], ['monitoring.coreos.com/v1', 'ServiceMonitor']])
  const services = ALL.filter(e => e.object.kind === 'Service').map(e => e.object as K8sObject & { spec: { ports: { name: string }[] } })
  for (const m of monitors) {
    const selected = services.filter(s => matches(m.spec.selector.matchLabels, s.metadata?.labels ?? {}))
    t.equal(selected.length, 1, `${String(m.metadata?.name)} selects one Service`)
    t.same(m.spec.namespaceSelector.matchNames, [selected[0]?.metadata?.namespace])
    for (const e of m.spec.endpoints) {
      t.ok(selected[0]?.spec.ports.some(p => p.name === e.port), `${String(m.metadata?.name)}: port ${e.port} is one of the Service's`)
      t.equal(e.path, '/metrics')
    }
  }
  t.same(monitors[0]?.spec.endpoints.map(e => e.port).sort(), ['http-metrics', 'webhook-metrics'], 'both of sluice\'s metrics ports')
})

t.test('the NetworkPolicies: the webhook port from the API server, metrics from Prometheus, the load tester from sluice', async t => {
  const policies = ALL.filter(e => e.file === 'networkpolicy.yaml').map(e => e.object as Policy)
  const sluice = policies.find(p => matches(p.spec.podSelector.matchLabels, template.metadata.labels))
  const lt = policies.find(p => matches(p.spec.podSelector.matchLabels, ltPod.metadata.labels))
  if (!sluice || !lt) throw new Error('a policy for sluice\'s pods and one for the load tester\'s')
  for (const p of [sluice, lt]) t.same(p.spec.policyTypes, ['Ingress'], `${String(p.metadata?.name)}: ingress only`)
  const ports = (r: PolicyRule) => r.ports.map(p => p.port).sort()
  t.same(sluice.spec.ingress.map(ports), [[9443], [8080, 8081]], 'the webhook port, then the two metrics ports, and nothing else')
  t.same(ports(sluice.spec.ingress[0]!), [portNumber(container('webhook'), 'https')])
  t.same(ports(sluice.spec.ingress[1]!), [portNumber(container('controller'), 'http-metrics'), portNumber(container('webhook'), 'webhook-metrics')])
  t.ok(sluice.spec.ingress[0]!.from.some(f => f.ipBlock?.cidr), 'the API server as an ipBlock (self-managed control planes, EKS)')
  t.ok(sluice.spec.ingress[0]!.from.some(f => f.podSelector?.matchLabels['k8s-app'] === 'konnectivity-agent'), 'or through Konnectivity')
  for (const f of sluice.spec.ingress[1]!.from) t.ok(f.namespaceSelector && f.podSelector, 'Prometheus by namespace and pod, never by namespace alone')
  t.same(ports(lt.spec.ingress[0]!), [portNumber(ltContainer, 'http')])
  t.ok(lt.spec.ingress[0]!.from.some(f => f.podSelector && !f.namespaceSelector && matches(f.podSelector.matchLabels, template.metadata.labels)), 'sluice\'s pods (its hooks) may call the load tester')
})

t.test('sluice uninstall knows every cluster-scoped object of the manifests; the namespaced ones go with sluice-system', async t => {
  const clusterScoped = ALL.filter(({ object }) => object.metadata?.namespace === undefined && object.kind !== 'Kustomization').map(({ object }) => `${String(object.kind)}/${String(object.metadata?.name)}`)
  const removed = [...WEBHOOK_OBJECTS, ...INSTALL_OBJECTS, ...CRD_OBJECTS].map(o => `${o.kind}/${o.name}`)
  t.same([...new Set(clusterScoped)].sort(), removed.sort())
  const namespaces = new Set(ALL.map(({ object }) => object.metadata?.namespace).filter(ns => ns !== undefined))
  t.same([...namespaces], ['sluice-system'], 'everything namespaced is in sluice-system')
})
