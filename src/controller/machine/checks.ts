// Check stages (webhooks of one type, or the metrics), the verdict of a set of outcomes, and the words and
// status records that explain them.
import type { CheckRecord, HookType } from '../../api/types.ts'
import { hooksOfType } from '../../api/defaults.ts'
import type { Ctx } from './context.ts'
import type { CheckOutcome, CheckStage, HookOutcome, MetricOutcome } from './types.ts'

export type StageResult = { readonly need: CheckStage } | { readonly outcomes: readonly CheckOutcome[] }

/**
 * "metrics server http://prometheus:9090 does not answer" (or servers, or the provider when the observation
 * names none); `verb` is [singular, plural].
 */
export function offlineServers(ctx: Ctx, verb: readonly [string, string] = ['does not answer', 'do not answer']): string {
  const servers = ctx.seen.offlineMetricsServers ?? []
  if (servers.length === 0) return `the metrics provider ${verb[0]}`
  return servers.length === 1 ? `metrics server ${servers.join('')} ${verb[0]}` : `metrics servers ${servers.join(', ')} ${verb[1]}`
}

function offline(ctx: Ctx): MetricOutcome[] {
  const message = `not queried: ${offlineServers(ctx, ['is unreachable', 'are unreachable'])} (health query vector(1) failed)`
  return (ctx.analysis.metrics ?? []).map(m => ({
    kind: 'metric', name: m.name, value: null, verdict: 'error', message,
    ...(m.thresholdRange && { range: m.thresholdRange }), ...(m.interval && { window: m.interval }),
  }))
}

/** This tick's metrics were not run because a server is offline. */
export function metricsOffline(ctx: Ctx): boolean {
  return ctx.seen.metricsOnline === false && (ctx.analysis.metrics ?? []).length > 0
}

/**
 * The outcomes of a stage in this tick, or the request to run it. A stage with nothing configured passes
 * without asking; metrics count as errors without asking when the provider is known to be offline.
 */
export function stageOutcomes(ctx: Ctx, stage: CheckStage): StageResult {
  const checks = ctx.seen.checks ?? []
  if (stage === 'metrics') {
    if ((ctx.analysis.metrics ?? []).length === 0) return { outcomes: [] }
    if (metricsOffline(ctx)) return { outcomes: offline(ctx) }
    const found = checks.filter(c => c.kind === 'metric')
    return found.length > 0 ? { outcomes: found } : { need: stage }
  }
  if (hooksOfType(ctx.analysis.webhooks, stage).length === 0) return { outcomes: [] }
  const found = checks.filter(c => c.kind === 'hook' && c.type === stage)
  return found.length > 0 ? { outcomes: found } : { need: stage }
}

export type Verdict = 'pass' | 'fail' | 'error' | 'no-data'

// A failed check outranks a hold: it is counted even when another metric had no data in the same tick.
const RANK: Readonly<Record<Verdict, number>> = { pass: 0, 'no-data': 1, error: 2, fail: 3 }

export interface Summary {
  readonly verdict: Verdict
  /** The outcome that decided the verdict (absent on pass). */
  readonly culprit?: CheckOutcome
}

export function summarize(outcomes: readonly CheckOutcome[]): Summary {
  let worst: CheckOutcome | undefined
  for (const o of outcomes) {
    if (o.verdict !== 'pass' && (worst === undefined || RANK[o.verdict] > RANK[worst.verdict])) worst = o
  }
  return worst ? { verdict: worst.verdict, culprit: worst } : { verdict: 'pass' }
}

const UNITS: Readonly<Record<string, string>> = { 'request-success-rate': '%', 'request-duration': 'ms' }

/** A metric's value as messages and `sluice get` show it: four significant digits and the builtin's unit. */
export function amount(value: number, name: string): string {
  return `${Number(value.toPrecision(4))}${UNITS[name] ?? ''}`
}

function describeMetric(o: MetricOutcome): string {
  const extra = o.message ? `: ${o.message}` : ''
  if (o.verdict === 'no-data') return `${o.name} returned no data${extra}`
  if (o.verdict === 'error') return `${o.name} could not be evaluated${extra || ': the metrics provider is unreachable'}`
  if (o.value === null) return `${o.name} has no value${extra}`
  const value = `${o.name} ${amount(o.value, o.name)}`
  const { min, max } = o.range ?? {}
  if (min !== undefined && o.value < min) return `${value} is below the minimum ${amount(min, o.name)}`
  if (max !== undefined && o.value > max) return `${value} is above the maximum ${amount(max, o.name)}`
  return o.verdict === 'pass' ? `${value} is within range` : `${value} failed${extra}`
}

function describeHook(o: HookOutcome): string {
  const what = `${o.type} hook "${o.name}"`
  const extra = o.message ? `: ${o.message}` : ''
  return o.verdict === 'pass' ? `${what} passed${extra}` : `${what} failed${extra}`
}

/** One outcome in words, without its window: "request-success-rate 91.2% is below the minimum 99%". */
export function describe(o: CheckOutcome): string {
  return o.kind === 'metric' ? describeMetric(o) : describeHook(o)
}

/** The window as a parenthesis, merged with any extra words: "(window 1m, 2 of 5 failed checks)". */
export function parenthesis(o: CheckOutcome | undefined, ...extra: string[]): string {
  const parts = [...(o?.kind === 'metric' && o.window ? [`window ${o.window}`] : []), ...extra]
  return parts.length > 0 ? ` (${parts.join(', ')})` : ''
}

export function hookRecordName(type: HookType, name: string): string {
  return `${type}:${name}`
}

export function toRecord(o: CheckOutcome, time: string): CheckRecord {
  if (o.kind === 'hook') {
    return { name: hookRecordName(o.type, o.name), value: null, verdict: o.verdict, message: describe(o), time }
  }
  return {
    name: o.name, value: o.value, verdict: o.verdict, message: describe(o), time,
    ...(o.range && { range: o.range }), ...(o.window && { window: o.window }),
  }
}

/** A webhook marked muteAlert keeps its gate's "waiting for approval" alert quiet. */
export function muted(ctx: Ctx, o: CheckOutcome | undefined): boolean {
  if (o?.kind !== 'hook') return false
  return hooksOfType(ctx.analysis.webhooks, o.type).some(w => w.name === o.name && w.muteAlert === true)
}
