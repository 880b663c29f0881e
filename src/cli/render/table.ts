// `sluice get`: one row per release (kubectl's table style).
import { strategyOf } from '../../api/defaults.ts'
import type { Canary } from '../../api/types.ts'
import { valueText } from './checks.ts'
import { stepText } from './steps.ts'
import { columns, since } from './text.ts'

export const TABLE_HEADER = ['NAME', 'PHASE', 'WEIGHT', 'STEP', 'FAILED', 'LAST CHECK', 'AGE'] as const

/** The phase, with what keeps the controller from acting on it. */
export function phaseText(c: Canary): string {
  const phase = c.status?.phase ?? 'Pending'
  if (c.status?.conditions?.some(k => k.type === 'InvalidSpec' && k.status === 'True')) return `${phase} (InvalidSpec)`
  return c.spec.suspend === true ? `${phase} (suspended)` : phase
}

function lastCheck(c: Canary, now: Date): string {
  const last = c.status?.checks?.at(-1)
  if (!last) return '-'
  const value = last.value === null || last.value === undefined ? '' : ` ${valueText(last)}`
  return `${last.name}${value} ${last.verdict} ${since(last.time, now)} ago`
}

export function tableRow(c: Canary, now: Date): string[] {
  const status = c.status ?? {}
  return [
    c.metadata.name ?? '',
    phaseText(c),
    `${status.canaryWeight ?? 0}%`,
    stepText(c.spec, strategyOf(c.spec), status),
    `${status.failedChecks ?? 0}/${c.spec.analysis?.threshold ?? 1}`,
    lastCheck(c, now),
    since(c.metadata.creationTimestamp, now),
  ]
}

/** The table of releases; with `allNamespaces` a NAMESPACE column comes first. */
export function renderTable(canaries: readonly Canary[], now: Date, allNamespaces = false): string {
  const header = allNamespaces ? ['NAMESPACE', ...TABLE_HEADER] : [...TABLE_HEADER]
  const rows = canaries.map(c => allNamespaces ? [c.metadata.namespace ?? '', ...tableRow(c, now)] : tableRow(c, now))
  return columns([header, ...rows]).join('\n') + '\n'
}
