// The running commands, and the rules that bound them:
// - at most maxJobs at once, background and blocking together (one more is answered 429);
// - a background job is one per canary and command: a request for one that runs starts nothing and
//   counts as the canary still wanting it;
// - a background job stops when its canary's run ends: when nothing asked for it for idleTimeoutMs (the
//   rollout hook asks at every analysis interval, so silence means the analysis is over), or at once when a
//   request for its canary carries a phase in which the run is over (Succeeded, Failed, Terminating,
//   Terminated), e.g. a post-rollout hook;
// - every job is stopped by its PID after maxDurationMs (process.ts).
import type { Logger } from 'pino'
import { failureOf, type ProcessLimits, type ProcessResult, type RunningProcess, type Spawner } from './process.ts'
import type { JobMode, LoadTesterMetrics } from './metrics.ts'
import type { Task } from './task.ts'

export interface JobLimits extends ProcessLimits {
  readonly maxJobs: number
  readonly idleTimeoutMs: number
}

export interface JobInfo {
  readonly id: number
  readonly canary: string
  readonly argv: readonly string[]
  readonly mode: JobMode
  readonly pid: number | undefined
  readonly startedAt: Date
}

export type BackgroundAnswer =
  | { readonly kind: 'started'; readonly job: JobInfo }
  | { readonly kind: 'running'; readonly job: JobInfo }
  | { readonly kind: 'busy'; readonly message: string }

export type BlockingAnswer =
  | { readonly kind: 'done'; readonly job: JobInfo; readonly result: ProcessResult; readonly failure?: string }
  | { readonly kind: 'busy'; readonly message: string }

interface Job {
  readonly info: JobInfo
  readonly task: Task
  readonly process: RunningProcess
  idle?: NodeJS.Timeout
}

export interface JobsDeps {
  readonly spawn: Spawner
  readonly limits: JobLimits
  readonly logger: Logger
  readonly metrics: LoadTesterMetrics
}

export class Jobs {
  readonly #d: JobsDeps
  readonly #running = new Map<number, Job>()
  /** Background jobs by task key. */
  readonly #byKey = new Map<string, Job>()
  #nextId = 1
  #closed = false

  constructor(deps: JobsDeps) {
    this.#d = deps
  }

  list(): JobInfo[] {
    return [...this.#running.values()].map(j => j.info)
  }

  #busy(): string | undefined {
    if (this.#closed) return 'the load tester is stopping'
    const n = this.#running.size
    if (n < this.#d.limits.maxJobs) return undefined
    return `${n} commands are running, the most --max-jobs allows; try again later`
  }

  #start(task: Task, mode: JobMode): Job {
    const process = this.#d.spawn(task.argv, this.#d.limits)
    const info: JobInfo = { id: this.#nextId++, canary: task.canary, argv: task.argv, mode, pid: process.pid, startedAt: new Date() }
    const job: Job = { info, task, process }
    this.#running.set(info.id, job)
    this.#d.metrics.jobStarted(mode, task.argv[0] ?? '')
    this.#d.logger.info({ job: info.id, canary: task.canary, mode, pid: info.pid, command: task.argv.join(' ') }, 'command started')
    void process.done.then(result => { this.#ended(job, result) })
    return job
  }

  #ended(job: Job, result: ProcessResult): void {
    clearTimeout(job.idle)
    this.#running.delete(job.info.id)
    if (this.#byKey.get(job.task.key) === job) this.#byKey.delete(job.task.key)
    const failure = failureOf(result, this.#d.limits.maxDurationMs)
    const outcome = result.stoppedFor ?? (failure === undefined ? 'succeeded' : 'failed')
    this.#d.metrics.jobEnded(job.info.mode, outcome)
    const fields = {
      job: job.info.id, canary: job.task.canary, mode: job.info.mode, pid: job.info.pid, command: job.task.argv.join(' '),
      result: outcome, seconds: (Date.now() - job.info.startedAt.getTime()) / 1000,
      ...(job.task.logOutput && { output: result.output, droppedBytes: result.droppedBytes }),
    }
    // A stop by sluice is the rule working, not a failure of the command.
    if (failure !== undefined && result.stoppedFor === undefined) this.#d.logger.warn({ ...fields, failure }, 'command failed')
    else this.#d.logger.info(fields, 'command ended')
  }

  #armIdle(job: Job): void {
    clearTimeout(job.idle)
    job.idle = setTimeout(() => { this.#stopBackground(job, 'idle') }, this.#d.limits.idleTimeoutMs)
    job.idle.unref()
  }

  /** No longer the canary's job from now on, so that a new request starts a new one even during the grace period. */
  #stopBackground(job: Job, reason: string): void {
    clearTimeout(job.idle)
    if (this.#byKey.get(job.task.key) === job) this.#byKey.delete(job.task.key)
    job.process.stop(reason)
  }

  /** Starts the task in the background, unless the same canary's same command runs already. */
  background(task: Task): BackgroundAnswer {
    const existing = this.#byKey.get(task.key)
    if (existing) {
      this.#armIdle(existing)
      this.#d.logger.debug({ job: existing.info.id, canary: task.canary }, 'command already running; not started again')
      return { kind: 'running', job: existing.info }
    }
    const busy = this.#busy()
    if (busy !== undefined) return { kind: 'busy', message: busy }
    const job = this.#start(task, 'background')
    this.#byKey.set(task.key, job)
    this.#armIdle(job)
    return { kind: 'started', job: job.info }
  }

  /** Runs the task and waits for it; `signal` aborting (the caller gave up) stops it. */
  async blocking(task: Task, signal?: AbortSignal): Promise<BlockingAnswer> {
    const busy = this.#busy()
    if (busy !== undefined) return { kind: 'busy', message: busy }
    const job = this.#start(task, 'blocking')
    const onAbort = (): void => { job.process.stop('client-gone') }
    signal?.addEventListener('abort', onAbort, { once: true })
    if (signal?.aborted === true) onAbort()
    try {
      const result = await job.process.done
      const failure = failureOf(result, this.#d.limits.maxDurationMs)
      return { kind: 'done', job: job.info, result, ...(failure !== undefined && { failure }) }
    } finally {
      signal?.removeEventListener('abort', onAbort)
    }
  }

  /** Stops the canary's background jobs (its run is over); returns how many. */
  stopCanary(canary: string, reason: string): number {
    const jobs = [...this.#byKey.values()].filter(j => j.task.canary === canary)
    for (const job of jobs) this.#stopBackground(job, reason)
    return jobs.length
  }

  /** Stops every job and waits for them to end; no job starts afterwards. */
  async stopAll(): Promise<void> {
    this.#closed = true
    const jobs = [...this.#running.values()]
    for (const job of jobs) job.process.stop('shutdown')
    await Promise.all(jobs.map(j => j.process.done))
  }
}
