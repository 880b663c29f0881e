// One program run without a shell: spawned from its argv (shell: false), its output (stdout and stderr in
// the order they arrive) kept up to a size, stopped by its PID with SIGTERM, then SIGKILL after a grace
// period, when it outlives its maximum duration or when its job is stopped.
import { spawn } from 'node:child_process'
import { formatDuration } from '../util/duration.ts'

export interface ProcessLimits {
  readonly maxDurationMs: number
  readonly maxOutputBytes: number
  /** Between SIGTERM and SIGKILL. */
  readonly graceMs: number
}

export interface ProcessResult {
  readonly exitCode: number | null
  readonly signal: string | null
  /** The last maxOutputBytes of the output. */
  readonly output: string
  readonly droppedBytes: number
  /** Set when sluice stopped it: 'max-duration', or the reason given to stop(). */
  readonly stoppedFor?: string
  /** The program could not be started (e.g. not found). */
  readonly spawnError?: string
}

export interface RunningProcess {
  readonly pid: number | undefined
  readonly done: Promise<ProcessResult>
  /** SIGTERM now, SIGKILL after the grace period; `reason` is reported as the result's stoppedFor. */
  stop(reason: string): void
}

export type Spawner = (argv: readonly string[], limits: ProcessLimits) => RunningProcess

/** Keeps the last `max` bytes written to it, and counts what it dropped. */
export class OutputTail {
  readonly #max: number
  #chunks: Buffer[] = []
  #size = 0
  #dropped = 0

  constructor(max: number) {
    this.#max = Math.max(0, max)
  }

  push(chunk: Buffer): void {
    this.#chunks.push(chunk)
    this.#size += chunk.length
    while (this.#size > this.#max) {
      const first = this.#chunks[0]
      if (!first) break
      const excess = this.#size - this.#max
      if (first.length <= excess) {
        this.#chunks.shift()
        this.#size -= first.length
        this.#dropped += first.length
      } else {
        this.#chunks[0] = first.subarray(excess)
        this.#size -= excess
        this.#dropped += excess
      }
    }
  }

  get dropped(): number { return this.#dropped }

  text(): string {
    return Buffer.concat(this.#chunks).toString('utf8')
  }
}

/** The failure in a line: exit code, signal, sluice's stop, or the spawn error. Undefined on success. */
export function failureOf(r: ProcessResult, maxDurationMs: number): string | undefined {
  if (r.spawnError !== undefined) return `could not start: ${r.spawnError}`
  if (r.stoppedFor === 'max-duration') return `stopped after the maximum duration (${formatDuration(maxDurationMs)}, --max-duration)`
  if (r.stoppedFor !== undefined) return `stopped (${r.stoppedFor})`
  if (r.exitCode === 0) return undefined
  return r.exitCode !== null ? `exited with code ${r.exitCode}` : `was killed by ${r.signal ?? 'a signal'}`
}

function spawnMessage(e: NodeJS.ErrnoException, program: string): string {
  if (e.code === 'ENOENT') return `${program} not found (is it installed and on the load tester's PATH?)`
  if (e.code === 'EACCES') return `${program} is not executable`
  return e.message
}

export const spawnProcess: Spawner = (argv, limits) => {
  const [program = '', ...args] = argv
  const tail = new OutputTail(limits.maxOutputBytes)
  // shell: false is the default; spelled out because it is the whole point.
  const child = spawn(program, args, { shell: false, stdio: ['ignore', 'pipe', 'pipe'], windowsHide: true })
  let stoppedFor: string | undefined
  let killTimer: NodeJS.Timeout | undefined
  const stop = (reason: string): void => {
    if (child.exitCode !== null || child.signalCode !== null || stoppedFor !== undefined) return
    stoppedFor = reason
    child.kill('SIGTERM')
    killTimer = setTimeout(() => { child.kill('SIGKILL') }, limits.graceMs)
    killTimer.unref()
  }
  const maxTimer = setTimeout(() => { stop('max-duration') }, limits.maxDurationMs)
  maxTimer.unref()
  child.stdout.on('data', (b: Buffer) => { tail.push(b) })
  child.stderr.on('data', (b: Buffer) => { tail.push(b) })
  const done = new Promise<ProcessResult>(resolveDone => {
    const finish = (r: Omit<ProcessResult, 'output' | 'droppedBytes' | 'stoppedFor'>): void => {
      clearTimeout(maxTimer)
      clearTimeout(killTimer)
      resolveDone({ ...r, output: tail.text(), droppedBytes: tail.dropped, ...(stoppedFor !== undefined && { stoppedFor }) })
    }
    // `on`, not `once`: a later 'error' (a failed kill) without a listener would crash the process.
    child.on('error', (e: NodeJS.ErrnoException) => {
      // Only a failed spawn ends here without a 'close'; a failed kill of a running child is not an end.
      if (child.pid === undefined) finish({ exitCode: null, signal: null, spawnError: spawnMessage(e, program) })
    })
    child.once('close', (code, signal) => { if (child.pid !== undefined) finish({ exitCode: code, signal }) })
  })
  return { pid: child.pid, done, stop }
}
