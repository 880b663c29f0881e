// The capability table against the CRD schema and the code: every field the schema admits has an entry;
// what the table says is not available is refused by validation; what it says is implemented changes what
// sluice does (the same release run with and without the option behaves differently), so an option can
// never again be admitted and ignored.
import t, { type Test } from 'tap'
import { nextTickAt } from '../../../src/controller/machine/phases.ts'
import { autoscalerNames, primaryAutoscaler, primaryDeployment } from '../../../src/deployer/primary.ts'
import { runHooks, hookTimeoutMs } from '../../../src/hooks/webhooks.ts'
import { analyseMetrics } from '../../../src/metrics/analysis.ts'
import { createNotifier, sendAlerts } from '../../../src/notify/index.ts'
import { routerFor } from '../../../src/router/registry.ts'
import type { KubeObject, ObjectRef, ApplyClient } from '../../../src/kube/apply.ts'
import {
  FIELD_VALUES, IMPLEMENTED_ALERT_PROVIDERS, IMPLEMENTED_AUTOSCALER_KINDS, IMPLEMENTED_METRIC_PROVIDERS, IMPLEMENTED_PROVIDERS, readersOf, SPEC_OPTIONS,
  type ImplementedProvider,
} from '../../../src/api/capabilities.ts'
import { validateAlertProvider, validateMetricTemplate } from '../../../src/api/validate-resources.ts'
import { canarySpecSchema, type JSONSchema } from '../../../src/api/schema.ts'
import { ALERT_PROVIDER_TYPES, HOOK_TYPES, METRIC_PROVIDER_TYPES, PROVIDERS, type Canary, type CanarySpec } from '../../../src/api/types.ts'
import { validateSpec } from '../../../src/api/validate.ts'
import { allPass, failing, run, status, world, type Checker } from '../controller/machine/fixtures.ts'
import { canary, deployment, hpa, ingress, metricTemplate } from '../../helpers/objects.ts'

/** Every path the schema admits, down to leaves, maps and free-form objects; list items as `[]`-less paths. */
function schemaPaths(schema: JSONSchema, path = ''): string[] {
  const item = schema.type === 'array' && schema.items ? schema.items : schema
  if (!item.properties) return [path]
  return Object.entries(item.properties).flatMap(([k, v]) => schemaPaths(v, path === '' ? k : `${path}.${k}`))
}

const PATHS = schemaPaths(canarySpecSchema)

t.test('every field of the Canary schema has an entry in the capability table, and every entry is a field', async t => {
  for (const p of PATHS) t.not(readersOf(p), undefined, `${p} is classified`)
  for (const key of Object.keys(SPEC_OPTIONS)) {
    t.ok(PATHS.some(p => p === key || p.startsWith(`${key}.`)), `${key} names a schema field`)
  }
})

t.test('every provider the schema admits is implemented (a router) or refused, naming what is available', async t => {
  const kube: ApplyClient = { apply: async () => {}, get: async () => undefined, delete: async () => {} }
  for (const p of PROVIDERS) {
    if ((IMPLEMENTED_PROVIDERS as readonly string[]).includes(p)) {
      t.ok(routerFor(p, kube), `${p} has a router`)
      continue
    }
    const errors = validateSpec({ provider: p, targetRef: { name: 'a' }, service: { port: 80 }, analysis: { stepWeight: 10 } })
    t.same(errors.filter(e => e.field === 'provider').map(e => e.message),
      [`${p} is not available yet in this version of sluice; available: kubernetes, nginx, gatewayapi, gatewayapi:v1beta1, istio, linkerd, traefik, contour`], p)
  }
})

t.test('every metrics provider type is implemented or refused at apply', async t => {
  for (const type of METRIC_PROVIDER_TYPES) {
    const errors = validateMetricTemplate({ provider: { type, address: 'http://prometheus:9090' }, query: 'up' })
    if ((IMPLEMENTED_METRIC_PROVIDERS as readonly string[]).includes(type)) t.same(errors, [], `${type} is accepted`)
    else t.match(errors.map(e => `${e.field} ${e.message}`), [`provider.type ${type} is not available yet in this version of sluice; available: prometheus`], type)
  }
})

t.test('every AlertProvider type the schema admits is implemented (a notifier) or refused at apply', async t => {
  for (const type of ALERT_PROVIDER_TYPES) {
    const errors = validateAlertProvider({ type, address: 'https://alerts.example.com/hook' })
    if ((IMPLEMENTED_ALERT_PROVIDERS as readonly string[]).includes(type)) {
      t.same(errors, [], `${type} is accepted`)
      t.ok(createNotifier({ apiVersion: 'sluice.dev/v1beta1', kind: 'AlertProvider', metadata: { name: 'a', namespace: 'n' }, spec: { type, address: 'https://alerts.example.com/hook' } }, undefined), `${type} has a notifier`)
    } else {
      t.match(errors.map(e => `${e.field} ${e.message}`), [`type ${type} is not available yet in this version of sluice; available: `], type)
    }
  }
  t.same([...IMPLEMENTED_ALERT_PROVIDERS].sort(), [...ALERT_PROVIDER_TYPES].sort(), 'every type runs')
})

t.test('every autoscaler kind the schema admits is implemented or refused', async t => {
  const kinds = canarySpecSchema.properties?.autoscalerRef?.properties?.kind?.enum ?? []
  t.ok(kinds.length > 0)
  for (const kind of kinds) {
    const errors = validateSpec({ targetRef: { name: 'a' }, service: { port: 80 }, provider: 'kubernetes', analysis: { iterations: 2 }, autoscalerRef: { kind, name: 'a' } }, { strategy: 'blue-green' })
    if ((IMPLEMENTED_AUTOSCALER_KINDS as readonly (string | number)[]).includes(kind)) t.same(errors, [], `${kind} is accepted`)
    else t.match(errors.map(e => e.field), ['autoscalerRef.kind'], `${kind} is refused`)
  }
})

t.test('a "validated" field with a value sluice does not read is refused', async t => {
  for (const [key, readers] of Object.entries(SPEC_OPTIONS)) {
    if (readers !== 'validated') continue
    t.ok(FIELD_VALUES[key], `${key} has its accepted values`)
  }
  const base = { targetRef: { name: 'a' }, service: { port: 80 }, provider: 'nginx', ingressRef: { name: 'a' }, analysis: { stepWeight: 10 } }
  const refused = (spec: object): string[] => validateSpec(spec).map(e => e.field)
  t.same(refused({ ...base, targetRef: { name: 'a', kind: 'DaemonSet' } }), ['targetRef.kind'])
  t.same(refused({ ...base, targetRef: { name: 'a', apiVersion: 'apps/v1beta1' } }), ['targetRef.apiVersion'])
  t.same(refused({ ...base, ingressRef: { name: 'a', kind: 'Route' } }), ['ingressRef.kind'])
  t.same(refused({ ...base, ingressRef: { name: 'a', apiVersion: 'extensions/v1beta1' } }), ['ingressRef.apiVersion'])
  t.same(refused({ ...base, autoscalerRef: { name: 'a', apiVersion: 'keda.sh/v1alpha1' } }), ['autoscalerRef.apiVersion'])
  t.same(refused({ ...base, analysis: { stepWeight: 10, metrics: [{ name: 'x', templateRef: { name: 't', kind: 'AnalysisTemplate' }, thresholdRange: { max: 1 } }] } }), ['analysis.metrics[0].templateRef.kind'])
  t.same(refused({ ...base, analysis: { stepWeight: 10, alerts: [{ name: 'x', providerRef: { name: 'p', apiVersion: 'flagger.app/v1beta1' } }] } }), ['analysis.alerts[0].providerRef.apiVersion'])
})

// ---- what runs: one maximal Canary per strategy, every option set to a value other than its default ----

const metadata = { labels: { team: 'shop' }, annotations: { note: 'x' } }

// The analysis options only some routers read, set for exactly the providers the table lists (and the strategies
// that use them: A/B matches, no mirror or cookies under A/B, cookies only where the weights split).
function routerAnalysis(provider: ImplementedProvider, strategy: 'canary' | 'ladder' | 'iterations' | 'ab'): Partial<CanarySpec['analysis']> {
  const reads = (key: string): boolean => { const r = readersOf(key); return Array.isArray(r) && r.includes(provider) }
  if (strategy === 'ab') return { match: [{ headers: { 'x-canary': { exact: 'insider' } } }] }
  return {
    ...(reads('analysis.mirror') && { mirror: true }),
    ...(reads('analysis.mirrorWeight') && { mirrorWeight: 40 }),
    ...(reads('analysis.sessionAffinity') && strategy !== 'iterations' && { sessionAffinity: { cookieName: 'shop', maxAge: 600, primaryCookieName: 'stay' } }),
  }
}

function maximal(provider: ImplementedProvider, strategy: 'canary' | 'ladder' | 'iterations' | 'ab'): CanarySpec {
  const gateway = provider.startsWith('gatewayapi')
  const istio = provider === 'istio'
  const contour = provider === 'contour'
  const progression = strategy === 'canary' ? { stepWeight: 25, maxWeight: 75, stepWeightPromotion: 50 }
    : strategy === 'ladder' ? { stepWeights: [10, 30, 60], stepWeightPromotion: 50 } : { iterations: 3 }
  return {
    provider,
    metricsServer: 'http://prometheus.monitoring:9090',
    targetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'podinfo' },
    autoscalerRef: { apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', name: 'podinfo', primaryScalerReplicas: { minReplicas: 4, maxReplicas: 7 } },
    ...(provider === 'nginx' && { ingressRef: { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', name: 'podinfo' } }),
    service: {
      name: 'front', port: 8080, portName: 'web', targetPort: 9898, appProtocol: 'http', headless: true,
      apex: metadata, primary: metadata, canary: metadata,
      ...(gateway && {
        timeout: '15s', rewrite: { uri: '/v2', authority: 'api.example.com', type: 'ReplaceFullPath' },
        headers: { request: { set: { 'x-a': '1' } }, response: { add: { 'x-b': '2' } } },
        match: [{ uri: { prefix: '/api' } }], gatewayRefs: [{ name: 'public', namespace: 'gateways' }], hosts: ['shop.example.com'],
      }),
      ...(istio && {
        timeout: '15s', retries: { attempts: 3, perTryTimeout: '2s', retryOn: '5xx' }, corsPolicy: { allowOrigins: [{ exact: 'https://shop.example.com' }] },
        rewrite: { uri: '/v2', authority: 'api.example.com' },
        headers: { request: { set: { 'x-a': '1' } }, response: { add: { 'x-b': '2' } } },
        match: [{ uri: { prefix: '/api' } }], trafficPolicy: { tls: { mode: 'ISTIO_MUTUAL' } },
        // A delegate has no hosts or gateways of its own (validation refuses them together).
        ...(strategy === 'iterations' ? { delegation: true } : { gateways: ['public-gateway.istio-system.svc.cluster.local'], hosts: ['shop.example.com'] }),
      }),
      ...(contour && { timeout: '15s', retries: { attempts: 3, perTryTimeout: '2s', retryOn: '5xx' }, match: [{ uri: { prefix: '/api' } }] }),
      // linkerd's HTTPRoute path (GAMMA): the apex Service as the parent; without it, the TrafficSplit.
      ...(provider === 'linkerd' && { gatewayRefs: [{ group: '', kind: 'Service', name: 'front', port: 8080 }] }),
    },
    analysis: {
      interval: '30s', threshold: 2, ...progression,
      ...routerAnalysis(provider, strategy),
      primaryReadyThreshold: 50, canaryReadyThreshold: 50,
      metrics: [
        { name: 'request-success-rate', interval: '2m', thresholdRange: { min: 90, max: 101 } },
        { name: 'latency', threshold: 400, query: 'histogram_quantile(0.99, x{ns="{{ namespace }}"})' },
        { name: 'errors', templateRef: { apiVersion: 'sluice.dev/v1beta1', kind: 'MetricTemplate', name: 'errors', namespace: 'ops' }, templateVariables: { q: 'v' }, thresholdRange: { max: 1 } },
      ],
      webhooks: [
        ...HOOK_TYPES.filter(type => type !== 'event').map(type => ({
          name: `h-${type}`, url: `https://hooks.example.com/${type}`, type, timeout: '7s', metadata: { cmd: 'hey' }, retries: 2, muteAlert: true, disableTLS: true,
        })),
      ],
      alerts: [{ name: 'ops', severity: 'warn' as const, providerRef: { apiVersion: 'sluice.dev/v1beta1', kind: 'AlertProvider', name: 'slack', namespace: 'ops' } }],
    },
    progressDeadlineSeconds: 120,
    revertOnDeletion: false,
  }
}

function memoryKube(objects: KubeObject[]): ApplyClient & { log: unknown[] } {
  const store = new Map(objects.map(o => [`${o.kind}/${o.metadata?.name}`, o]))
  const log: unknown[] = []
  return {
    log,
    async apply(o) { log.push(['apply', o]); store.set(`${o.kind}/${o.metadata?.name}`, structuredClone(o)) },
    async get(ref: ObjectRef) { return structuredClone(store.get(`${ref.kind}/${ref.name}`)) },
    async delete(ref) { log.push(['delete', `${ref.kind}/${ref.name}`]); store.delete(`${ref.kind}/${ref.name}`) },
  }
}

const TARGET = deployment({ metadata: { labels: { app: 'podinfo' } }, spec: { replicas: 2, template: { spec: { containers: [{ name: 'app', image: 'podinfo:1' }] } } } })
const INGRESS = ingress({ spec: { ingressClassName: 'nginx', rules: [{ host: 'shop.example.com', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'front', port: { number: 8080 } } } }] } }] } })
const HPA = hpa({ spec: { minReplicas: 2, maxReplicas: 5 } })

const addressOf = (url: string | URL | Request): string => (url instanceof Request ? url.url : url.toString())

/** Everything sluice does with a Canary that no cluster is needed to see, as one string to compare. */
// run() asserts the machine's own invariants as it goes; phases.test.ts owns those, this harness only
// compares what comes out, so they are not asserted again here.
const unchecked = { same: () => true, equal: () => true } as unknown as Test

async function behaviour(spec: CanarySpec): Promise<string> {
  const tt = unchecked
  // The spec as given, whole: a default merged in would hide an option the comparison leaves out. The status
  // holds session cookies as the machine decides them, for the routers that read them.
  const c: Canary = { ...canary(), spec, status: { sessionAffinityCookie: 'shop=abc', primarySessionAffinityCookie: 'stay=abc' } }
  const seen: unknown[] = []
  // The router's writes at a split with mirroring, and its revert.
  // An error is behaviour too (an option removed can make the router refuse): it is compared like the rest.
  const kube = memoryKube([TARGET, INGRESS])
  try {
    const router = routerFor(spec.provider, kube)
    await router.reconcile(c)
    await router.setRoutes(c, spec.provider === 'kubernetes' ? { primary: 0, canary: 100 } : { primary: 50, canary: 50, mirror: true })
    seen.push(await router.getRoutes(c))
    await router.finalize(c)
  } catch (e) {
    seen.push(String(e))
  }
  seen.push(kube.log)
  // The phase machine through a release that passes, one that fails its metrics, and one held at its gates.
  const gates = (closed: string): Checker => (stage, canary) => stage === 'metrics' ? allPass(stage, canary)
    : allPass(stage, canary).map(o => o.kind === 'hook' && (o.type === 'rollback' || o.type === closed) ? { ...o, verdict: 'fail' as const } : o)
  const failingMetrics: Checker = (stage, canary) => stage === 'metrics' ? [failing('request-success-rate', 10)] : gates('')(stage, canary)
  for (const checker of [gates(''), failingMetrics, gates('confirm-promotion')]) {
    const trace = run(tt, { spec, status: status('Succeeded'), world: world(), ticks: 12, until: s => s.phase === 'Succeeded' || s.phase === 'Failed', checker })
    seen.push(trace.phases, trace.routes, trace.actions)
  }
  // Two of three pods available on each side: enough for a 50% ready threshold, not for the default 100%.
  const partly = { exists: true, generation: 1, observedGeneration: 1, replicas: 3, updatedReplicas: 3, availableReplicas: 2 }
  const stuck = run(tt, { spec, checker: gates(''), status: status('Succeeded'), world: world(), ticks: 12, extra: w => ({ canary: partly, primary: { ...partly, ...(w.primary.revision && { revision: w.primary.revision }) } }) })
  seen.push(stuck.phases, stuck.actions)
  // A canary that never becomes ready, for five minutes: long enough for a short progress deadline only.
  const never = run(tt, { spec, checker: gates(''), status: status('Succeeded'), world: world(), ticks: 5, extra: () => ({ canary: { ...partly, availableReplicas: 0 } }) })
  seen.push(never.phases, never.actions)
  const deleted = run(tt, { spec, checker: gates(''), status: status('Succeeded'), world: world({ revision: 'rev-old' }), ticks: 3, extra: () => ({ deleting: true }) })
  seen.push(deleted.phases, deleted.actions)
  // The analysis: the queries and the servers they go to.
  const queries: unknown[] = []
  const records = await analyseMetrics(c, {
    getTemplate: async (namespace, name) => metricTemplate({ metadata: { name, namespace }, spec: {
      provider: { type: 'prometheus' }, query: `sum(errors{template="${namespace}/${name}", q="{{ variables.q }}", ns="{{ namespace }}", w="{{ interval }}"})`,
    } }),
    getSecret: async () => undefined,
    providerFor: options => ({ query: async q => { queries.push([options, q]); return 50 }, isOnline: async () => true }),
    defaultMetricsServer: 'http://default:9090',
    now: () => new Date(0),
  })
  seen.push(queries, records)
  // The hooks: what is sent, where, how often, how long it may take.
  const calls: unknown[] = []
  const fakeFetch = (async (url: string | URL | Request, init?: RequestInit) => {
    calls.push([addressOf(url), init?.body, Object.keys(init ?? {}).sort()])
    return new Response('no', { status: 503 })
  }) as typeof fetch
  for (const type of HOOK_TYPES) seen.push(await runHooks(c, type, { fetch: fakeFetch, retryDelayMs: 0, checksum: 'x' }))
  seen.push(calls, (spec.analysis?.webhooks ?? []).map(hookTimeoutMs))
  // The alerts of each severity.
  const posted: unknown[] = []
  for (const severity of ['info', 'warn', 'error'] as const) {
    await sendAlerts(c, severity, 'm', {
      getProvider: (namespace, name) => namespace === 'ops' && name === 'slack'
        ? { apiVersion: 'sluice.dev/v1beta1', kind: 'AlertProvider', metadata: { name, namespace }, spec: { type: 'webhook', address: 'http://alerts.example.com' } }
        : undefined,
      getSecret: async () => undefined,
      // The service refuses, so that the alert is named in the log line that says so.
      fetch: (async (url: string | URL | Request) => { posted.push([severity, addressOf(url)]); return new Response('no', { status: 500 }) }),
      logger: { warn: (o: object) => { posted.push(o) } },
    })
  }
  seen.push(posted)
  // The primary and its autoscaler.
  const names = autoscalerNames(c)
  const source = names && new Map([['podinfo', HPA]]).get(names.source)
  seen.push(primaryDeployment({ canary: c, target: TARGET, revision: 'r1', replicas: 3, tracked: new Set() }), names?.primary, source && primaryAutoscaler(c, source))
  // When the next look is due.
  seen.push(nextTickAt({ spec, status: status('Progressing') })?.toISOString())
  return JSON.stringify(seen)
}

function without(spec: CanarySpec, key: string): CanarySpec | undefined {
  const copy = structuredClone(spec) as unknown as Record<string, unknown>
  const parts = key.split('.')
  let found = false
  const drop = (node: unknown, i: number): void => {
    if (Array.isArray(node)) { node.forEach(n => { drop(n, i) }); return }
    if (node === null || typeof node !== 'object') return
    const o = node as Record<string, unknown>
    if (i === parts.length - 1) { if (parts[i]! in o) { delete o[parts[i]!]; found = true } return }
    drop(o[parts[i]!], i + 1)
  }
  drop(copy, 0)
  return found ? copy as unknown as CanarySpec : undefined
}

const STRATEGIES = ['canary', 'ladder', 'iterations', 'ab'] as const
const TOGGLES = ['skipAnalysis', 'suspend'] as const

for (const provider of IMPLEMENTED_PROVIDERS.filter(p => p !== 'gatewayapi:v1')) {
  t.test(`${provider}: every option the table says it implements changes what sluice does`, async t => {
    const variants = STRATEGIES.map(s => maximal(provider, s)).filter(spec => validateSpec(spec, { minIntervalMs: 1 }).length === 0)
    t.ok(variants.length > 0, 'a maximal Canary validates')
    const baseline = new Map<CanarySpec, string>()
    for (const spec of variants) baseline.set(spec, await behaviour(spec))
    for (const spec of variants) t.equal(await behaviour(spec), baseline.get(spec), 'the same Canary behaves the same (the comparison below means something)')
    for (const key of TOGGLES) {
      const spec = variants[0]!
      t.not(await behaviour({ ...spec, [key]: true }), baseline.get(spec), `${key}: true changes what sluice does with provider ${provider}`)
    }
    for (const [key, readers] of Object.entries(SPEC_OPTIONS)) {
      if (readers === 'validated' || (readers !== 'all' && !readers.includes(provider))) continue
      // The provider is covered above, and the switches that turn the whole run off have their own check.
      if (key === 'provider' || (TOGGLES as readonly string[]).includes(key)) continue
      let changed = false
      let set = false
      for (const spec of variants) {
        const reduced = without(spec, key)
        if (!reduced) continue
        set = true
        if (await behaviour(reduced) !== baseline.get(spec)) { changed = true; break }
      }
      if (!set) {
        // Options of a strategy this provider cannot run (stepWeight with kubernetes) are refused instead.
        const refused = STRATEGIES.map(s => maximal(provider, s)).some(spec => without(spec, key) && validateSpec(spec, { minIntervalMs: 1 }).length > 0)
        t.ok(refused, `${key} is set in a maximal ${provider} Canary, or refused with it`)
        continue
      }
      t.ok(changed, `${key} changes what sluice does with provider ${provider}`)
    }
  })
}

// A value for each option that some implemented provider does not read.
const SAMPLES: Readonly<Record<string, unknown>> = {
  'autoscalerRef.primaryScalerQueries': { q: 'sum(x)' },
  'ingressRef.name': 'podinfo',
  'routeRef': { name: 'r' },
  'upstreamRef': { name: 'u' },
  'service.portDiscovery': true,
  'service.timeout': '5s',
  'service.retries': { attempts: 3 },
  'service.corsPolicy': { allowOrigins: [{ exact: 'x' }] },
  'service.rewrite.uri': '/v2',
  'service.rewrite.authority': 'a.example.com',
  'service.rewrite.type': 'ReplaceFullPath',
  'service.headers.request': { set: { a: 'b' } },
  'service.headers.response': { set: { a: 'b' } },
  'service.match': [{ uri: { prefix: '/' } }],
  'service.gateways': ['mesh'],
  'service.gatewayRefs': [{ name: 'g' }],
  'service.hosts': ['a.example.com'],
  'service.delegation': true,
  'service.trafficPolicy': { tls: { mode: 'ISTIO_MUTUAL' } },
  'service.mirror': [{ backendRef: { name: 'x' } }],
  'service.meshName': 'mesh',
  'service.backends': ['b'],
  'analysis.match': [{ headers: { x: { exact: 'y' } } }],
  'analysis.mirror': true,
  'analysis.mirrorWeight': 50,
  'analysis.sessionAffinity': { cookieName: 'c' },
}

function setAt(spec: CanarySpec, key: string, value: unknown): CanarySpec {
  const copy = structuredClone(spec) as unknown as Record<string, unknown>
  const parts = key.split('.')
  let node = copy
  for (const part of parts.slice(0, -1)) node = (node[part] ??= {}) as Record<string, unknown>
  node[parts.at(-1)!] = value
  return copy as unknown as CanarySpec
}

for (const provider of IMPLEMENTED_PROVIDERS) {
  t.test(`${provider}: every option the table says it does not read is refused at apply, naming the field`, async t => {
    const spec = maximal(provider, provider === 'kubernetes' ? 'iterations' : 'canary')
    for (const [key, readers] of Object.entries(SPEC_OPTIONS)) {
      if (readers === 'all' || readers === 'validated' || readers.includes(provider)) continue
      t.ok(key in SAMPLES, `${key} has a sample value`)
      const errors = validateSpec(setAt(spec, key, SAMPLES[key]), { minIntervalMs: 1 })
      // A match makes the Canary an A/B test, which a provider without header routing refuses as a whole.
      if (key === 'analysis.match' && errors.some(e => e.field === 'provider' && /cannot route requests by header/.test(e.message))) continue
      const at = errors.filter(e => e.field === key || e.field.startsWith(`${key}.`) || e.field.startsWith(`${key}[`))
      t.ok(at.length > 0, `${key} is refused with provider ${provider}`)
      // Every refusal of the field, in order: another rule (a match outside strategy ab) may come first.
      t.match(at.map(e => e.message).join('\n'), readers.length === 0 ? /is not available yet in this version of sluice/ : /is not used by provider/, key)
    }
  })
}
