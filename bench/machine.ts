// What the machine does besides the benchmark, from /proc: busy CPU time of all cores, and one process's CPU.
import { readFileSync } from 'node:fs'

// /proc/stat and /proc/<pid>/stat count in clock ticks, 100 per second on Linux.
const TICK_US = 10_000

/** Busy CPU time of the whole machine so far, in microseconds summed over cores; undefined without /proc. */
export function machineBusyUs(): number | undefined {
  try {
    const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number)
    // user nice system idle iowait irq softirq steal: everything but idle and iowait is busy.
    return fields.slice(0, 8).reduce((sum, v, i) => i === 3 || i === 4 ? sum : sum + v, 0) * TICK_US
  } catch {
    return undefined
  }
}

/** CPU time (user + system) a process has used so far, in milliseconds; undefined once it is gone. */
export function processCpuMs(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // Fields after the command (which may hold spaces): utime and stime are the 12th and 13th.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return (Number(fields[11]) + Number(fields[12])) * TICK_US / 1000
  } catch {
    return undefined
  }
}
