// Processes that run nothing: a Spawner whose processes end when the test says so, or when stopped.
import { pino } from 'pino'
import { Jobs, type JobLimits } from '../../../src/loadtester/jobs.ts'
import { loadTesterMetrics, type LoadTesterMetrics } from '../../../src/loadtester/metrics.ts'
import type { ProcessResult, RunningProcess, Spawner } from '../../../src/loadtester/process.ts'
import { planTask, type Task, type TaskPolicy } from '../../../src/loadtester/task.ts'

export interface FakeProcess extends RunningProcess {
  readonly argv: readonly string[]
  /** Reasons stop() was called with. */
  readonly stops: string[]
  exit(code: number, output?: string): void
  readonly ended: boolean
}

export function fakeSpawner(): { spawn: Spawner; spawned: FakeProcess[] } {
  const spawned: FakeProcess[] = []
  let pid = 1000
  const spawn: Spawner = argv => {
    let end!: (r: ProcessResult) => void
    const done = new Promise<ProcessResult>(res => { end = res })
    const stops: string[] = []
    let ended = false
    const finish = (r: ProcessResult): void => { if (!ended) { ended = true; end(r) } }
    const p: FakeProcess = {
      argv, stops, pid: pid++, done,
      get ended() { return ended },
      stop(reason) { stops.push(reason); finish({ exitCode: null, signal: 'SIGTERM', output: '', droppedBytes: 0, stoppedFor: reason }) },
      exit(code, output = '') { finish({ exitCode: code, signal: null, output, droppedBytes: 0 }) },
    }
    spawned.push(p)
    return p
  }
  return { spawn, spawned }
}

export const POLICY: TaskPolicy = { allow: new Set(['hey', 'check']), enableBash: false, enableHelm: false, enableKubectl: false }

export function task(cmd: string, o: { canary?: string; blocking?: boolean; returnOutput?: boolean } = {}): Task {
  const [namespace = 'test', name = 'podinfo'] = (o.canary ?? 'test/podinfo').split('/')
  const planned = planTask({
    name, namespace, phase: 'Progressing',
    metadata: { cmd, ...(o.blocking && { blocking: 'true' }), ...(o.returnOutput && { returnCmdOutput: 'true' }) },
  }, POLICY)
  if (!planned.ok) throw new Error(planned.message)
  return planned.task
}

export const LIMITS: JobLimits = { maxJobs: 4, maxDurationMs: 60_000, maxOutputBytes: 1024, graceMs: 100, idleTimeoutMs: 60_000 }

export function jobs(limits: Partial<JobLimits> = {}): { jobs: Jobs; spawned: FakeProcess[]; metrics: LoadTesterMetrics } {
  const { spawn, spawned } = fakeSpawner()
  const metrics = loadTesterMetrics()
  return { jobs: new Jobs({ spawn, limits: { ...LIMITS, ...limits }, logger: pino({ level: 'silent' }), metrics }), spawned, metrics }
}

/** The value of one sample of the registry, e.g. sample(m, 'sluice_loadtester_jobs_running', { mode: 'background' }). */
export async function sample(m: LoadTesterMetrics, name: string, labels: Record<string, string> = {}): Promise<number | undefined> {
  const metric = m.registry.getSingleMetric(name)
  if (!metric) return undefined
  const { values } = await metric.get()
  const found = values.find(v => Object.entries(labels).every(([k, val]) => (v.labels as Record<string, unknown>)[k] === val))
  return found?.value
}
