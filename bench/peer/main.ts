// `make bench-peer`: Flagger (v1.44.0, out of cluster, nginx provider) beside sluice on the same scenario.
//
// For each size N (default 1, 100, 500, 1000) and each contender (sluice; Flagger with its default client QPS;
// Flagger with -kubeconfig-qps=500 -kubeconfig-burst=1000), on a fresh cluster with that controller alone and
// the same traffic simulator and Prometheus: N nginx apps with the same analysis, Initialized; an idle baseline;
// a good new image for all N (→ Progressing, first weight, Succeeded; step drift); a later good one (its CPU: the
// controller warm, its code compiled, as it runs for weeks); a bad one (→ Failed).
//
// Prints a markdown report and writes .cache/bench/peer.json. Figures are reported, never asserted; the run fails
// (exit 1) only when a run could not set up its environment.
//
// Flags: --sizes 1,100,500,1000 (or N=100 in the environment), --controllers sluice,flagger,flagger-qps500 (the
// default; the contenders marked onRequest, such as sluice-no-step-events, only when named), --idle 20, --repeat 1
// (K rounds per size, the contenders' order turned each round, and a table of medians and spreads: repeat.ts).
// Environment: BENCH_CONTROLLER_BIN and BENCH_CONTROLLER_NODE_ARGS (bench/args.ts); BENCH_BASELINE_BIN and
// BENCH_BASELINE_NODE_ARGS, the sluice that the sluice-baseline contender runs (another checkout's bundle, other Node
// flags, or both; what is unset is the sluice under test's).
import { mkdirSync, writeFileSync } from 'node:fs'
import { availableParallelism, cpus, loadavg, totalmem } from 'node:os'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { positive, positiveList } from '../args.ts'
import { cleanupRegistry } from '../children.ts'
import { baselineUnderTest, CONTENDERS, type Contender } from './env.ts'
import { FLAGGER_VERSION } from '../../test/cluster/flagger.ts'
import { formatReport } from './report.ts'
import type { PeerReport } from './report.ts'
import { roundOrder } from './repeat.ts'
import { runPeer } from './run.ts'
import type { PeerResult } from './run.ts'

const root = resolve(import.meta.dirname, '../..')
const OUT_DIR = join(root, '.cache/bench')
const log = (m: string): void => { process.stderr.write(`bench-peer: ${new Date().toISOString().slice(11, 19)} ${m}\n`) }

const { values } = parseArgs({ options: {
  sizes: { type: 'string' }, controllers: { type: 'string' }, idle: { type: 'string' }, repeat: { type: 'string' }, help: { type: 'boolean' },
} })
if (values.help) {
  const byDefault = (c: Contender): string => c.onRequest ? `${c.name} (on request)` : c.name
  process.stdout.write(`usage: node bench/peer/main.ts [--sizes 1,100,500,1000] [--controllers ${CONTENDERS.map(byDefault).join(',')}] [--idle SECONDS] [--repeat K]\n`)
  process.exit(0)
}

const names = (values.controllers ?? CONTENDERS.filter(c => !c.onRequest).map(c => c.name).join(',')).split(',').map(s => s.trim()).filter(s => s !== '')
const contenders = names.map(name => {
  const c = CONTENDERS.find(x => x.name === name)
  if (!c) throw new Error(`--controllers: unknown "${name}" (known: ${CONTENDERS.map(x => x.name).join(', ')})`)
  if (c.baseline) baselineUnderTest()
  return c
})
const sizes = positiveList(values.sizes ?? process.env.N ?? '1,100,500,1000', '--sizes')
const idleSeconds = positive(values.idle, 20, '--idle')
const rounds = positive(values.repeat, 1, '--repeat')
if (!Number.isInteger(rounds)) throw new Error(`--repeat: "${values.repeat}" is not a whole number of rounds`)
const { onCleanup, cleanup, interrupted } = cleanupRegistry(log)

async function main(): Promise<number> {
  const binDir = process.env.SLUICE_K8S_BIN_DIR
  if (!binDir) throw new Error('SLUICE_K8S_BIN_DIR is not set: run through `make bench-peer` (it builds or finds the cluster binaries and flagger)')
  const started = performance.now()
  const loadAtStart = loadavg()[0] ?? 0
  mkdirSync(OUT_DIR, { recursive: true })
  const results: PeerResult[] = []
  for (const n of sizes) {
    for (let round = 0; round < rounds; round++) {
      for (const c of roundOrder(contenders, round)) {
        if (interrupted()) break
        const which = rounds > 1 ? `, round ${round + 1} of ${rounds}` : ''
        log(`==== ${c.name}, N = ${n}${which} ====`)
        const result = await runPeer(c, n, {
          clusterDir: join(root, '.cache/bench-peer-cluster'), binDir, scrapeInterval: '5s', idleSeconds, writeConcurrency: 32, log, onCleanup,
        })
        log(`stopping the environment of ${c.name}, N = ${n}${which}`)
        await cleanup()
        results.push({ ...result, round })
      }
    }
  }
  const report: PeerReport = {
    when: new Date().toISOString(),
    command: `node bench/peer/main.ts ${process.argv.slice(2).join(' ')}`.trim(),
    machine: { node: process.version, cpus: availableParallelism(), cpuModel: cpus()[0]?.model ?? '', memoryGB: totalmem() / 1024 ** 3, loadavg1mAtStart: loadAtStart },
    flagger: FLAGGER_VERSION,
    results,
    runtimeSeconds: (performance.now() - started) / 1000,
  }
  const out = join(OUT_DIR, 'peer.json')
  writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`)
  process.stdout.write(formatReport(report))
  process.stdout.write(`\nwritten to ${out}\n`)
  return results.some(r => r.reached === 'setup') ? 1 : 0
}

main().then(code => { process.exitCode = code }, (e: unknown) => {
  log(e instanceof Error ? e.stack ?? e.message : String(e))
  void cleanup().finally(() => { process.exitCode = 1 })
})
