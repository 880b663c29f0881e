// The shipped monitoring, checked by the tools that will read it: Prometheus's own promtool for the alert
// rules (syntax, and the firing/not-firing cases of monitoring/tests/), and the API server, with the
// Prometheus Operator's published CRDs installed, for the ServiceMonitors, the PrometheusRule and the
// NetworkPolicies (server-side dry-run: the schemas, not just the YAML).
import t from 'tap'
import { execFile } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { promisify } from 'node:util'
import { promtoolBinary } from '../../cluster/prometheus.ts'
import { installMonitoringCrds } from '../../cluster/prometheus-operator.ts'
import { kubectl } from '../../helpers/kube.ts'

const run = promisify(execFile)
const ROOT = resolve(import.meta.dirname, '../../..')
const MONITORING = join(ROOT, 'monitoring')
const RULES = join(MONITORING, 'alerts.rules.yaml')
const TESTS = readdirSync(join(MONITORING, 'tests')).filter(f => f.endsWith('.yaml')).map(f => join(MONITORING, 'tests', f))

async function promtool(args: readonly string[], cwd = ROOT): Promise<{ code: number; out: string }> {
  try {
    const { stdout, stderr } = await run(promtoolBinary(), [...args], { cwd, maxBuffer: 16 << 20 })
    return { code: 0, out: stdout + stderr }
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string; message: string }
    if (typeof err.code !== 'number') throw new Error(`promtool could not run (${promtoolBinary()}): ${err.message}`, { cause: e })
    return { code: err.code, out: (err.stdout ?? '') + (err.stderr ?? '') }
  }
}

t.test('promtool check rules: the rules file is valid, with every rule', async t => {
  const r = await promtool(['check', 'rules', RULES])
  t.equal(r.code, 0, r.out)
  const alerts = readFileSync(RULES, 'utf8').match(/^ {2}- (alert|record): /gm) ?? []
  t.match(r.out, new RegExp(`SUCCESS: ${alerts.length} rules found`))
})

t.test('promtool test rules: each alert fires on its cases and stays silent on the others', async t => {
  t.ok(TESTS.length > 0, 'rule tests exist')
  const r = await promtool(['test', 'rules', ...TESTS])
  t.equal(r.code, 0, r.out)
  t.match(r.out, /SUCCESS/)
  t.notMatch(r.out, /FAILED/)
})

t.test('the rule tests catch a broken rule: a failed canary alert that looks for the wrong status', async t => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-rules-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const rules = readFileSync(RULES, 'utf8')
  const broken = rules.replace('max by (namespace, name) (sluice_canary_status) == 2', 'max by (namespace, name) (sluice_canary_status) == 1')
  t.not(broken, rules, 'the expression was found and changed')
  writeFileSync(join(dir, 'alerts.rules.yaml'), broken)
  for (const test of TESTS) {
    writeFileSync(join(dir, `test-${test.split('/').at(-1)}`), readFileSync(test, 'utf8').replace('../alerts.rules.yaml', 'alerts.rules.yaml'))
  }
  const r = await promtool(['test', 'rules', ...TESTS.map(f => `test-${f.split('/').at(-1)}`)], dir)
  t.not(r.code, 0)
  t.match(r.out, /alertname: SluiceCanaryFailed/)
})

t.test('the API server accepts the ServiceMonitors, the PrometheusRule, the NetworkPolicies and the annotated workloads', async t => {
  await installMonitoringCrds()
  // The workloads too: their metrics ports and scrape annotations changed with the monitoring.
  for (const file of ['servicemonitor.yaml', 'prometheusrule.yaml', 'networkpolicy.yaml', 'service.yaml', 'deployment.yaml', 'loadtester.yaml']) {
    const r = await kubectl(['apply', '--dry-run=server', '-f', join(ROOT, 'manifests', file)])
    t.equal(r.code, 0, `${file}: ${r.stderr}`)
    t.match(r.stdout, /(created|configured|unchanged) \(server dry run\)/, file)
  }
  // The schemas are enforced, so the acceptance above means something.
  const bad = readFileSync(join(ROOT, 'manifests', 'servicemonitor.yaml'), 'utf8').replace('{port: http-metrics, path: /metrics, interval: 30s}', '{port: http-metrics, path: /metrics, interval: soon}')
  const refused = await kubectl(['apply', '--dry-run=server', '-f', '-'], bad)
  t.not(refused.code, 0, 'a ServiceMonitor whose interval is not a duration is refused')
  t.match(refused.stderr, /interval/)
})
