// The HTTP API through app.inject(): Flagger's answers for tasks and gates, the refusals, a run's end, and
// the metrics. Gates are kept in memory here; test/integration/loadtester has them in the ConfigMap.
import t from 'tap'
import { pino } from 'pino'
import { memoryGateStore, type GateStore } from '../../../src/loadtester/gates.ts'
import { buildLoadTesterServer } from '../../../src/loadtester/server.ts'
import { jobs as newJobs, POLICY, sample } from './fakes.ts'

function server(o: { store?: GateStore; maxJobs?: number } = {}) {
  const { jobs, spawned, metrics } = newJobs(o.maxJobs === undefined ? {} : { maxJobs: o.maxJobs })
  const store = o.store ?? memoryGateStore()
  const app = buildLoadTesterServer({ logger: pino({ level: 'silent' }), jobs, store, policy: POLICY, metrics })
  t.teardown(async () => { await jobs.stopAll(); await app.close() })
  const post = (url: string, body: unknown, contentType = 'application/json') =>
    app.inject({ method: 'POST', url, headers: { 'content-type': contentType }, payload: typeof body === 'string' ? body : JSON.stringify(body) })
  return { app, jobs, spawned, metrics, store, post }
}

const canary = { name: 'podinfo', namespace: 'test' }
const hook = (metadata: Record<string, string>, phase = 'Progressing') => ({ ...canary, phase, checksum: 'abc', metadata })

t.test('gates are closed until opened, per canary, and gate and rollback are apart', async t => {
  const { post, metrics } = server()
  const check = async (url: string, c = canary) => { const r = await post(url, c); return [r.statusCode, r.body] }
  t.same(await check('/gate/check'), [403, 'Forbidden'], 'closed by default, as Flagger')
  const opened = await post('/gate/open', canary)
  t.same([opened.statusCode, opened.body], [202, 'gate opened for test/podinfo'])
  t.same(await check('/gate/check'), [200, 'Approved'])
  t.same(await check('/gate/check', { name: 'podinfo', namespace: 'prod' }), [403, 'Forbidden'], 'another namespace: another gate')
  t.same(await check('/rollback/check'), [403, 'Forbidden'], 'the rollback gate is its own')
  t.equal((await post('/rollback/open', canary)).statusCode, 202)
  t.same(await check('/rollback/check'), [200, 'Approved'])
  t.equal((await post('/gate/close', canary)).statusCode, 202)
  t.same(await check('/gate/check'), [403, 'Forbidden'])
  t.equal((await post('/rollback/close', canary)).statusCode, 202)
  t.same(await check('/rollback/check'), [403, 'Forbidden'])
  t.equal(await sample(metrics, 'sluice_loadtester_gate_checks_total', { gate: 'gate', answer: 'closed' }), 3)
  t.equal(await sample(metrics, 'sluice_loadtester_gate_changes_total', { gate: 'rollback', action: 'open' }), 1)
})

t.test('the curl of Flagger\'s docs works: `curl -d` sends a form content type', async t => {
  const { post } = server()
  t.equal((await post('/gate/open', '{"name": "podinfo","namespace":"test"}', 'application/x-www-form-urlencoded')).statusCode, 202)
  t.equal((await post('/gate/check', JSON.stringify(canary), 'text/plain')).statusCode, 200)
})

t.test('/gate/approve always opens and /gate/halt always holds, whatever the body', async t => {
  const { app } = server()
  for (const method of ['GET', 'POST'] as const) {
    const approve = await app.inject({ method, url: '/gate/approve' })
    t.same([approve.statusCode, approve.body], [200, 'OK'])
    const halt = await app.inject({ method, url: '/gate/halt', payload: 'not json' })
    t.same([halt.statusCode, halt.body], [403, 'Forbidden'])
  }
})

t.test('gate requests without a usable canary are 400s that say what is missing', async t => {
  const { post } = server()
  for (const [body, message] of [
    ['', 'name and namespace (of the Canary) are required'], ['{oops', /not JSON/], [{ name: 'podinfo' }, /name and namespace/],
    [{ name: 'x'.repeat(250), namespace: 'test' }, 'test/' + 'x'.repeat(250) + ': the name is too long for a gate key'],
  ] as const) {
    const r = await post('/gate/open', body)
    t.equal(r.statusCode, 400)
    t.match(r.body, message)
  }
})

t.test('a gate store that fails answers 500 with its reason: the gate counts as closed', async t => {
  const broken: GateStore = { isOpen: () => Promise.reject(new Error('reading the gate ConfigMap: 403 Forbidden')), set: () => Promise.reject(new Error('boom')) }
  const { post } = server({ store: broken })
  const r = await post('/gate/check', canary)
  t.same([r.statusCode, r.body], [500, 'gate store: reading the gate ConfigMap: 403 Forbidden'])
  t.equal((await post('/rollback/open', canary)).statusCode, 500)
})

t.test('POST / starts a background command once and answers 202, as Flagger', async t => {
  const { post, spawned } = server()
  const first = await post('/', hook({ cmd: 'hey -z 1m -q 10 -c 2 http://podinfo-canary.test:9898/' }))
  t.same([first.statusCode, first.body], [202, 'hey started (job 1, pid 1000)'])
  const again = await post('/', hook({ type: 'cmd', cmd: 'hey -z 1m -q 10 -c 2 http://podinfo-canary.test:9898/' }))
  t.same([again.statusCode, again.body], [202, 'hey already running, not started again (job 1, pid 1000)'])
  t.equal(spawned.length, 1)
  t.same(spawned[0]?.argv, ['hey', '-z', '1m', '-q', '10', '-c', '2', 'http://podinfo-canary.test:9898/'])
})

t.test('a blocking command answers 200 when it succeeds (its output with returnCmdOutput), 500 with the output when not', async t => {
  const { post, spawned } = server()
  const quiet = post('/', hook({ cmd: 'check smoke', blocking: 'true' }))
  await until(() => spawned.length === 1)
  spawned[0]?.exit(0, 'ok: 12 tests\n')
  t.same([(await quiet).statusCode, (await quiet).body], [200, ''], 'no output unless asked, as Flagger')
  const loud = post('/', hook({ cmd: 'check smoke', blocking: 'true', returnCmdOutput: 'true' }))
  await until(() => spawned.length === 2)
  spawned[1]?.exit(0, 'ok: 12 tests\n')
  t.same([(await loud).statusCode, (await loud).body], [200, 'ok: 12 tests\n'])
  const failing = post('/', hook({ cmd: 'check smoke', blocking: 'true' }))
  await until(() => spawned.length === 3)
  spawned[2]?.exit(1, 'not ok 3 - /healthz answered 503\n')
  t.same([(await failing).statusCode, (await failing).body], [500, 'command check exited with code 1:\nnot ok 3 - /healthz answered 503\n'])
})

t.test('refused commands are 400s with the reason, counted by reason, and nothing runs', async t => {
  const { post, spawned, metrics } = server()
  const cases: [Record<string, string>, RegExp, string][] = [
    [{ cmd: 'hey http://x/ | tee /tmp/x' }, /refused "\|" at character 15: in a shell it is a pipe/, 'shell-syntax'],
    [{ cmd: 'curl http://x/' }, /program "curl" is not on the allowlist/, 'not-allowed'],
    [{ type: 'bash', cmd: 'hey http://x/' }, /type bash is disabled/, 'type-disabled'],
    [{ type: 'concord', cmd: 'x' }, /type concord is not supported/, 'type-unknown'],
    [{}, /metadata not found in payload/, 'no-metadata'],
  ]
  for (const [metadata, message, reason] of cases) {
    const r = await post('/', hook(metadata))
    t.equal(r.statusCode, 400, JSON.stringify(metadata))
    t.match(r.body, message)
    t.equal(await sample(metrics, 'sluice_loadtester_requests_refused_total', { reason }), 1, `counted as ${reason}`)
  }
  t.equal(spawned.length, 0)
})

t.test('beyond --max-jobs the answer is 429, which the hook retries', async t => {
  const { post } = server({ maxJobs: 1 })
  t.equal((await post('/', hook({ cmd: 'hey http://1/' }))).statusCode, 202)
  const busy = await post('/', hook({ cmd: 'hey http://2/' }))
  t.same([busy.statusCode, busy.body], [429, '1 commands are running, the most --max-jobs allows; try again later'])
})

t.test('any request for a canary whose run is over stops its background commands first', async t => {
  const { post, spawned, jobs } = server()
  await post('/', hook({ cmd: 'hey -z 1h http://podinfo-canary/' }))
  await post('/', { ...hook({ cmd: 'hey -z 1h http://other-canary/' }), name: 'other' })
  // e.g. a confirm-promotion gate asked while Progressing: nothing stops.
  await post('/gate/check', { ...canary, phase: 'Progressing' })
  t.same(spawned.map(p => p.stops), [[], []])
  // A post-rollout hook, or any hook or gate called with the final phase.
  await post('/gate/approve', { ...canary, phase: 'Succeeded' })
  t.same(spawned.map(p => p.stops), [[], []], '/gate/approve reads no body, as Flagger')
  await post('/rollback/check', { ...canary, phase: 'Failed' })
  t.same(spawned.map(p => p.stops), [['run-ended'], []], 'only that canary\'s')
  t.same(jobs.list().map(j => j.canary), ['test/other'])
})

t.test('/healthz and /metrics', async t => {
  const { app, post } = server()
  await post('/', hook({ cmd: 'hey http://1/' }))
  const health = await app.inject({ method: 'GET', url: '/healthz' })
  t.same([health.statusCode, health.body], [200, 'OK'])
  const metrics = await app.inject({ method: 'GET', url: '/metrics' })
  t.equal(metrics.statusCode, 200)
  t.match(metrics.body, /sluice_loadtester_jobs_started_total\{mode="background",program="hey"\} 1/)
  t.match(metrics.body, /sluice_loadtester_jobs_running\{mode="background"\} 1/)
})

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 1000 && !check(); i++) await new Promise(res => setImmediate(res))
  if (!check()) throw new Error('condition never held')
}
