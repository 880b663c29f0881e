// The shipped Grafana dashboard's queries, with its variables replaced by values, for the tests that check
// them: against the metrics sluice registers (unit) and against a real Prometheus during a release (e2e).
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

export const DASHBOARD_FILE = fileURLToPath(new URL('../../monitoring/grafana-dashboard.json', import.meta.url))

export interface DashboardQuery {
  readonly panel: string
  readonly refId: string
  readonly expr: string
}

interface Panel { title?: string; type?: string; targets?: { refId?: string; expr?: string }[]; panels?: Panel[] }

/** Every PromQL expression of the dashboard, rows' panels included, as written (variables not replaced). */
export function dashboardQueries(file = DASHBOARD_FILE): DashboardQuery[] {
  const dashboard = JSON.parse(readFileSync(file, 'utf8')) as { panels?: Panel[] }
  const flat = (panels: readonly Panel[]): Panel[] => panels.flatMap(p => [p, ...flat(p.panels ?? [])])
  return flat(dashboard.panels ?? []).flatMap(p => (p.targets ?? []).map(target => ({
    panel: p.title ?? '(untitled)', refId: target.refId ?? '', expr: target.expr ?? '',
  })))
}

/** The `$name` and `${name}` variables an expression uses (Grafana's built-ins too, e.g. __rate_interval). */
export function variablesOf(expr: string): string[] {
  return [...new Set([...expr.matchAll(/\$\{?(\w+)\}?/g)].map(m => m[1]!))]
}

/**
 * `expr` with each variable replaced by its value, as Grafana does: a multi-value variable becomes a
 * regex alternative, which the dashboard's `=~` matchers expect. An unknown variable is an error.
 */
export function substitute(expr: string, values: Readonly<Record<string, string | readonly string[]>>): string {
  return expr.replace(/\$\{?(\w+)\}?/g, (_whole, name: string) => {
    const value = values[name]
    if (value === undefined) throw new Error(`the dashboard uses $${name}, which has no value here: ${expr}`)
    return typeof value === 'string' ? value : value.length === 1 ? value[0]! : `(${value.join('|')})`
  })
}

/** The sluice_ metric names an expression reads (histogram series mapped to their metric: _bucket, _sum, _count). */
export function sluiceMetricsOf(expr: string): string[] {
  return [...new Set([...expr.matchAll(/\bsluice_[a-z_]+/g)].map(m => m[0].replace(/_(bucket|sum|count)$/, '')))]
}
