// The shipped dashboard and alert rules read metrics sluice really exports, under their real names: a
// renamed metric would otherwise leave a panel blank and an alert silent without any test noticing.
import t from 'tap'
import { readFileSync } from 'node:fs'
import { Registry } from 'prom-client'
import { parse } from 'yaml'
import { admissionMetrics, certificateMetrics } from '../../../src/admission/admission-metrics.ts'
import { DEFAULT_ROTATION_POLICY } from '../../../src/certs/rotation.ts'
import { loadTesterMetrics } from '../../../src/loadtester/metrics.ts'
import { createControllerMetrics } from '../../../src/telemetry/controller-metrics.ts'
import { RULES_FILE } from '../../../src/telemetry/prometheus-rule.ts'
import { DASHBOARD_FILE, dashboardQueries, sluiceMetricsOf, substitute, variablesOf } from '../../helpers/monitoring.ts'

// Every metric sluice registers: the controller's, the webhook's and the load tester's.
async function exported(): Promise<Map<string, string>> {
  const registry = new Registry()
  createControllerMetrics(registry)
  admissionMetrics(registry)
  certificateMetrics(registry, () => undefined, DEFAULT_ROTATION_POLICY)
  const types = new Map<string, string>()
  for (const r of [registry, loadTesterMetrics().registry]) {
    for (const m of await r.getMetricsAsJSON()) types.set(m.name, String(m.type))
  }
  return types
}

const queries = dashboardQueries()

t.test('the dashboard has panels for every part, each with a query, and only its own variables', async t => {
  const dashboard = JSON.parse(readFileSync(DASHBOARD_FILE, 'utf8')) as { uid: string; templating: { list: { name: string }[] }; panels: { type: string; title: string }[] }
  t.equal(dashboard.uid, 'sluice-overview')
  t.same(dashboard.templating.list.map(v => v.name), ['datasource', 'namespace', 'canary'])
  t.same(dashboard.panels.filter(p => p.type === 'row').map(p => p.title), ['Releases', 'Admission webhook', 'Controller', 'Load tester'])
  for (const p of dashboard.panels.filter(p => p.type !== 'row')) t.ok(queries.some(q => q.panel === p.title), `${p.title}: has a query`)
  for (const q of queries) {
    t.ok(q.expr.trim() !== '', `${q.panel} ${q.refId}: an expression`)
    t.same(variablesOf(q.expr).filter(v => !['namespace', 'canary', '__rate_interval', '__range'].includes(v)), [], `${q.panel} ${q.refId}: known variables`)
  }
})

t.test('every sluice_ metric the dashboard and the alert rules read is exported by sluice', async t => {
  const types = await exported()
  const rules = (parse(readFileSync(RULES_FILE, 'utf8')) as { groups: { rules: { expr: string; alert?: string; record?: string }[] }[] }).groups.flatMap(g => g.rules)
  const read = [
    ...queries.map(q => ({ where: `dashboard: ${q.panel} ${q.refId}`, expr: q.expr })),
    ...rules.map(r => ({ where: `rule ${r.alert ?? r.record}`, expr: r.expr })),
  ]
  for (const { where, expr } of read) {
    for (const metric of sluiceMetricsOf(expr)) t.ok(types.has(metric), `${where}: ${metric} is exported`)
  }
  // The histograms are read through their buckets, and the counters through rate/increase.
  for (const { where, expr } of read) {
    for (const m of expr.matchAll(/\b(sluice_[a-z_]+?)_bucket\b/g)) t.equal(types.get(m[1]!), 'histogram', `${where}: ${m[1]} is a histogram`)
  }
  const used = new Set(read.flatMap(r => sluiceMetricsOf(r.expr)))
  t.same([...types.keys()].filter(n => n.startsWith('sluice_') && !used.has(n)), [], 'and every sluice_ metric is on the dashboard or in a rule')
})

t.test('substitution: single and multiple values, and an unknown variable is an error', async t => {
  t.equal(substitute('x{namespace=~"$namespace", name=~"$canary"}[$__rate_interval]', { namespace: 'apps', canary: ['a', 'b'], __rate_interval: '1m' }),
    'x{namespace=~"apps", name=~"(a|b)"}[1m]')
  t.throws(() => substitute('x[$__interval]', {}), /__interval/)
})
