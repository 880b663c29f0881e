// `get -w` and `status` as a release moves: on a terminal the view is redrawn in place; elsewhere (a CI log,
// a pipe) each change is one plain line, so that the output reads as a log.
import type { CoreV1Event } from '@kubernetes/client-node'
import { strategyOf } from '../../api/defaults.ts'
import type { Canary, CheckRecord } from '../../api/types.ts'
import type { Release } from '../canaries.ts'
import { rangeText, valueText } from './checks.ts'
import { stepText } from './steps.ts'
import { phaseText, tableRow, TABLE_HEADER } from './table.ts'
import { columns, stamp } from './text.ts'

/** Cursor home and clear screen: the frame is drawn from the top, as watch(1) does. */
export const CLEAR = '\x1b[H\x1b[2J'

/** What to write on a terminal for a new frame: nothing when it is unchanged. */
export function redraw(frame: string, previous: string | undefined): string {
  return frame === previous ? '' : CLEAR + frame
}

/** One line of where a release stands: "shop/podinfo Progressing weight 40% step 2/5 failed checks 0/2". */
export function summaryLine(c: Canary): string {
  const s = c.status ?? {}
  const step = stepText(c.spec, strategyOf(c.spec), s)
  return `${c.metadata.namespace ?? ''}/${c.metadata.name ?? ''} ${phaseText(c)} weight ${s.canaryWeight ?? 0}%` +
    `${step === '-' ? '' : ` step ${step}`} failed checks ${s.failedChecks ?? 0}/${c.spec.analysis?.threshold ?? 1}`
}

function checkKey(r: CheckRecord): string {
  return `${r.time}|${r.name}`
}

function checkLine(r: CheckRecord): string {
  const window = r.window ? `, window ${r.window}` : ''
  const range = r.range ? ` (${rangeText(r.range, r.name)}${window})` : ''
  const value = r.value === null || r.value === undefined ? '' : ` ${valueText(r)}`
  return `check ${r.name}${value}${range} ${r.verdict}${r.verdict === 'pass' || !r.message ? '' : `: ${r.message}`}`
}

function eventKey(e: CoreV1Event): string {
  return `${e.metadata.uid ?? e.metadata.name ?? ''}|${e.count ?? 1}`
}

function eventLine(e: CoreV1Event): string {
  return `event ${e.type ?? ''} ${e.reason ?? ''}: ${e.message ?? ''}`
}

/**
 * The plain lines for a new view of a release: its summary when it changed, then the checks and Events that
 * were not in the previous view. The first view is its summary alone (old checks and Events are history).
 */
export function releaseLines(previous: Release | undefined, next: Release, now: Date): string[] {
  const at = stamp(now)
  const summary = summaryLine(next.canary)
  if (!previous) return [`${at} ${summary}`]
  const lines = summary === summaryLine(previous.canary) ? [] : [summary]
  const oldChecks = new Set((previous.canary.status?.checks ?? []).map(checkKey))
  lines.push(...(next.canary.status?.checks ?? []).filter(r => !oldChecks.has(checkKey(r))).map(checkLine))
  const oldEvents = new Set(previous.events.map(eventKey))
  lines.push(...next.events.filter(e => !oldEvents.has(eventKey(e))).map(eventLine))
  return lines.map(l => `${at} ${l}`)
}

// The columns of a table row that say where a release stands; its ages change with the clock alone.
function rowKey(c: Canary): string {
  const s = c.status ?? {}
  return JSON.stringify([phaseText(c), s.canaryWeight, s.iterations, s.failedChecks, s.checks?.at(-1)?.time])
}

/**
 * `get -w` of a table, off a terminal: the header once, then a row for each release that changed (as
 * `kubectl get -w` prints). `seen` holds each release's last printed state and is updated.
 */
export function tableLines(seen: Map<string, string>, canaries: readonly Canary[], now: Date, allNamespaces: boolean): string[] {
  const changed = canaries.filter(c => seen.get(`${c.metadata.namespace}/${c.metadata.name}`) !== rowKey(c))
  const header = allNamespaces ? ['NAMESPACE', ...TABLE_HEADER] : [...TABLE_HEADER]
  const first = seen.size === 0
  for (const c of changed) seen.set(`${c.metadata.namespace}/${c.metadata.name}`, rowKey(c))
  if (changed.length === 0) return []
  const rows = changed.map(c => allNamespaces ? [c.metadata.namespace ?? '', ...tableRow(c, now)] : tableRow(c, now))
  // Columns are aligned within one batch only: a log has no later rows to align with.
  const lines = columns([header, ...rows])
  return first ? lines : lines.slice(1)
}
