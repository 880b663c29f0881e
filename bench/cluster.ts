// The API server's view: a local cluster (test/cluster), sluice installed and its webhook started as in
// the integration run, then a burst of Deployment creates; the webhook latency is read from the API
// server's own histogram, apiserver_admission_webhook_admission_duration_seconds, before and after.
import { execFile } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { promisify } from 'node:util'
import { AdmissionregistrationV1Api, AppsV1Api, CoreV1Api, CustomObjectsApi, KubeConfig } from '@kubernetes/client-node'
import { DEPLOYMENTS_WEBHOOK } from '../src/admission/registration.ts'
import { createCA, createLeaf } from '../src/certs/pki.ts'
import { clusterDown, clusterUp, readState } from '../test/cluster/cluster.ts'
import type { ClusterState } from '../test/cluster/cluster.ts'
import { installSluice } from '../test/cluster/install-sluice.ts'
import { httpsGet } from '../test/cluster/process.ts'
import { startSluiceWebhook } from '../test/cluster/sluice-webhook.ts'
import type { SluiceWebhook } from '../test/cluster/sluice-webhook.ts'
import { next, startChild } from './children.ts'
import type { OnCleanup } from './children.ts'
import { BENCH_NAMESPACE, NAMESPACE_LABELS, alertProvider, createBody, deliveryPolicy, metricTemplate } from './fixture.ts'
import type { LatencySummary } from './ipc.ts'
import { machineBusyUs, processCpuMs } from './machine.ts'
import { histogramQuantile, summarize } from './stats.ts'
import type { Bucket } from './stats.ts'

const run = promisify(execFile)
const root = resolve(import.meta.dirname, '..')
const GROUP = 'sluice.dev'
const VERSION = 'v1beta1'
const METRIC = 'apiserver_admission_webhook_admission_duration_seconds'

export interface ClusterOptions {
  readonly dir: string
  readonly writes: number
  readonly concurrency: number
  readonly warmupWrites: number
  /** Creates one at a time before the burst: the latency floor without concurrency. */
  readonly sequentialWrites: number
  readonly log: (m: string) => void
  /** Registers a step to run at exit, whatever happens (the caller runs them on errors and signals). */
  readonly onCleanup: OnCleanup
}

export interface HistogramDelta {
  /** Observations in the window, by the histogram's operation label. */
  readonly countByOperation: Readonly<Record<string, number>>
  readonly count: number
  readonly sumSeconds: number
  readonly buckets: readonly Bucket[]
  readonly p50Ms: number
  readonly p90Ms: number
  readonly p99Ms: number
  readonly meanMs: number
}

/** One series of creates, and what the API server observed of one webhook meanwhile. */
export interface WriteRun {
  readonly writes: number
  readonly concurrency: number
  readonly created: number
  readonly errors: readonly string[]
  readonly ms: number
  readonly writesPerSecond: number
  /** What the client saw per create: the whole write, webhook included. */
  readonly clientCreateLatency: LatencySummary
  /** apiserver_admission_webhook_admission_duration_seconds of the webhook, operation CREATE. */
  readonly apiServerObserved: HistogramDelta
  /** Busy cores of the whole machine during the run (cluster, webhooks, client, anything else). */
  readonly machineBusyCores: number | undefined
}

export interface ClusterResult {
  readonly webhook: string
  readonly floorWebhook: string
  readonly namespace: string
  readonly sluice: {
    readonly sequential: WriteRun
    readonly burst: WriteRun & {
      /** Every call to sluice's webhook during the burst, controllers' writes included. */
      readonly allOperations: HistogramDelta
      /** CPU the sluice webhook process used during the burst, from /proc. */
      readonly webhookCpuMs: number | undefined
      /** API server → webhook connections opened during the burst (sampled every 50 ms: a lower bound). */
      readonly newConnectionsSeen: number
    }
  }
  /** The same writes without sluice annotations, sent only to the floor webhook (bench/floor.ts). */
  readonly floor: { readonly sequential: WriteRun; readonly burst: WriteRun }
  /** Errors and timeouts the API server counted for sluice's webhook over the whole run. */
  readonly webhookRejections: number
  readonly createErrors: number
  readonly errorSamples: readonly string[]
  readonly setupMs: number
}

async function binDir(log: (m: string) => void): Promise<string> {
  const fromEnv = process.env.SLUICE_K8S_BIN_DIR
  if (fromEnv) return fromEnv
  log('SLUICE_K8S_BIN_DIR is not set: building (or finding) the cluster binaries with test/cluster/build-bins.sh')
  const { stdout } = await run('bash', [resolve(root, 'test/cluster/build-bins.sh')], { maxBuffer: 64 << 20 })
  const last = stdout.trim().split('\n').at(-1)
  if (!last) throw new Error('test/cluster/build-bins.sh printed no directory')
  return last
}

// ---- the API server's metrics --------------------------------------------------------------------

interface Series { readonly labels: Readonly<Record<string, string>>; readonly value: number }

function parseLabels(text: string): Record<string, string> {
  const out: Record<string, string> = {}
  for (const m of text.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) out[m[1]!] = m[2]!
  return out
}

/** The series of one metric family (`name` with a suffix such as _bucket), for one webhook. */
function series(metrics: string, name: string, webhook: string): Series[] {
  const out: Series[] = []
  for (const line of metrics.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue
    const close = line.lastIndexOf('}')
    const labels = parseLabels(line.slice(name.length + 1, close))
    if (labels.name !== webhook) continue
    out.push({ labels, value: Number(line.slice(close + 1).trim().split(' ')[0]) })
  }
  return out
}

async function scrape(state: ClusterState): Promise<string> {
  const r = await httpsGet(`https://127.0.0.1:${state.apiPort}/metrics`, state.caPem, 15_000, { token: state.adminToken })
  if (r.status !== 200) throw new Error(`GET /metrics: HTTP ${r.status}`)
  return r.body
}

function sumBy(list: Series[], key: (s: Series) => string): Map<string, number> {
  const m = new Map<string, number>()
  for (const s of list) m.set(key(s), (m.get(key(s)) ?? 0) + s.value)
  return m
}

function delta(before: string, after: string, webhook: string, operation?: string): HistogramDelta {
  const pick = (text: string, suffix: string): Series[] =>
    series(text, `${METRIC}${suffix}`, webhook).filter(s => operation === undefined || s.labels.operation === operation)
  const les = (text: string): Map<string, number> => sumBy(pick(text, '_bucket'), s => s.labels.le ?? '')
  const [b, a] = [les(before), les(after)]
  const buckets: Bucket[] = [...a.entries()].map(([le, count]) => ({
    le: le === '+Inf' ? Infinity : Number(le), count: count - (b.get(le) ?? 0),
  })).sort((x, y) => x.le - y.le)
  const ops = (text: string): Map<string, number> => sumBy(pick(text, '_count'), s => s.labels.operation ?? '')
  const [ob, oa] = [ops(before), ops(after)]
  const countByOperation: Record<string, number> = {}
  for (const [op, n] of oa) {
    const d = n - (ob.get(op) ?? 0)
    if (d !== 0) countByOperation[op] = d
  }
  const total = (text: string, suffix: string): number => pick(text, suffix).reduce((s, x) => s + x.value, 0)
  const count = total(after, '_count') - total(before, '_count')
  const sumSeconds = total(after, '_sum') - total(before, '_sum')
  return {
    countByOperation, count, sumSeconds, buckets,
    p50Ms: histogramQuantile(buckets, 0.5) * 1000,
    p90Ms: histogramQuantile(buckets, 0.9) * 1000,
    p99Ms: histogramQuantile(buckets, 0.99) * 1000,
    meanMs: count > 0 ? sumSeconds / count * 1000 : Number.NaN,
  }
}

function rejections(metrics: string): number {
  return series(metrics, 'apiserver_admission_webhook_rejection_count', DEPLOYMENTS_WEBHOOK).reduce((s, x) => s + x.value, 0)
}

// ---- connections to the webhook -----------------------------------------------------------------

/** Remote ports of established TCP connections to a local port on 127.0.0.1, from /proc/net/tcp. */
function peersOf(port: number): string[] {
  try {
    const local = `0100007F:${port.toString(16).toUpperCase().padStart(4, '0')}`
    return readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)
      .map(l => l.trim().split(/\s+/))
      .filter(f => f[1] === local && f[3] === '01')
      .map(f => f[2]!)
  } catch {
    return []
  }
}

/** Samples the webhook's connections every 50 ms until stopped: how many the API server opened. */
function watchConnections(port: number): () => number {
  const seen = new Set(peersOf(port))
  const before = new Set(seen)
  const timer = setInterval(() => { for (const p of peersOf(port)) seen.add(p) }, 50)
  return () => {
    clearInterval(timer)
    for (const p of peersOf(port)) seen.add(p)
    return [...seen].filter(p => !before.has(p)).length
  }
}

// ---- the run -------------------------------------------------------------------------------------

function errorText(e: unknown): string {
  const err = e as { code?: number; body?: unknown; message?: string }
  const body = typeof err.body === 'string' ? err.body : JSON.stringify(err.body ?? '')
  return `${err.code ?? ''} ${(err.message ?? String(e)).split('\n')[0]} ${body}`.slice(0, 300)
}

// The floor webhook: a MutatingWebhookConfiguration of the benchmark's own, for labelled Deployments only.
const FLOOR_WEBHOOK = 'floor.bench.sluice.dev'
const FLOOR_LABEL = 'bench.sluice.dev/floor'

async function startFloor(kc: KubeConfig, onCleanup: ClusterOptions['onCleanup']): Promise<void> {
  const ca = createCA('sluice-bench-floor-ca', 3600)
  const leaf = createLeaf(ca, { commonName: '127.0.0.1', dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'], usage: 'server', lifetimeSeconds: 3600 })
  const child = startChild('floor.ts', { BENCH_CERT_PEM: leaf.certPem, BENCH_KEY_PEM: leaf.keyPem }, onCleanup)
  const { port } = await next<{ type: 'listening'; port: number }>(child, ['listening'])
  await kc.makeApiClient(AdmissionregistrationV1Api).createMutatingWebhookConfiguration({
    body: {
      metadata: { name: 'sluice-bench-floor' },
      webhooks: [{
        name: FLOOR_WEBHOOK, admissionReviewVersions: ['v1'], sideEffects: 'None', failurePolicy: 'Fail', timeoutSeconds: 5,
        reinvocationPolicy: 'Never', matchPolicy: 'Equivalent',
        clientConfig: { url: `https://127.0.0.1:${port}/mutate`, caBundle: Buffer.from(ca.certPem).toString('base64') },
        rules: [{ operations: ['CREATE', 'UPDATE'], apiGroups: ['apps'], apiVersions: ['v1'], resources: ['deployments'], scope: 'Namespaced' }],
        namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': BENCH_NAMESPACE } },
        objectSelector: { matchLabels: { [FLOOR_LABEL]: 'true' } },
      }],
    },
  })
}

/** The floor's Deployment: the same write without sluice annotations, labelled for the floor webhook only. */
function floorBody(name: string, namespace: string): Record<string, unknown> {
  const body = createBody(name, namespace)
  const meta = body.metadata as { labels: Record<string, string>; annotations: Record<string, string> }
  const annotations = Object.fromEntries(Object.entries(meta.annotations).filter(([k]) => !k.startsWith('sluice.dev/')))
  return { ...body, metadata: { ...meta, labels: { ...meta.labels, [FLOOR_LABEL]: 'true' }, annotations } }
}

type BodyOf = (name: string, namespace: string) => Record<string, unknown>

async function prepare(kc: KubeConfig): Promise<void> {
  const core = kc.makeApiClient(CoreV1Api)
  const custom = kc.makeApiClient(CustomObjectsApi)
  await core.createNamespace({ body: { metadata: { name: BENCH_NAMESPACE, labels: { ...NAMESPACE_LABELS } } } })
  // The policy registers a webhook of its own for Deployments without sluice annotations: the floor's are kept out of it.
  const policy = deliveryPolicy()
  const excludeFloor = { ...policy, spec: { ...policy.spec, selector: { matchExpressions: [{ key: FLOOR_LABEL, operator: 'DoesNotExist' as const }] } } }
  await custom.createClusterCustomObject({ group: GROUP, version: VERSION, plural: 'deliverypolicies', body: excludeFloor })
  await custom.createNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: BENCH_NAMESPACE, plural: 'metrictemplates', body: metricTemplate(BENCH_NAMESPACE) })
  await custom.createNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: BENCH_NAMESPACE, plural: 'alertproviders', body: alertProvider(BENCH_NAMESPACE) })
}

/**
 * Waits until a dry-run create is admitted and patched: sluice's caches hold the policy and the references,
 * and the API server calls the floor webhook.
 */
async function waitAdmitted(apps: AppsV1Api, bodyOf: BodyOf, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  let last = ''
  while (Date.now() < deadline) {
    try {
      const d = await apps.createNamespacedDeployment({ namespace: BENCH_NAMESPACE, body: bodyOf('dry-run', BENCH_NAMESPACE), dryRun: 'All' })
      if (d.spec?.replicas === 0) return
      last = 'admitted without the patch'
    } catch (e) {
      last = errorText(e)
    }
    await new Promise(r => setTimeout(r, 250))
  }
  throw new Error(`a dry-run create of the benchmark Deployment was never admitted and patched: ${last}`)
}

async function creates(apps: AppsV1Api, bodyOf: BodyOf, names: readonly string[], concurrency: number): Promise<{ latencies: number[]; errors: string[] }> {
  const latencies: number[] = []
  const errors: string[] = []
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < names.length) {
      const name = names[next++]!
      const t0 = performance.now()
      try {
        const d = await apps.createNamespacedDeployment({ namespace: BENCH_NAMESPACE, body: bodyOf(name, BENCH_NAMESPACE) })
        if (d.spec?.replicas !== 0) throw new Error(`${name}: not held at 0 replicas: the webhook did not patch it`)
        latencies.push(performance.now() - t0)
      } catch (e) {
        errors.push(`${name}: ${errorText(e)}`)
      }
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker))
  return { latencies, errors }
}

const names = (prefix: string, n: number): string[] => Array.from({ length: n }, (_, i) => `${prefix}-${String(i).padStart(4, '0')}`)

/** One series of creates through one webhook: its names start with `prefix`. */
interface WriteSeries { readonly webhook: string; readonly bodyOf: BodyOf; readonly prefix: string; readonly writes: number; readonly concurrency: number }

async function writeRun(state: ClusterState, apps: AppsV1Api, { webhook, bodyOf, prefix, writes, concurrency }: WriteSeries): Promise<WriteRun & { before: string; after: string }> {
  const before = await scrape(state)
  const busy0 = machineBusyUs()
  const t0 = performance.now()
  const r = await creates(apps, bodyOf, names(prefix, writes), concurrency)
  const ms = performance.now() - t0
  const busy1 = machineBusyUs()
  const after = await scrape(state)
  return {
    writes, concurrency, created: r.latencies.length, errors: r.errors, ms, writesPerSecond: r.latencies.length / (ms / 1000),
    clientCreateLatency: summarize(r.latencies), apiServerObserved: delta(before, after, webhook, 'CREATE'),
    machineBusyCores: busy0 === undefined || busy1 === undefined ? undefined : (busy1 - busy0) / 1000 / ms,
    before, after,
  }
}

function plain(run: WriteRun & { before: string; after: string }): WriteRun {
  const { before: _b, after: _a, ...rest } = run
  return rest
}

export async function clusterPhase(o: ClusterOptions): Promise<ClusterResult> {
  const started = performance.now()
  const dir = resolve(o.dir)
  const bins = await binDir(o.log)
  if (readState(dir)) {
    o.log(`stopping the remains of an earlier run in ${dir}`)
    await clusterDown(dir, o.log)
  }
  o.onCleanup('local cluster', () => clusterDown(dir, o.log))
  const state = await clusterUp({ dir, binDir: bins, log: o.log })
  o.log('installing sluice (CRDs, RBAC, ServiceAccount)')
  const sluice = await installSluice(state)
  const webhook: SluiceWebhook = await startSluiceWebhook(state, sluice.kubeconfig, [])
  o.onCleanup('sluice webhook', () => webhook.stop())
  o.log(`sluice webhook at ${webhook.url} (log: ${webhook.log})`)

  const kc = new KubeConfig()
  kc.loadFromFile(state.kubeconfig)
  const apps = kc.makeApiClient(AppsV1Api)
  await prepare(kc)
  await startFloor(kc, o.onCleanup)
  await waitAdmitted(apps, createBody, 30_000)
  await waitAdmitted(apps, floorBody, 30_000)
  const firstScrape = await scrape(state)
  o.log(`warm-up: ${o.warmupWrites} creates through sluice, ${o.warmupWrites} through the floor webhook`)
  for (const [bodyOf, prefix] of [[createBody, 'warmup'], [floorBody, 'floor-warmup']] as const) {
    const warm = await creates(apps, bodyOf, names(prefix, o.warmupWrites), Math.min(o.concurrency, o.warmupWrites))
    if (warm.errors.length > 0) throw new Error(`warm-up creates failed: ${warm.errors[0]}`)
  }
  const setupMs = performance.now() - started

  o.log(`one at a time: ${o.sequentialWrites} creates through the floor webhook, then ${o.sequentialWrites} through sluice`)
  const floorSequential = await writeRun(state, apps, { webhook: FLOOR_WEBHOOK, bodyOf: floorBody, prefix: 'floor-single', writes: o.sequentialWrites, concurrency: 1 })
  const sluiceSequential = await writeRun(state, apps, { webhook: DEPLOYMENTS_WEBHOOK, bodyOf: createBody, prefix: 'single', writes: o.sequentialWrites, concurrency: 1 })

  o.log(`burst: ${o.writes} creates, ${o.concurrency} at a time, through the floor webhook, then through sluice`)
  const floorBurst = await writeRun(state, apps, { webhook: FLOOR_WEBHOOK, bodyOf: floorBody, prefix: 'floor', writes: o.writes, concurrency: o.concurrency })
  const cpuBefore = processCpuMs(webhook.child.pid)
  const connections = watchConnections(Number(new URL(webhook.url).port))
  const burst = await writeRun(state, apps, { webhook: DEPLOYMENTS_WEBHOOK, bodyOf: createBody, prefix: 'checkout', writes: o.writes, concurrency: o.concurrency })
  const cpuAfter = processCpuMs(webhook.child.pid)
  const newConnectionsSeen = connections()
  const runs = [floorSequential, sluiceSequential, floorBurst, burst]
  const errors = runs.flatMap(r => r.errors)
  return {
    webhook: DEPLOYMENTS_WEBHOOK, floorWebhook: FLOOR_WEBHOOK, namespace: BENCH_NAMESPACE,
    sluice: {
      sequential: plain(sluiceSequential),
      burst: {
        ...plain(burst),
        allOperations: delta(burst.before, burst.after, DEPLOYMENTS_WEBHOOK),
        webhookCpuMs: cpuBefore !== undefined && cpuAfter !== undefined ? cpuAfter - cpuBefore : undefined,
        newConnectionsSeen,
      },
    },
    floor: { sequential: plain(floorSequential), burst: plain(floorBurst) },
    webhookRejections: rejections(burst.after) - rejections(firstScrape),
    createErrors: errors.length, errorSamples: errors.slice(0, 5),
    setupMs,
  }
}
