// Command-line numbers of the benchmarks, checked as they are read, and the sluice they run.
import { manifestCommand, nodeFlagsOf } from '../test/helpers/image-command.ts'

export function positiveList(text: string, what: string): number[] {
  const list = text.split(',').map(s => s.trim()).filter(s => s !== '').map(Number)
  if (list.length === 0 || list.some(n => !Number.isInteger(n) || n <= 0)) throw new Error(`${what}: "${text}" is not a list of positive whole numbers`)
  return list
}

export function positive(text: string | undefined, fallback: number, what: string): number {
  if (text === undefined || text === '') return fallback
  const n = Number(text)
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${what}: "${text}" is not a positive number`)
  return n
}

/** The words of an environment variable that holds flags ("--a --b=1"); none when it is unset. */
export function envWords(name: string): string[] {
  return (process.env[name] ?? '').split(/\s+/).filter(s => s !== '')
}

/**
 * The sluice a benchmark runs: BENCH_CONTROLLER_BIN (bin/sluice.ts when unset; make passes the bundle) with
 * the Node flags of BENCH_CONTROLLER_NODE_ARGS, by default the controller container's in the manifests.
 */
export function sluiceUnderTest(): { controllerNodeArgs: string[]; controllerBin?: string } {
  const bin = process.env.BENCH_CONTROLLER_BIN
  const flags = process.env.BENCH_CONTROLLER_NODE_ARGS === undefined ? nodeFlagsOf('controller', manifestCommand('controller')) : envWords('BENCH_CONTROLLER_NODE_ARGS')
  return { controllerNodeArgs: flags, ...(bin && { controllerBin: bin }) }
}
