// `make bench-webhook-start`: what the first reviews after a webhook starts cost, with and without the
// warm-up the webhook runs before /readyz (src/admission/warm-up.ts). Each sample is a fresh process (V8's
// compiled code is per process): it builds the real admission server with the bench's in-memory caches,
// runs the warm-up or not, then sends the bench's new-image UPDATE review (~33 KB Deployment) through the
// server's HTTP routing (fastify inject: no TLS, which is native code and needs no warming) and times each.
//
// Flags: --processes 5 (per mode), --reviews 50 (per process). Prints a table and writes
// .cache/bench/first-reviews.json. Nothing is asserted.
import { execFile } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import { availableParallelism, cpus, loadavg } from 'node:os'
import { join, resolve } from 'node:path'
import { parseArgs, promisify } from 'node:util'
import { pino } from 'pino'
import { deploymentHandler } from '../src/admission/deployments.ts'
import { buildAdmissionServer, MUTATE_DEPLOYMENTS_PATH } from '../src/admission/server.ts'
import { WARM_UP_ROUNDS, warmUpReviews } from '../src/admission/warm-up.ts'
import { createCA, createLeaf } from '../src/certs/pki.ts'
import { positive } from './args.ts'
import { memoryContext, PLACEHOLDER_UID, updateReview } from './fixture.ts'
import { quantile } from './stats.ts'

const OUT = join(resolve(import.meta.dirname, '..'), '.cache/bench/first-reviews.json')

interface Sample {
  readonly warmUpMs: number
  /** Milliseconds per review, in the order sent. */
  readonly reviewMs: readonly number[]
}

/** One process's sample: the child side. */
async function sampleOnce(warm: boolean, reviews: number): Promise<Sample> {
  const ca = createCA('sluice-bench-ca', 600)
  const leaf = createLeaf(ca, { commonName: '127.0.0.1', ipAddresses: ['127.0.0.1'], usage: 'server', lifetimeSeconds: 600 })
  const server = buildAdmissionServer({
    tls: leaf, logger: pino({ level: 'info' }, pino.destination('/dev/null')), mutateDeployments: deploymentHandler(memoryContext()),
  })
  await server.ready()
  const started = performance.now()
  if (warm) await server.warmUp(warmUpReviews(), WARM_UP_ROUNDS)
  const warmUpMs = performance.now() - started
  const text = JSON.stringify(updateReview().review)
  const reviewMs: number[] = []
  for (let i = 0; i < reviews; i++) {
    const body = text.replace(PLACEHOLDER_UID, `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`)
    const t = performance.now()
    const r = await server.inject({ method: 'POST', url: MUTATE_DEPLOYMENTS_PATH, headers: { 'content-type': 'application/json' }, payload: body })
    reviewMs.push(performance.now() - t)
    if (r.statusCode !== 200 || !r.body.includes('"patch"')) throw new Error(`review ${i}: HTTP ${r.statusCode}, not the patched answer the bench review gets`)
  }
  await server.close()
  return { warmUpMs, reviewMs }
}

const run = promisify(execFile)

async function sample(warm: boolean, reviews: number): Promise<Sample> {
  const { stdout } = await run(process.execPath, [...process.execArgv, import.meta.filename], {
    env: { ...process.env, BENCH_FIRST_CHILD: warm ? 'warm' : 'cold', BENCH_FIRST_REVIEWS: String(reviews) },
  })
  return JSON.parse(stdout) as Sample
}

function summary(samples: readonly Sample[]): Record<string, number> {
  const at = (i: number): number[] => samples.map(s => s.reviewMs[i]!).sort((a, b) => a - b)
  const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length
  const first10 = samples.flatMap(s => s.reviewMs.slice(0, 10))
  const last = samples.flatMap(s => s.reviewMs.slice(-10))
  return {
    firstReviewMedianMs: quantile(at(0), 0.5),
    secondReviewMedianMs: quantile(at(1), 0.5),
    first10MeanMs: mean(first10),
    first10MaxMs: Math.max(...first10),
    last10MeanMs: mean(last),
    warmUpMeanMs: mean(samples.map(s => s.warmUpMs)),
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { processes: { type: 'string' }, reviews: { type: 'string' } } })
  const processes = positive(values.processes, 5, '--processes')
  const reviews = Math.max(20, positive(values.reviews, 50, '--reviews'))
  const loadAtStart = loadavg()[0] ?? 0
  const cold: Sample[] = []
  const warm: Sample[] = []
  // Interleaved, so that the machine's load varies alike for both.
  for (let i = 0; i < processes; i++) {
    process.stderr.write(`first-reviews: process ${i + 1}/${processes}, cold and warmed\n`)
    cold.push(await sample(false, reviews))
    warm.push(await sample(true, reviews))
  }
  const c = summary(cold)
  const w = summary(warm)
  const row = (name: string, key: string): string => `| ${name} | ${c[key]!.toFixed(2)} ms | ${w[key]!.toFixed(2)} ms | ${(c[key]! / w[key]!).toFixed(1)}× |`
  const lines = [
    `first reviews after start — ${new Date().toISOString()}, node ${process.version}, ${availableParallelism()} CPUs (${cpus()[0]?.model ?? ''}), load ${loadAtStart.toFixed(2)}`,
    `${processes} processes per mode, ${reviews} reviews each (new-image UPDATE, ${(JSON.stringify(updateReview().review).length / 1024).toFixed(0)} KiB), through the server's routing without TLS`,
    '',
    '| | no warm-up | warm-up before /readyz | ratio |',
    '|---|---|---|---|',
    row('1st review (median of processes)', 'firstReviewMedianMs'),
    row('2nd review (median)', 'secondReviewMedianMs'),
    row('first 10 reviews, mean', 'first10MeanMs'),
    row('first 10 reviews, max', 'first10MaxMs'),
    row(`reviews ${reviews - 9}–${reviews}, mean`, 'last10MeanMs'),
    `| the warm-up itself (${WARM_UP_ROUNDS} rounds of ${warmUpReviews().length} reviews) | – | ${w.warmUpMeanMs!.toFixed(0)} ms | |`,
    '',
  ]
  mkdirSync(join(OUT, '..'), { recursive: true })
  writeFileSync(OUT, `${JSON.stringify({ when: new Date().toISOString(), processes, reviews, cold: c, warm: w, samples: { cold, warm } }, null, 2)}\n`)
  process.stdout.write(`${lines.join('\n')}\nwritten to ${OUT}\n`)
}

const child = process.env.BENCH_FIRST_CHILD
if (child) {
  sampleOnce(child === 'warm', Number(process.env.BENCH_FIRST_REVIEWS)).then(s => { process.stdout.write(JSON.stringify(s)) }, (e: unknown) => {
    process.stderr.write(`${e instanceof Error ? e.stack ?? e.message : String(e)}\n`)
    process.exit(1)
  })
} else {
  main().catch((e: unknown) => {
    process.stderr.write(`first-reviews: ${e instanceof Error ? e.stack ?? e.message : String(e)}\n`)
    process.exitCode = 1
  })
}
