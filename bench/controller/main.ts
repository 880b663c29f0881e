// `make bench-controller`: the controller under N canaries analysing at once, on the local cluster (kwok pods).
//
// For each size N (default 100, 500, 1000), on a fresh cluster: N nginx canaries (Ingress + annotated
// one-replica Deployment) created through the API and Initialized; an idle baseline; a new revision for all
// but a few at once (apply → Progressing under a burst); then a measurement window while they analyse
// (interval 10 s, success rate from the traffic simulator through Prometheus), with the held-back apps
// given a new revision one at a time (apply → Progressing under steady load). The controller's RSS and CPU
// come from /proc, reconcile latency from its own histogram, step drift from watching the Canaries.
//
// Prints a report and writes .cache/bench/controller.json (this run) and .cache/bench/controller-<N>.json
// (per size). Figures are reported against the targets, never asserted; the run fails (exit 1) only when a
// size could not set up its environment.
//
// Flags: --sizes 100,500,1000 (or N=100 in the environment), --window 180 (seconds), --idle 20, --probes 10,
// --soak 3600 (seconds of canaries cycling after the window, every one that ends getting the next revision,
// to measure memory growth; none by default, SOAK=3600 in the environment), --serve (`sluice serve`, the
// webhook and the controller in one process, instead of `sluice controller` beside a webhook process).
// Environment: BENCH_CONTROLLER_ARGS (extra `sluice controller` flags, e.g. "--concurrency 32"),
// BENCH_CONTROLLER_NODE_ARGS (Node flags for the controller instead of its container's in the manifests, e.g.
// "--memory-saver-mode --cpu-prof --cpu-prof-dir=.cache/prof"),
// BENCH_CONTROLLER_BIN (another checkout's bin/sluice.ts, to measure a change against this tree),
// BENCH_SCRAPE_INTERVAL (Prometheus, default 5s), BENCH_WRITE_CONCURRENCY (default 32).
import { mkdirSync, writeFileSync } from 'node:fs'
import { availableParallelism, cpus, loadavg, totalmem } from 'node:os'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { envWords, positive, positiveList, sluiceUnderTest } from '../args.ts'
import { cleanupRegistry } from '../children.ts'
import type { AnalysisShape } from './apps.ts'
import { formatReport } from './report.ts'
import type { ControllerBenchReport, SizeResult } from './result.ts'
import { runSize } from './size.ts'

const root = resolve(import.meta.dirname, '../..')
const OUT_DIR = join(root, '.cache/bench')
const log = (m: string): void => { process.stderr.write(`bench-controller: ${new Date().toISOString().slice(11, 19)} ${m}\n`) }

const { values } = parseArgs({ options: {
  sizes: { type: 'string' }, window: { type: 'string' }, idle: { type: 'string' }, probes: { type: 'string' }, soak: { type: 'string' }, serve: { type: 'boolean' }, help: { type: 'boolean' },
} })
if (values.help) {
  process.stdout.write('usage: node bench/controller/main.ts [--sizes 100,500,1000] [--window SECONDS] [--idle SECONDS] [--probes K] [--soak SECONDS] [--serve]\n' +
    '  N=500 in the environment runs that one size; BENCH_CONTROLLER_ARGS adds flags to `sluice controller`.\n')
  process.exit(0)
}

const settings = {
  sizes: positiveList(values.sizes ?? process.env.N ?? '100,500,1000', '--sizes'),
  windowSeconds: positive(values.window, 180, '--window'),
  idleSeconds: positive(values.idle, 20, '--idle'),
  probes: positive(values.probes, 10, '--probes'),
  soakSeconds: positive(values.soak ?? process.env.SOAK, 0, '--soak'),
  command: values.serve === true ? 'serve' as const : 'controller' as const,
  writeConcurrency: positive(process.env.BENCH_WRITE_CONCURRENCY, 32, 'BENCH_WRITE_CONCURRENCY'),
  scrapeInterval: process.env.BENCH_SCRAPE_INTERVAL ?? '5s',
  controllerArgs: envWords('BENCH_CONTROLLER_ARGS'),
  ...sluiceUnderTest(),
}

// 30 steps of 2 % every 10 s: a run lasts about 5 minutes, longer than the window plus a slow burst, so
// every canary is still stepping when the window ends.
const ANALYSIS: AnalysisShape = { intervalSeconds: 10, stepWeight: 2, maxWeight: 60, metricIntervalSeconds: 30 }

const { onCleanup, cleanup, interrupted } = cleanupRegistry(log)

function binDir(): string {
  const dir = process.env.SLUICE_K8S_BIN_DIR
  if (!dir) throw new Error('SLUICE_K8S_BIN_DIR is not set: run through `make bench-controller` (it builds or finds the cluster binaries)')
  return dir
}

async function main(): Promise<number> {
  const started = performance.now()
  const loadAtStart = loadavg()[0] ?? 0
  const bins = binDir()
  mkdirSync(OUT_DIR, { recursive: true })
  const sizes: SizeResult[] = []
  for (const n of settings.sizes) {
    if (interrupted()) break
    log(`==== N = ${n} ====`)
    const result = await runSize({
      n, clusterDir: join(root, '.cache/bench-controller-cluster'), binDir: bins, analysis: ANALYSIS,
      windowSeconds: settings.windowSeconds, soakSeconds: settings.soakSeconds, command: settings.command, idleSeconds: settings.idleSeconds, probes: settings.probes,
      writeConcurrency: settings.writeConcurrency, scrapeInterval: settings.scrapeInterval,
      controllerArgs: settings.controllerArgs, controllerNodeArgs: settings.controllerNodeArgs,
      ...(settings.controllerBin !== undefined && { controllerBin: settings.controllerBin }),
      log, onCleanup,
    })
    log(`stopping the environment of N = ${n}`)
    await cleanup()
    sizes.push(result)
    writeFileSync(join(OUT_DIR, `controller-${n}.json`), `${JSON.stringify(result, null, 2)}\n`)
  }
  const report: ControllerBenchReport = {
    when: new Date().toISOString(),
    machine: {
      node: process.version, cpus: availableParallelism(), cpuModel: cpus()[0]?.model ?? '', memoryGB: totalmem() / 1024 ** 3, loadavg1mAtStart: loadAtStart,
    },
    sizes,
    runtimeSeconds: (performance.now() - started) / 1000,
  }
  const out = join(OUT_DIR, 'controller.json')
  writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`)
  process.stdout.write(formatReport(report))
  process.stdout.write(`\nwritten to ${out} (and controller-<N>.json per size)\n`)
  // A size that stops short is a finding, reported; only a size that never got its environment up is an error.
  return sizes.some(s => s.reached === 'setup') ? 1 : 0
}

main().then(code => { process.exitCode = code }, (e: unknown) => {
  log(e instanceof Error ? e.stack ?? e.message : String(e))
  void cleanup().finally(() => { process.exitCode = 1 })
})
