import t from 'tap'
import { Registry } from 'prom-client'
import { PHASES } from '../../../src/api/types.ts'
import { canaryStatusValue, createControllerMetrics, RECONCILE_BUCKETS, RUN_DURATION_BUCKETS } from '../../../src/telemetry/controller-metrics.ts'

interface Sample { name: string; labels: Record<string, string>; value: number }

// Reads the text exposition, as Prometheus does, so that names, labels and values are checked end to end.
async function scrape(registry: Registry): Promise<Sample[]> {
  const samples: Sample[] = []
  for (const line of (await registry.metrics()).split('\n')) {
    if (line === '' || line.startsWith('#')) continue
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line)
    if (m === null) throw new Error(`unparsable line: ${line}`)
    const labels: Record<string, string> = {}
    for (const [, k, v] of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[k!] = v!
    samples.push({ name: m[1]!, labels, value: Number(m[3]) })
  }
  return samples
}

function pick(samples: Sample[], name: string, labels: Record<string, string> = {}): Sample[] {
  return samples.filter(s => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
}

const CANARY_SERIES = [
  'sluice_canary_status', 'sluice_canary_phase', 'sluice_canary_weight', 'sluice_canary_metric_analysis',
  'sluice_canary_duration_seconds_count', 'sluice_canary_successes_total', 'sluice_canary_failures_total',
]

t.test('the status values follow Flagger: 0 Progressing, 2 Failed, 1 for the rest', async t => {
  for (const phase of PHASES) t.equal(canaryStatusValue(phase), phase === 'Progressing' ? 0 : phase === 'Failed' ? 2 : 1, phase)
})

t.test('an own registry, not the global one, with the process and Node.js defaults', async t => {
  const m = createControllerMetrics()
  t.type(m.registry, Registry)
  const text = await m.registry.metrics()
  t.match(text, /^process_resident_memory_bytes \d+/m)
  t.match(text, /^process_cpu_seconds_total \S+/m)
  t.match(text, /^nodejs_eventloop_lag_seconds /m)
  t.match(text, /# HELP sluice_canary_status .*0 = Progressing.*1 = any other phase.*2 = Failed/)
  t.match(text, /# TYPE sluice_canary_duration_seconds histogram/)
  t.match(text, /# TYPE sluice_canary_successes_total counter/)
  t.match(text, /# TYPE sluice_workqueue_depth gauge/)
})

t.test('a given registry is used, and sharing it with another component does not register the defaults twice', async t => {
  const registry = new Registry()
  const m = createControllerMetrics(registry)
  t.equal(m.registry, registry)
  t.ok(registry.getSingleMetric('sluice_reconcile_errors_total'))
  const other = new Registry()
  createControllerMetrics(other)
  t.throws(() => createControllerMetrics(other), /already been registered/, 'the controller\'s own metrics exist once per registry')
})

t.test('observePhase sets the status number and moves the phase series', async t => {
  const m = createControllerMetrics()
  m.observePhase('podinfo', 'test', 'Progressing')
  m.observePhase('other', 'test', 'Succeeded')
  let s = await scrape(m.registry)
  t.same(pick(s, 'sluice_canary_status', { name: 'podinfo' }), [{ name: 'sluice_canary_status', labels: { name: 'podinfo', namespace: 'test' }, value: 0 }])
  t.same(pick(s, 'sluice_canary_phase', { name: 'podinfo' }).map(x => [x.labels.phase, x.value]), [['Progressing', 1]])

  m.observePhase('podinfo', 'test', 'Failed')
  s = await scrape(m.registry)
  t.equal(pick(s, 'sluice_canary_status', { name: 'podinfo' })[0]?.value, 2)
  t.same(pick(s, 'sluice_canary_phase', { name: 'podinfo' }).map(x => [x.labels.phase, x.value]), [['Failed', 1]], 'the old phase series is gone')
  t.same(pick(s, 'sluice_canary_phase', { name: 'other' }).map(x => [x.labels.phase, x.value]), [['Succeeded', 1]], 'other canaries untouched')
  t.equal(pick(s, 'sluice_canary_status', { name: 'other' })[0]?.value, 1)

  m.observePhase('podinfo', 'test', 'Failed')
  t.equal(pick(await scrape(m.registry), 'sluice_canary_phase', { name: 'podinfo' }).length, 1, 'setting the same phase again keeps one series')
})

t.test('observeWeights exports the primary and the canary workload, as Flagger does', async t => {
  const m = createControllerMetrics()
  m.observeWeights('test', 'podinfo-primary', 'podinfo', 80, 20)
  let s = await scrape(m.registry)
  t.same(pick(s, 'sluice_canary_weight').map(x => [x.labels.workload, x.labels.namespace, x.value]).sort(),
    [['podinfo', 'test', 20], ['podinfo-primary', 'test', 80]])

  m.observeWeights('test', 'podinfo-primary', 'podinfo', 100, 0)
  s = await scrape(m.registry)
  t.same(pick(s, 'sluice_canary_weight').map(x => [x.labels.workload, x.value]).sort(), [['podinfo', 0], ['podinfo-primary', 100]])

  m.observeWeights('test', 'web-primary', 'web', 90, 10, 'podinfo')
  s = await scrape(m.registry)
  t.same(pick(s, 'sluice_canary_weight').map(x => x.labels.workload).sort(), ['web', 'web-primary'], 'a retargeted canary drops its old workloads')
})

t.test('observeMetric keeps the last value per metric check', async t => {
  const m = createControllerMetrics()
  m.observeMetric('podinfo', 'test', 'request-success-rate', 99.5)
  m.observeMetric('podinfo', 'test', 'request-duration', 230)
  m.observeMetric('podinfo', 'test', 'request-success-rate', 97.25)
  m.observeMetric('podinfo', 'test', 'latency-p99', Number.NaN)
  const s = pick(await scrape(m.registry), 'sluice_canary_metric_analysis')
  t.same(s.map(x => [x.labels.name, x.labels.namespace, x.labels.metric, x.value]).sort(), [
    ['podinfo', 'test', 'latency-p99', Number.NaN],
    ['podinfo', 'test', 'request-duration', 230],
    ['podinfo', 'test', 'request-success-rate', 97.25],
  ])
})

t.test('runFinished counts the outcome and observes the run length in the run buckets', async t => {
  const m = createControllerMetrics()
  m.runFinished('podinfo', 'test', 'succeeded', 250)
  m.runFinished('podinfo', 'test', 'succeeded', 45)
  m.runFinished('podinfo', 'test', 'failed', 3000)
  const s = await scrape(m.registry)
  const labels = { name: 'podinfo', namespace: 'test' }
  t.equal(pick(s, 'sluice_canary_successes_total', labels)[0]?.value, 2)
  t.equal(pick(s, 'sluice_canary_failures_total', labels)[0]?.value, 1)
  t.equal(pick(s, 'sluice_canary_duration_seconds_count', labels)[0]?.value, 3)
  t.equal(pick(s, 'sluice_canary_duration_seconds_sum', labels)[0]?.value, 3295)
  const buckets = pick(s, 'sluice_canary_duration_seconds_bucket', labels)
  t.same(buckets.map(b => b.labels.le), [...RUN_DURATION_BUCKETS.map(String), '+Inf'])
  const le = (bound: string) => buckets.find(b => b.labels.le === bound)?.value
  t.equal(le('30'), 0)
  t.equal(le('60'), 1)
  t.equal(le('300'), 2)
  t.equal(le('1800'), 2)
  t.equal(le('3600'), 3)
  t.equal(le('+Inf'), 3)
})

t.test('the work queue wait, by lane', async t => {
  const m = createControllerMetrics()
  m.observeQueueWait('urgent', 0.002)
  m.observeQueueWait('routine', 0.3)
  m.observeQueueWait('routine', 45)
  const s = await scrape(m.registry)
  const count = (lane: string) => pick(s, 'sluice_workqueue_wait_seconds_count').find(x => x.labels.lane === lane)?.value
  t.equal(count('urgent'), 1)
  t.equal(count('routine'), 2)
  const le = (lane: string, bound: string) => pick(s, 'sluice_workqueue_wait_seconds_bucket').find(x => x.labels.lane === lane && x.labels.le === bound)?.value
  t.equal(le('urgent', '0.0025'), 1, 'a new revision picked up within milliseconds')
  t.equal(le('routine', '10'), 1)
  t.equal(le('routine', '60'), 2, 'buckets past the reconcile\'s 10 s, for a queue behind by a minute')
})

t.test('queue depth, reconcile duration and errors', async t => {
  const m = createControllerMetrics()
  let s = await scrape(m.registry)
  t.equal(pick(s, 'sluice_reconcile_errors_total')[0]?.value, 0, 'the error counter is exported from the start')
  t.equal(pick(s, 'sluice_workqueue_depth')[0]?.value, 0)

  m.setQueueDepth(7)
  m.setQueueDepth(3)
  m.observeReconcile(0.0008, true)
  m.observeReconcile(0.02, true)
  m.observeReconcile(12, false)
  s = await scrape(m.registry)
  t.equal(pick(s, 'sluice_workqueue_depth')[0]?.value, 3)
  t.equal(pick(s, 'sluice_reconcile_errors_total')[0]?.value, 1)
  t.equal(pick(s, 'sluice_reconcile_duration_seconds_count')[0]?.value, 3)
  const buckets = pick(s, 'sluice_reconcile_duration_seconds_bucket')
  t.same(buckets.map(b => b.labels.le), [...RECONCILE_BUCKETS.map(String), '+Inf'])
  t.equal(buckets[0]?.labels.le, '0.001', 'the first bucket is 1 ms')
  t.equal(buckets.at(-2)?.labels.le, '10', 'the last finite bucket is 10 s')
  const le = (bound: string) => buckets.find(b => b.labels.le === bound)?.value
  t.equal(le('0.001'), 1)
  t.equal(le('0.025'), 2)
  t.equal(le('10'), 2)
  t.equal(le('+Inf'), 3)
  t.same(Object.keys(pick(s, 'sluice_reconcile_duration_seconds_count')[0]?.labels ?? {}), [], 'no labels')
})

t.test('the progress deadline is exported while the release runs, and dropped once it waits or ends', async t => {
  const m = createControllerMetrics()
  const deadline = async (name = 'podinfo') => pick(await scrape(m.registry), 'sluice_canary_progress_deadline_timestamp_seconds', { name }).map(s => s.value)
  m.observePhase('podinfo', 'test', 'Progressing', 1_700_000_600_000)
  m.observePhase('web', 'test', 'Progressing', 1_700_000_900_000)
  t.same(await deadline(), [1_700_000_600], 'in Unix seconds')
  m.observePhase('podinfo', 'test', 'Promoting', 1_700_001_000_000)
  t.same(await deadline(), [1_700_001_000], 'moved by the next progress')
  m.observePhase('podinfo', 'test', 'Promoting')
  t.same(await deadline(), [], 'no deadline known: no series')
  m.observePhase('podinfo', 'test', 'Finalising', 1_700_001_100_000)
  m.observePhase('podinfo', 'test', 'WaitingPromotion', 1_700_001_200_000)
  t.same(await deadline(), [], 'a release waiting for a person is not stuck')
  m.observePhase('podinfo', 'test', 'Progressing', 1_700_001_300_000)
  m.observePhase('podinfo', 'test', 'Succeeded', 1_700_001_400_000)
  t.same(await deadline(), [], 'a finished release has no deadline')
  t.same(await deadline('web'), [1_700_000_900], 'the other canary keeps its own')
  m.forget('web', 'test')
  t.same(await deadline('web'), [], 'forgotten with its canary')
})

t.test('the leader gauge is 0 from the start, 1 while leading, 0 again once the Lease is lost', async t => {
  const m = createControllerMetrics()
  const leader = async () => pick(await scrape(m.registry), 'sluice_controller_leader')
  t.same((await leader()).map(s => [s.labels, s.value]), [[{}, 0]], 'a waiting replica exports 0, with no labels (Prometheus adds instance)')
  m.setLeading(true)
  t.equal((await leader())[0]?.value, 1)
  m.setLeading(false)
  t.equal((await leader())[0]?.value, 0)
  t.match(await m.registry.metrics(), /# TYPE sluice_controller_leader gauge/)
})

t.test('forget removes every series of the canary and only of that canary', async t => {
  const m = createControllerMetrics()
  for (const name of ['podinfo', 'web']) {
    m.observePhase(name, 'test', 'Progressing')
    m.observeWeights('test', `${name}-primary`, name, 60, 40)
    m.observeMetric(name, 'test', 'request-success-rate', 99)
    m.observeMetric(name, 'test', 'request-duration', 120)
    m.runFinished(name, 'test', 'succeeded', 100)
    m.runFinished(name, 'test', 'failed', 100)
  }
  m.observePhase('podinfo', 'other', 'Succeeded')
  m.observeWeights('other', 'podinfo-primary', 'podinfo', 100, 0)

  m.forget('podinfo', 'test')
  const s = await scrape(m.registry)
  for (const name of CANARY_SERIES) {
    const left = pick(s, name, { namespace: 'test' })
    t.notOk(left.some(x => x.labels.name === 'podinfo' || x.labels.workload?.startsWith('podinfo')), `${name}: podinfo/test is gone`)
    t.ok(left.length > 0, `${name}: web/test is still there`)
  }
  t.notOk(pick(s, 'sluice_canary_duration_seconds_bucket', { name: 'podinfo', namespace: 'test' }).length, 'no histogram buckets left')
  t.equal(pick(s, 'sluice_canary_status', { name: 'podinfo', namespace: 'other' }).length, 1, 'the same name in another namespace stays')
  t.equal(pick(s, 'sluice_canary_weight', { namespace: 'other' }).length, 2)

  m.forget('podinfo', 'test')
  m.forget('never-seen', 'test')
  const again = await scrape(m.registry)
  for (const name of CANARY_SERIES) t.same(pick(again, name, {}), pick(s, name, {}), `${name}: forgetting twice, or an unknown canary, changes nothing`)

  m.observePhase('podinfo', 'test', 'Initialized')
  t.equal(pick(await scrape(m.registry), 'sluice_canary_status', { name: 'podinfo', namespace: 'test' })[0]?.value, 1, 'a re-created canary is recorded again')
})

t.test('a retargeted weight owner is forgotten with its canary', async t => {
  const m = createControllerMetrics()
  m.observeWeights('test', 'backend-primary', 'backend', 50, 50, 'my-canary')
  m.forget('my-canary', 'test')
  t.same(pick(await scrape(m.registry), 'sluice_canary_weight'), [])
})

t.test('a reconcile that changes neither phase nor weights leaves the series as they are; forget then observe sets them again', async t => {
  const m = createControllerMetrics()
  m.observePhase('podinfo', 'test', 'Progressing', 1_700_000_000_000)
  m.observeWeights('test', 'podinfo-primary', 'podinfo', 80, 20)
  const first = await scrape(m.registry)
  m.observePhase('podinfo', 'test', 'Progressing', 1_700_000_000_000)
  m.observeWeights('test', 'podinfo-primary', 'podinfo', 80, 20)
  const again = await scrape(m.registry)
  for (const name of ['sluice_canary_status', 'sluice_canary_phase', 'sluice_canary_weight', 'sluice_canary_progress_deadline_timestamp_seconds']) {
    t.same(pick(again, name), pick(first, name), `${name}: the same`)
  }
  m.observePhase('podinfo', 'test', 'Progressing', 1_700_000_010_000)
  t.equal(pick(await scrape(m.registry), 'sluice_canary_progress_deadline_timestamp_seconds')[0]?.value, 1_700_000_010, 'a new deadline is set')
  m.observeWeights('test', 'podinfo-primary', 'podinfo', 60, 40)
  t.same(pick(await scrape(m.registry), 'sluice_canary_weight', { workload: 'podinfo' }).map(s => s.value), [40], 'a new weight is set')
  m.forget('podinfo', 'test')
  m.observePhase('podinfo', 'test', 'Progressing', 1_700_000_010_000)
  m.observeWeights('test', 'podinfo-primary', 'podinfo', 60, 40)
  const back = await scrape(m.registry)
  t.same(pick(back, 'sluice_canary_phase', { name: 'podinfo', phase: 'Progressing' }).map(s => s.value), [1], 'the phase is back after forget')
  t.same(pick(back, 'sluice_canary_weight', { workload: 'podinfo' }).map(s => s.value), [40], 'and the weight')
})
