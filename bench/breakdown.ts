// Where one review's time goes without HTTP: each step of the server's request path, run in this process
// on the benchmark's review, timed one call at a time (after a warm-up, so the JIT has settled).
import { deploymentHandler, decideDeployment } from '../src/admission/deployments.ts'
import { decodeAdmissionReview, decodeAdmissionReviewValue, toAdmissionReview } from '../src/admission/review.ts'
import type { AdmissionRequest, AdmissionVerdict } from '../src/admission/review.ts'
import { parseAnnotations } from '../src/api/annotations.ts'
import { lintDeployment } from '../src/api/lint.ts'
import { templateRevision } from '../src/kube/revision.ts'
import { memoryContext, updateReview } from './fixture.ts'
import { quantile } from './stats.ts'

export interface StepTiming {
  /** Median and p99 of single calls' wall time, in microseconds. */
  readonly p50Us: number
  readonly p99Us: number
  /** Process CPU per call over all calls (GC included), in microseconds: what other processes' load does not inflate. */
  readonly meanUs: number
}

export interface Breakdown {
  readonly iterations: number
  /** The server's path: body bytes to string, JSON.parse, structural decoding, the handler's decision, JSON of the answer. */
  readonly steps: {
    readonly utf8: StepTiming
    readonly parse: StepTiming
    readonly decode: StepTiming
    readonly decide: StepTiming
    readonly serialize: StepTiming
  }
  /** Parts of decide, measured alone. */
  readonly decideParts: {
    readonly lint: StepTiming
    /** Inside lint: the YAML of sluice.dev/spec and sluice.dev/analysis, parsed on every request. */
    readonly annotationYaml: StepTiming
    readonly templateRevision: StepTiming
  }
  /** All five steps back to back, per review. */
  readonly pipeline: StepTiming
  readonly answerBytes: number
}

function time(iterations: number, fn: () => unknown): StepTiming {
  const samples = new Array<number>(iterations)
  const cpu0 = process.cpuUsage()
  for (let i = 0; i < iterations; i++) {
    const t0 = process.hrtime.bigint()
    fn()
    samples[i] = Number(process.hrtime.bigint() - t0) / 1000
  }
  const cpu = process.cpuUsage(cpu0)
  samples.sort((a, b) => a - b)
  return { p50Us: quantile(samples, 0.5), p99Us: quantile(samples, 0.99), meanUs: (cpu.user + cpu.system) / iterations }
}

export function measureBreakdown(iterations = 2000, warmup = 500): Breakdown {
  const text = JSON.stringify(updateReview().review)
  const bytes = Buffer.from(text)
  const ctx = memoryContext()
  const handler = deploymentHandler(ctx)
  const decoded = decodeAdmissionReview(text)
  if (!decoded.ok) throw new Error(`the benchmark review does not decode: ${decoded.reason}`)
  const request: AdmissionRequest = decoded.request
  const verdict = handler(request) as AdmissionVerdict
  if (!verdict.allowed || verdict.patch === undefined) throw new Error('the benchmark review is not patched: the fixture is wrong')
  const parsed: unknown = JSON.parse(text)
  const object = request.object!
  const template = (object as { spec?: { template?: unknown } }).spec?.template

  const steps = {
    utf8: () => bytes.toString('utf8'),
    parse: () => JSON.parse(text) as unknown,
    decode: () => decodeAdmissionReviewValue(parsed),
    decide: () => decideDeployment(request, ctx),
    serialize: () => JSON.stringify(toAdmissionReview(request.uid, verdict)),
  }
  const pipeline = (): string => {
    const r = decodeAdmissionReview(bytes.toString('utf8'))
    if (!r.ok) throw new Error(r.reason)
    return JSON.stringify(toAdmissionReview(r.request.uid, decideDeployment(r.request, ctx)))
  }
  const lintCtx = { policies: ctx.policies(), namespaceLabels: ctx.namespaceLabels(request.namespace ?? '') ?? {}, refs: ctx.refs }
  const lint = (): unknown => lintDeployment(object, lintCtx)
  const revision = (): unknown => templateRevision(template)
  const annotations = object.metadata?.annotations
  const yaml = (): unknown => parseAnnotations(annotations)

  for (const fn of [...Object.values(steps), pipeline, lint, yaml, revision]) time(warmup, fn)
  return {
    iterations,
    steps: {
      utf8: time(iterations, steps.utf8),
      parse: time(iterations, steps.parse),
      decode: time(iterations, steps.decode),
      decide: time(iterations, steps.decide),
      serialize: time(iterations, steps.serialize),
    },
    decideParts: { lint: time(iterations, lint), annotationYaml: time(iterations, yaml), templateRevision: time(iterations, revision) },
    pipeline: time(iterations, pipeline),
    answerBytes: Buffer.byteLength(steps.serialize()),
  }
}
