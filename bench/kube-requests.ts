// `make bench-kube-requests`: the client CPU of one Kubernetes API call, through client-node's own transport
// (undici fetch) and through sluice's (dispatcher.request, src/kube/http-library.ts), on the same pooled
// Agent (HTTP/2, which client-node's undici negotiates), through sluice's over an Agent held to HTTP/1.1,
// and as plain JSON without client-node's typed API (src/kube/json-api.ts), against a local cluster's real
// API server; beside them the same calls in Go (bench/go-client): through client-go as Flagger 1.44 makes
// them, and through the standard library alone, so that the runtime's own price per call is measured on the
// same server. Rounds alternate the six so that a busy machine weighs on all alike; each figure is the median
// of the rounds' means.
//
// Flags: --requests 500 (per round, per transport and call), --rounds 5, --concurrency 1 (calls in flight at
// once: 1 pays a wake-up per call, more share them as a busy controller does). Prints a table and writes
// .cache/bench/kube-requests.json. Nothing is asserted.
import { execFile } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import { availableParallelism, loadavg } from 'node:os'
import { join, resolve } from 'node:path'
import { parseArgs, promisify } from 'node:util'
import { CoreV1Api, createConfiguration, PatchStrategy, ServerConfiguration, setHeaderOptions } from '@kubernetes/client-node'
import { loadKubeConfig, PooledKubeConfig } from '../src/kube/config.ts'
import { clusterDown, clusterUp, type ClusterState } from '../test/cluster/cluster.ts'
import { positive } from './args.ts'
import { median } from './stats.ts'
import { createJsonApi, MERGE_PATCH, type JsonApi } from '../src/kube/json-api.ts'

const root = resolve(import.meta.dirname, '..')
const OUT = join(root, '.cache/bench/kube-requests.json')
const DIR = join(root, '.cache/bench-kube-requests-cluster')
const GO_CLIENT = join(root, '.cache/bench/go-client')
const run = promisify(execFile)
const log = (m: string): void => { process.stderr.write(`bench-kube-requests: ${m}\n`) }

type Call = (i: number) => Promise<unknown>
const CALL_NAMES = ['GET namespace', 'PATCH configmap'] as const
type Calls = Readonly<Record<(typeof CALL_NAMES)[number], Call>>

/** The calls through a typed client-node API. */
const typed = (api: CoreV1Api): Calls => ({
  'GET namespace': () => api.readNamespace({ name: 'default' }),
  'PATCH configmap': i => api.patchNamespacedConfigMap(
    { name: 'bench', namespace: 'default', body: { data: { i: String(i) } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch)),
})

/** The same calls as plain JSON (src/kube/json-api.ts, what the controller's status, Events and applies use). */
const plain = (json: JsonApi): Calls => ({
  'GET namespace': () => json('GET', '/api/v1/namespaces/default'),
  'PATCH configmap': i => json('PATCH', '/api/v1/namespaces/default/configmaps/bench', { body: { data: { i: String(i) } }, contentType: MERGE_PATCH }),
})

/** Mean microseconds of this process's CPU per call, over `n` calls made by `concurrency` loops at once. */
async function cpuPerCall(call: Call, n: number, concurrency: number): Promise<number> {
  let next = 0
  const loop = async (): Promise<void> => { while (next < n) await call(next++) }
  const before = process.cpuUsage()
  await Promise.all(Array.from({ length: concurrency }, loop))
  const used = process.cpuUsage(before)
  return (used.user + used.system) / n
}

/** sluice's configuration with its Agent refused HTTP/2 in the TLS handshake: the same transport over HTTP/1.1. */
class Http1KubeConfig extends PooledKubeConfig {
  override createDispatcherOptions(...args: Parameters<PooledKubeConfig['createDispatcherOptions']>): ReturnType<PooledKubeConfig['createDispatcherOptions']> {
    const options = super.createDispatcherOptions(...args)
    if (options.type !== 'agent') return options
    const connect = { ...options.connect, allowH2: false }
    return { ...options, connect }
  }
}

const NODE_TRANSPORTS = ['client-node fetch', 'sluice dispatcher.request', 'the same over HTTP/1.1', 'sluice JSON calls'] as const
const GO_TRANSPORTS = ['Go client-go', 'Go net/http'] as const
const TRANSPORTS = [...NODE_TRANSPORTS, ...GO_TRANSPORTS] as const

/** Mean microseconds of CPU per call of `callName` over `n` calls, `concurrency` in flight, in whichever process makes them. */
type Measure = (callName: (typeof CALL_NAMES)[number], n: number, concurrency: number) => Promise<number>

/** Builds bench/go-client (its modules from the Go module proxy, as the cluster's binaries); Go is on any machine that built the cluster. */
async function buildGoClient(): Promise<void> {
  log('building bench/go-client (about a minute the first time)')
  mkdirSync(join(root, '.cache/bench'), { recursive: true })
  const env = { ...process.env, CGO_ENABLED: '0', GOTOOLCHAIN: 'local', GOFLAGS: '-mod=readonly' }
  await run('go', ['build', '-trimpath', '-o', GO_CLIENT, '.'], { cwd: join(root, 'bench/go-client'), env }).catch((err: unknown) => {
    throw new Error(`building bench/go-client with go failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err })
  })
}

/** The Go client in a process of its own per measurement: it warms its connection up, then counts its own CPU. */
function goClient(client: 'client-go' | 'stdlib', server: string, caFile: string, token: string): Measure {
  return async (callName, n, concurrency) => {
    const args = ['-client', client, '-server', server, '-ca', caFile, '-call', callName, '-requests', String(n), '-concurrency', String(concurrency)]
    const { stdout } = await run(GO_CLIENT, args, { env: { ...process.env, BENCH_TOKEN: token } })
    const answer = JSON.parse(stdout) as { microsecondsPerCall: number; proto: string }
    if (answer.proto !== 'HTTP/2.0') throw new Error(`bench/go-client spoke ${answer.proto}, not HTTP/2 as the Node clients do`)
    return answer.microsecondsPerCall
  }
}

async function measure(state: ClusterState, requests: number, rounds: number, concurrency: number): Promise<Record<string, Record<string, number>>> {
  const kc = loadKubeConfig({ path: state.kubeconfig })
  const server = kc.getCurrentCluster()?.server ?? ''
  const http1 = new Http1KubeConfig()
  http1.loadFromFile(state.kubeconfig)
  const sluiceApi = kc.makeApiClient(CoreV1Api)
  const inProcess = (calls: Calls): Measure => (callName, n, c) => cpuPerCall(calls[callName], n, c)
  const caFile = join(DIR, 'ca.pem')
  writeFileSync(caFile, state.caPem)
  const transports: Record<(typeof TRANSPORTS)[number], Measure> = {
    // client-node's default HttpLibrary (fetch), with the same authentication and pooled Agent.
    'client-node fetch': inProcess(typed(new CoreV1Api(createConfiguration({ baseServer: new ServerConfiguration(server, {}), authMethods: { default: kc } })))),
    'sluice dispatcher.request': inProcess(typed(sluiceApi)),
    'the same over HTTP/1.1': inProcess(typed(http1.makeApiClient(CoreV1Api))),
    'sluice JSON calls': inProcess(plain(createJsonApi(kc))),
    'Go client-go': goClient('client-go', server, caFile, state.adminToken),
    'Go net/http': goClient('stdlib', server, caFile, state.adminToken),
  }
  await sluiceApi.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'bench' }, data: { i: '0' } } })
  const samples: Record<string, Record<string, number[]>> = {}
  for (let round = 0; round <= rounds; round++) {
    for (const callName of CALL_NAMES) {
      for (const [transport, perCall] of Object.entries(transports)) {
        const us = await perCall(callName, requests, concurrency)
        // Round 0 warms the code paths of all six up and is not counted.
        if (round > 0) ((samples[callName] ??= {})[transport] ??= []).push(us)
      }
    }
    log(`round ${round}/${rounds}${round === 0 ? ' (warm-up)' : ''} done`)
  }
  const medians: Record<string, Record<string, number>> = {}
  for (const [callName, byTransport] of Object.entries(samples)) {
    for (const [transport, list] of Object.entries(byTransport)) (medians[callName] ??= {})[transport] = median(list)
  }
  return medians
}

function report(medians: Record<string, Record<string, number>>): string {
  const widths = TRANSPORTS.map(name => Math.max(name.length, 16))
  const lines = [['call'.padEnd(18), ...TRANSPORTS.map((name, i) => name.padStart(widths[i]!))].join('   ')]
  for (const [callName, m] of Object.entries(medians)) {
    const fetchUs = m['client-node fetch'] ?? NaN
    const cells = TRANSPORTS.map((name, i) => {
      const us = m[name] ?? NaN
      return `${us.toFixed(0)} µs${i === 0 ? '' : ` (${(us / fetchUs).toFixed(2)}×)`}`.padStart(widths[i]!)
    })
    lines.push([callName.padEnd(18), ...cells].join('   '))
  }
  lines.push('', "Node's cheapest transport against Go's, per call:")
  for (const [callName, m] of Object.entries(medians)) {
    const node = Math.min(...NODE_TRANSPORTS.map(name => m[name] ?? Infinity))
    const against = GO_TRANSPORTS.map(name => `${(node / (m[name] ?? NaN)).toFixed(2)}× ${name} (${(m[name] ?? NaN).toFixed(0)} µs)`)
    lines.push(`  ${callName}: ${node.toFixed(0)} µs, ${against.join(', ')}`)
  }
  return lines.join('\n')
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { requests: { type: 'string' }, rounds: { type: 'string' }, concurrency: { type: 'string' } } })
  const requests = positive(values.requests, 500, '--requests')
  const concurrency = positive(values.concurrency, 1, '--concurrency')
  const rounds = positive(values.rounds, 5, '--rounds')
  const binDir = process.env.SLUICE_K8S_BIN_DIR
  if (!binDir) throw new Error('SLUICE_K8S_BIN_DIR is not set (make bench-kube-requests sets it)')
  // Interrupted: the cluster this run started goes down with it.
  const stop = (): void => { void clusterDown(DIR, log).finally(() => process.exit(130)) }
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
  try {
    await buildGoClient()
    const state = await clusterUp({ dir: DIR, binDir, log })
    const started = loadavg()[0] ?? 0
    const medians = await measure(state, requests, rounds, concurrency)
    const table = report(medians)
    process.stdout.write(`CPU of the calling process per API call (median of ${rounds} rounds of ${requests}, ${concurrency} in flight; ${availableParallelism()} cores, load ${started.toFixed(1)} at the start)\n${table}\n`)
    mkdirSync(join(root, '.cache/bench'), { recursive: true })
    writeFileSync(OUT, `${JSON.stringify({ requests, rounds, concurrency, loadAtStart: started, microsecondsPerCall: medians }, null, 2)}\n`)
    process.stdout.write(`written to ${OUT}\n`)
  } finally {
    await clusterDown(DIR, log)
  }
}

await main()
