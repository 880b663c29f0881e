// The shipped Grafana dashboard against the real thing: a real Prometheus scrapes a `sluice controller`,
// the test cluster's `sluice webhook` and a `sluice loadtester` while a release runs, and every PromQL
// expression of monitoring/grafana-dashboard.json, its variables set to this test's namespace and canary,
// must run without error and return at least one series. The canary has failed once and succeeded once
// before, so that the counters and histograms of finished runs have series too.
import t from 'tap'
import { freePort } from '../cluster/process.ts'
import { startHttpServer } from '../helpers/http-server.ts'
import { namespace } from '../helpers/kube.ts'
import { loadTesterAccount, startLoadTesterProcess } from '../helpers/loadtester.ts'
import { dashboardQueries, substitute } from '../helpers/monitoring.ts'
import { until } from '../helpers/wait.ts'
import type { PromResult } from '../cluster/prometheus.ts'
import { apply, deploymentYaml, IMAGE_V1, IMAGE_V2, IMAGE_V3, nginxCanary } from './apps.ts'
import { initializedApp } from './releases.ts'
import { canary, phase, sharedEnvironment, startController } from './env.ts'

const webhookMetrics = process.env.SLUICE_WEBHOOK_METRICS_URL
if (webhookMetrics === undefined) throw new Error('SLUICE_WEBHOOK_METRICS_URL is not set: run through test/cluster/with-cluster.ts, whose webhook serves its metrics')

const ns = await namespace(t)
const lt = await startLoadTesterProcess(t, await loadTesterAccount(t, ns), ns)
const controllerPort = await freePort()
const target = (url: string) => ({ static_configs: [{ targets: [new URL(url).host] }] })
const shared = await sharedEnvironment([
  { job_name: 'sluice-controller', ...target(`http://127.0.0.1:${controllerPort}`) },
  { job_name: 'sluice-webhook', ...target(webhookMetrics) },
  { job_name: 'sluice-loadtester', ...target(lt.url) },
])
t.teardown(() => shared.stop())
const prometheus = shared.prometheus
await startController(t, ns, { metricsServer: prometheus.url, telemetryPort: controllerPort })

// What the load tests hit; the load tester's commands need something that answers.
const app = await startHttpServer(t, {}, res => { res.writeHead(200).end('ok') })

// A gate the release waits for, a blocking command before it, and a background load test during it: the
// load tester's panels then have series. Many small steps keep the last release Progressing for a while.
function annotations(): Record<string, string> {
  const base = nginxCanary({ interval: '3s', step: 5, max: 50 })
  return {
    ...base,
    'sluice.dev/analysis': `${base['sluice.dev/analysis']}webhooks:
- {name: gate, type: confirm-rollout, url: "${lt.url}/gate/check"}
- name: acceptance
  type: pre-rollout
  url: ${lt.url}/
  timeout: 30s
  metadata: {type: cmd, blocking: "true", cmd: "hey -n 1 -c 1 ${app.base}/"}
- name: load
  url: ${lt.url}/
  timeout: 5s
  metadata: {cmd: "hey -z 1m -q 2 -c 1 ${app.base}/"}
`,
  }
}

async function loadTester(path: string, body: unknown): Promise<number> {
  const res = await fetch(`${lt.url}${path}`, { method: 'POST', body: JSON.stringify(body) })
  await res.text()
  return res.status
}

const VALUES = { namespace: ns, canary: 'podinfo', __rate_interval: '1m', __range: '10m' }

t.test('every query of the dashboard returns series while a release runs', async t => {
  t.equal(await loadTester('/gate/open', { name: 'podinfo', namespace: ns }), 202, 'the confirm-rollout gate is opened')
  t.not(await loadTester('/', { name: 'podinfo', namespace: ns, metadata: { cmd: 'rm -rf /' } }), 200, 'a command off the allowlist is refused')
  await initializedApp(ns, annotations())
  await apply(deploymentYaml({ ns, image: IMAGE_V2, pod: { 'simulator.sluice.dev/error-rate': '0.5' }, sluice: annotations() }))
  await phase(ns, 'podinfo', 'Failed', 180_000, 'Succeeded')
  // The canary's failed requests stay in the success-rate window (10s) after the rollback; a release started
  // at once would be judged on them too and fail. Real clusters see the same: this is the test's timing.
  const canaryErrors = `sum(rate(nginx_ingress_controller_requests{namespace="${ns}",canary!="",status=~"5.."}[10s]))`
  await until(() => prometheus.query(canaryErrors), r => r.every(s => Number(s.value[1]) === 0), 'the failed release\'s errors to leave the analysis window', 60_000)
  await apply(deploymentYaml({ ns, image: IMAGE_V3, sluice: annotations() }))
  await phase(ns, 'podinfo', 'Succeeded', 300_000, 'Failed')
  await apply(deploymentYaml({ ns, image: IMAGE_V1, sluice: annotations() }))
  await until(() => canary(ns, 'podinfo'), c => c?.status?.phase === 'Progressing' && (c.status.canaryWeight ?? 0) > 0, 'the third release Progressing with traffic on the canary', 180_000)

  const queries = dashboardQueries().map(q => ({ ...q, expr: substitute(q.expr, VALUES) }))
  t.ok(queries.length >= 20, `${queries.length} queries`)
  // Prometheus scrapes every second; the webhook's rates and the newest phase may take a few scrapes.
  let results = new Map<string, PromResult[]>()
  const errors = new Map<string, string>()
  const empty = () => queries.filter(q => (results.get(q.expr) ?? []).length === 0)
  // One panel's series, as labels and a number.
  const value = (panel: string, refId = 'A') => {
    const q = queries.find(x => x.panel === panel && x.refId === refId)
    return (results.get(q?.expr ?? '') ?? []).map(r => ({ labels: r.metric, value: Number(r.value[1]) }))
  }
  // The controller exports the weights it reads back before each decision: the canary's share shows from its next look.
  const onCanary = () => value('Traffic weights').some(r => r.labels.workload === 'podinfo' && r.value > 0)
  try {
    await until(async () => {
      results = new Map(await Promise.all(queries.map(async (q): Promise<[string, PromResult[]]> => {
        try {
          return [q.expr, await prometheus.query(q.expr)]
        } catch (e) {
          errors.set(q.expr, (e as Error).message)
          return [q.expr, []]
        }
      })))
      // A query error ends the wait: it will not go away.
      return errors.size > 0 ? 0 : empty().length + (onCanary() ? 0 : 1)
    }, n => n === 0, 'every dashboard query to return series, the weights with traffic on the canary', 60_000)
  } catch { /* the assertions below name the empty panels */ }
  for (const q of queries) {
    t.equal(errors.get(q.expr), undefined, `${q.panel} (${q.refId}) runs: ${q.expr}`)
    t.ok((results.get(q.expr) ?? []).length > 0, `${q.panel} (${q.refId}) returns series: ${q.expr}`)
  }
  t.equal((await canary(ns, 'podinfo'))?.status?.phase, 'Progressing', 'queried in the middle of the release')

  // A few values, to show the series are this release's, not just any.
  t.same(value('Canary status'), [{ labels: { namespace: ns, name: 'podinfo' }, value: 0 }], 'status 0: Progressing')
  t.same(value('Phase').map(r => r.labels.phase), ['Progressing'])
  t.same(value('Runs failed (since the controller started)').map(r => r.value), [1])
  t.same(value('Runs succeeded (since the controller started)').map(r => r.value), [1])
  t.ok(value('Time left before the progress deadline')[0]!.value > 0, 'before its deadline')
  t.same(value('Leader').map(r => r.value), [1], 'the one controller leads')
  t.ok(onCanary(), 'traffic on the canary')
  t.same(value('Certificates: time left').map(r => r.labels.certificate).sort(), ['ca', 'serving'])
})
