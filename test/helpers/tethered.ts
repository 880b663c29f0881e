// A sluice process of a test, started through the tether (test/cluster/tether.ts) so that a test process
// killed by its runner takes it along, its output appended to a log file, and stopped by its own PID.
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { createWriteStream, mkdirSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'

const ROOT = resolve(import.meta.dirname, '../..')

export interface Tethered {
  /** The running process, if any. */
  readonly child: ChildProcess | undefined
  /** Starts the command (again, after a stop). */
  start(): Promise<ChildProcess>
  /** Sends `signal` and waits for the exit; SIGUSR2 makes the tether SIGKILL the command, as a crash. */
  stop(signal: NodeJS.Signals): Promise<void>
}

/**
 * `node …nodeFlags bin/sluice.ts …args`, logged to `log`. `env` adds variables (undefined removes one);
 * `wrapper` runs before node and must exec it (e.g. `unshare … sh -c '…; exec "$@"' sh`).
 */
export function tetheredSluice(
  args: readonly string[], log: string, env: Readonly<Record<string, string | undefined>> = {}, wrapper: readonly string[] = [],
  nodeFlags: readonly string[] = [],
): Tethered {
  let child: ChildProcess | undefined
  mkdirSync(dirname(log), { recursive: true })
  return {
    get child() { return child },
    async start() {
      const out = createWriteStream(log, { flags: 'a' })
      await once(out, 'open')
      const merged: NodeJS.ProcessEnv = { ...process.env }
      for (const [k, v] of Object.entries(env)) {
        if (v === undefined) delete merged[k]
        else merged[k] = v
      }
      const c = spawn(process.execPath, [join(ROOT, 'test/cluster/tether.ts'), ...wrapper, process.execPath, ...nodeFlags, join(ROOT, 'bin/sluice.ts'), ...args],
        { stdio: ['pipe', out, out], env: merged })
      child = c
      return c
    },
    async stop(signal) {
      const c = child
      child = undefined
      if (!c || c.exitCode !== null || c.signalCode !== null) return
      const exited = once(c, 'exit')
      c.kill(signal)
      // A process that does not stop within 15 s is a bug to see in its log, not a reason to hang the run.
      const escalate = setTimeout(() => { c.kill('SIGUSR2') }, 15_000)
      await exited
      clearTimeout(escalate)
    },
  }
}

/** Whether a process with this PID exists (signal 0 checks without sending anything). */
export function alive(pid: number | undefined): boolean {
  if (pid === undefined) return false
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}
