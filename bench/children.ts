// Child processes of the benchmark: started with an IPC channel, stopped by disconnecting (each child exits
// when its parent goes away, also if the parent dies), killed if they do not.
import { fork } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { join } from 'node:path'

export type OnCleanup = (what: string, fn: () => Promise<void>) => void

export function exited(child: ChildProcess): Promise<void> {
  return new Promise(res => {
    if (child.exitCode !== null || child.signalCode !== null) res()
    else child.once('exit', () => res())
  })
}

/** Forks bench/<file> with the environment added; its stop is registered with onCleanup. */
export function startChild(file: string, env: Record<string, string>, onCleanup: OnCleanup, nodeFlags: readonly string[] = []): ChildProcess {
  const child = fork(join(import.meta.dirname, file), [], { env: { ...process.env, ...env }, execArgv: [...process.execArgv, ...nodeFlags], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  onCleanup(file, async () => {
    if (child.connected) child.disconnect()
    const timer = setTimeout(() => child.kill('SIGKILL'), 3000)
    await exited(child)
    clearTimeout(timer)
  })
  return child
}

/** The next IPC message of one of the types; rejects if the child exits first. */
export function next<T extends { type: string }>(child: ChildProcess, types: readonly string[]): Promise<T> {
  return new Promise((res, rej) => {
    const onMessage = (m: T): void => {
      if (!types.includes(m.type)) return
      child.off('message', onMessage)
      child.off('exit', onExit)
      res(m)
    }
    const onExit = (code: number | null): void => {
      child.off('message', onMessage)
      rej(new Error(`child ${child.pid} exited (${code}) before answering`))
    }
    child.on('message', onMessage)
    child.once('exit', onExit)
  })
}

/**
 * What a run started, stopped in reverse order by `cleanup()`: on every exit path, and on SIGINT, SIGTERM and
 * SIGHUP (then the process exits 130). A failed stop is logged and the others still run.
 */
export function cleanupRegistry(log: (m: string) => void): { onCleanup: OnCleanup; cleanup: () => Promise<void>; interrupted: () => boolean } {
  const cleanups: { what: string; fn: () => Promise<void> }[] = []
  let interrupted = false
  const cleanup = async (): Promise<void> => {
    for (const { what, fn } of cleanups.splice(0).reverse()) {
      try {
        await fn()
      } catch (e) {
        log(`cleanup of ${what} failed: ${e instanceof Error ? e.message : String(e)}`)
      }
    }
  }
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(sig, () => {
      interrupted = true
      log(`${sig}: stopping`)
      void cleanup().finally(() => process.exit(130))
    })
  }
  return { onCleanup: (what, fn) => { cleanups.push({ what, fn }) }, cleanup, interrupted: () => interrupted }
}
