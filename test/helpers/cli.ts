// The real `sluice` CLI as a process (bin/sluice.ts), through the tether like every process a test starts:
// a command that ends by itself, or one that runs until stopped (get -w), whose output is read as it comes.
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { kubeconfigYaml } from '../cluster/cluster.ts'
import { kubeConfig, kubectlOk, type TestLike } from './kube.ts'
import { until } from './wait.ts'

const ROOT = resolve(import.meta.dirname, '../..')
export const SLUICE_BIN = join(ROOT, 'bin/sluice.ts')

export interface CliRun {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

export interface CliOptions {
  /** The environment on top of this process's (KUBECONFIG is the run's admin kubeconfig). */
  readonly env?: Readonly<Record<string, string>>
  readonly cwd?: string
}

function start(args: readonly string[], o: CliOptions): { child: ChildProcess; out: { stdout: string; stderr: string } } {
  const child = spawn(process.execPath, [join(ROOT, 'test/cluster/tether.ts'), process.execPath, SLUICE_BIN, ...args],
    { stdio: ['pipe', 'pipe', 'pipe'], cwd: o.cwd ?? ROOT, env: { ...process.env, ...o.env } })
  const out = { stdout: '', stderr: '' }
  child.stdout?.on('data', (b: Buffer) => { out.stdout += b.toString() })
  child.stderr?.on('data', (b: Buffer) => { out.stderr += b.toString() })
  return { child, out }
}

/** Runs `sluice ARGS` to its end. */
export async function sluice(args: readonly string[], o: CliOptions = {}): Promise<CliRun> {
  const { child, out } = start(args, o)
  const [code] = await once(child, 'exit') as [number | null]
  // The pipes may still hold the last bytes when the process has exited.
  for (const stream of [child.stdout, child.stderr]) if (stream && !stream.readableEnded) await once(stream, 'end')
  child.stdin?.end()
  return { code: code ?? -1, stdout: out.stdout, stderr: out.stderr }
}

export interface RunningCli {
  /** What it printed so far. */
  output(): string
  /** Waits until its output matches `pattern`; returns the output. */
  waitFor(pattern: RegExp, what: string, timeoutMs?: number): Promise<string>
  /** SIGTERM (as Ctrl-C would), and its exit code. */
  stop(): Promise<number | null>
}

/** `sluice ARGS` left running (get -w), stopped by its PID when the test ends. */
export function sluiceRunning(t: TestLike, args: readonly string[], o: CliOptions = {}): RunningCli {
  const { child, out } = start(args, o)
  const exited = once(child, 'exit') as Promise<[number | null]>
  const stop = async (): Promise<number | null> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
    const [code] = await exited
    return code
  }
  t.teardown(stop)
  return {
    output: () => out.stdout,
    waitFor: async (pattern, what, timeoutMs = 120_000) => until(async () => {
      if (child.exitCode !== null) throw new Error(`sluice ${args.join(' ')} exited with ${child.exitCode}: ${out.stderr}`)
      return out.stdout
    }, text => pattern.test(text), what, timeoutMs),
    stop,
  }
}

/** A kubeconfig with a token of the ServiceAccount `ns`/`name` (which must exist). */
export async function serviceAccountKubeconfig(ns: string, name: string): Promise<{ path: string; token: string }> {
  const token = (await kubectlOk(['-n', ns, 'create', 'token', name])).trim()
  const cluster = kubeConfig().getCurrentCluster()
  const ca = Buffer.from(cluster?.caData ?? '', 'base64').toString()
  const path = join(process.env.SLUICE_CLUSTER_DIR ?? '/tmp', `${name}-${ns}.kubeconfig`)
  writeFileSync(path, kubeconfigYaml(cluster?.server ?? '', ca, token, name), { mode: 0o600 })
  return { path, token }
}

/** A ServiceAccount of `ns` allowed only `verbs` on canaries.sluice.dev there; a kubeconfig with its token. */
export async function canaryUser(ns: string, name: string, verbs: readonly string[]): Promise<string> {
  await kubectlOk(['-n', ns, 'create', 'serviceaccount', name])
  if (verbs.length > 0) {
    await kubectlOk(['-n', ns, 'create', 'role', `${name}-canaries`, ...verbs.map(v => `--verb=${v}`), '--resource=canaries.sluice.dev'])
    await kubectlOk(['-n', ns, 'create', 'rolebinding', name, `--role=${name}-canaries`, `--serviceaccount=${ns}:${name}`])
  }
  return (await serviceAccountKubeconfig(ns, name)).path
}
