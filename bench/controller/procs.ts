// What processes use, from /proc: resident memory, CPU time, and finding a process by its command line.
import { readdirSync, readFileSync } from 'node:fs'
import { processCpuMs } from '../machine.ts'

export { machineBusyUs, processCpuMs } from '../machine.ts'

/** VmRSS of a process in bytes; undefined once it is gone. */
export function rssBytes(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined
  try {
    const m = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return m ? Number(m[1]) * 1024 : undefined
  } catch {
    return undefined
  }
}

/** The first process whose command line contains every one of `parts` (arguments joined by spaces). */
export function findPid(parts: readonly string[]): number | undefined {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const cmd = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replaceAll('\0', ' ')
      if (parts.every(p => cmd.includes(p))) return Number(entry)
    } catch { /* gone meanwhile */ }
  }
  return undefined
}

/** CPU milliseconds of each named process now, to subtract at the end of a window. */
export function cpuSnapshot(pids: Readonly<Record<string, number | undefined>>): Record<string, number | undefined> {
  const out: Record<string, number | undefined> = {}
  for (const [name, pid] of Object.entries(pids)) out[name] = name === 'bench (this process)' ? selfCpuMs() : processCpuMs(pid)
  return out
}

export function selfCpuMs(): number {
  const u = process.cpuUsage()
  return (u.user + u.system) / 1000
}

/** Average cores each process used between two snapshots. */
export function coresBetween(before: Readonly<Record<string, number | undefined>>, after: Readonly<Record<string, number | undefined>>, wallMs: number): Record<string, number> {
  const out: Record<string, number> = {}
  for (const [name, b] of Object.entries(before)) {
    const a = after[name]
    if (a !== undefined && b !== undefined) out[name] = (a - b) / wallMs
  }
  return out
}
