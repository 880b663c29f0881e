// bench-peer --repeat K: each contender K times per size, and the rounds summed up as a median with its spread.
// One run cannot decide a 10% question: the machine moves a controller's CPU by ±15% between runs. Each round
// turns the order of the contenders, so none always runs first or last, and each ratio is taken within a round,
// between runs minutes apart, before its median is taken.
import { median } from '../stats.ts'
import { markdownTable } from './markdown.ts'
import type { PeerResult } from './run.ts'

/** The contenders in round r: turned by r places, so each runs first in one round of every len(contenders). */
export function roundOrder<T>(contenders: readonly T[], round: number): T[] {
  const k = contenders.length === 0 ? 0 : round % contenders.length
  return [...contenders.slice(k), ...contenders.slice(0, k)]
}

export interface Spread {
  readonly median: number
  readonly min: number
  readonly max: number
  /** How many rounds gave a value. */
  readonly count: number
}

/** Median, least and most of the finite values; undefined when there is none. */
export function spreadOf(values: readonly (number | undefined)[]): Spread | undefined {
  const finite = values.filter((v): v is number => v !== undefined && Number.isFinite(v))
  if (finite.length === 0) return undefined
  return { median: median(finite), min: Math.min(...finite), max: Math.max(...finite), count: finite.length }
}

interface Figure {
  readonly name: string
  readonly of: (r: PeerResult) => number | undefined
  readonly digits: number
}

const seconds = (ms: number | undefined): number | undefined => ms === undefined ? undefined : ms / 1000

export const FIGURES: readonly Figure[] = [
  { name: 'CPU analysing cores', of: r => r.good?.controller?.cpuCores, digits: 3 },
  { name: 'a later release: CPU analysing cores', of: r => r.later?.controller?.cpuCores, digits: 3 },
  { name: 'CPU idle cores', of: r => r.idle?.cpuCores, digits: 3 },
  { name: 'RSS idle MB', of: r => r.idle?.rssMeanMB, digits: 0 },
  { name: 'RSS analysing MB (max)', of: r => r.good?.controller?.rssMaxMB, digits: 0 },
  { name: 'new image → Progressing p50 s', of: r => seconds(r.good?.toProgressing.p50Ms), digits: 2 },
  { name: 'new image → Progressing p99 s', of: r => seconds(r.good?.toProgressing.p99Ms), digits: 2 },
  { name: 'Progressing → Succeeded p50 s', of: r => seconds(r.good?.progressingToSucceeded.p50Ms), digits: 1 },
  { name: 'step drift p99 s', of: r => seconds(r.good?.drift.p99Ms), digits: 2 },
  { name: 'bad image → Failed p50 s', of: r => seconds(r.bad?.toFailed.p50Ms), digits: 1 },
  { name: 'API requests per step, over idle', of: r => r.good?.api.perStepOverIdle, digits: 1 },
  { name: 'a later release: API requests per step, over idle', of: r => r.later?.api.perStepOverIdle, digits: 1 },
]

/** A result's round; a report written before rounds had one. */
export const roundOf = (r: PeerResult): number => r.round ?? 0

/**
 * Each other contender ÷ the reference, taken within each round that has both (the ratios the table beside each
 * round shows), then spread over the rounds.
 */
export function pairedRatios(results: readonly PeerResult[], reference: string, other: string, of: Figure['of']): Spread | undefined {
  const rounds = [...new Set(results.map(roundOf))]
  return spreadOf(rounds.map(round => {
    const a = results.find(r => roundOf(r) === round && r.controller === other)
    const b = results.find(r => roundOf(r) === round && r.controller === reference)
    const x = a && of(a)
    const y = b && of(b)
    return x === undefined || y === undefined || y === 0 ? undefined : x / y
  }))
}

const text = (s: Spread | undefined, digits: number, unit = ''): string =>
  s === undefined ? '–' : s.count === 1 ? `${s.median.toFixed(digits)}${unit}` : `${s.median.toFixed(digits)}${unit} (${s.min.toFixed(digits)}–${s.max.toFixed(digits)}${unit})`

/** One size's rounds as one table: each contender's median (least–most), and each ratio to sluice, paired by round. */
export function repeatTable(n: number, results: readonly PeerResult[]): string[] {
  const names = [...new Set(results.map(r => r.controller))]
  const rounds = new Set(results.map(roundOf)).size
  const reference = names.includes('sluice') ? 'sluice' : undefined
  const others = names.filter(name => name !== reference)
  const head = [`N = ${n}, ${rounds} rounds: median (least–most)`, ...names, ...(reference ? others.map(name => `${name} ÷ sluice, by round`) : [])]
  return markdownTable(head, FIGURES.map(f => {
    const own = names.map(name => text(spreadOf(results.filter(r => r.controller === name).map(f.of)), f.digits))
    const ratios = reference ? others.map(name => text(pairedRatios(results, reference, name, f.of), 2, '×')) : []
    return [f.name, ...own, ...ratios]
  }))
}
