// Real commands through the load tester: hey (Debian's package) sending load to a local HTTP server that
// counts what it receives; a background load test de-duplicated and stopped by the end-of-run rule and by
// the idle rule; a command killed by its PID at the maximum duration; the output cap; and proof that
// nothing went through a shell. Gates are in memory here (gates.test.ts has the ConfigMap).
import t from 'tap'
import { pino } from 'pino'
import { memoryGateStore } from '../../../src/loadtester/gates.ts'
import { startLoadTester, type LoadTesterOptions, type RunningLoadTester } from '../../../src/loadtester/run.ts'
import { httpsGet } from '../../cluster/process.ts'
import { startHttpServer, type TestHttpServer } from '../../helpers/http-server.ts'
import type { TestLike } from '../../helpers/kube.ts'
import { until } from '../../helpers/wait.ts'
import { alive } from '../../helpers/tethered.ts'

const target: TestHttpServer = await startHttpServer(t, {}, res => { res.writeHead(200, { 'Content-Type': 'text/plain' }).end('ok') })
const hits = (path: string): number => target.seen.filter(s => s.path === path).length

async function tester(t: TestLike, o: Partial<LoadTesterOptions> = {}): Promise<RunningLoadTester> {
  const lt = await startLoadTester({ store: memoryGateStore(), namespace: 'unused', host: '127.0.0.1', port: 0, logger: pino({ level: 'silent' }), ...o })
  t.teardown(() => lt.stop())
  return lt
}

async function post(lt: RunningLoadTester, path: string, body: unknown): Promise<{ status: number; body: string }> {
  return httpsGet(`${lt.url}${path}`, undefined, 60_000, { method: 'POST', body: JSON.stringify(body) })
}

const hook = (metadata: Record<string, string>, phase = 'Progressing') => ({ name: 'podinfo', namespace: 'shop', phase, checksum: 'c1', metadata })

async function metric(lt: RunningLoadTester, line: RegExp): Promise<boolean> {
  return line.test((await httpsGet(`${lt.url}/metrics`, undefined, 5000)).body)
}

t.test('a blocking hey sends the requests it is told to, and its summary comes back', async t => {
  const lt = await tester(t)
  const r = await post(lt, '/', hook({ cmd: `hey -n 20 -c 2 ${target.base}/blocking`, blocking: 'true', returnCmdOutput: 'true' }))
  t.equal(r.status, 200)
  t.match(r.body, /Status code distribution:\s+\[200\]\s+20 responses/)
  t.equal(hits('/blocking'), 20, 'the target received exactly 20')
})

t.test('a background load test runs once however often the hook fires, and stops when the run ends', async t => {
  const lt = await tester(t)
  const load = hook({ cmd: `hey -z 1m -q 5 -c 1 ${target.base}/background` })
  const first = await post(lt, '/', load)
  t.equal(first.status, 202)
  t.match(first.body, /^hey started \(job 1, pid \d+\)$/)
  await until(async () => hits('/background'), n => n >= 3, 'hey sending load')
  for (let i = 0; i < 3; i++) {
    const again = await post(lt, '/', load)
    t.same([again.status, again.body.replace(/pid \d+/, 'pid N')], [202, 'hey already running, not started again (job 1, pid N)'])
  }
  const [job] = lt.jobs()
  t.equal(lt.jobs().length, 1, 'one hey')
  t.ok(alive(job?.pid))
  // The post-rollout hook (or any call with the final phase) ends it, without waiting for its minute.
  t.equal((await post(lt, '/gate/approve', { name: 'podinfo', namespace: 'shop', phase: 'Succeeded' })).status, 200)
  t.equal(lt.jobs().length, 1, '/gate/approve reads no payload, as in Flagger')
  t.equal((await post(lt, '/', hook({ type: 'cmd', cmd: `hey -n 1 -c 1 ${target.base}/post-rollout`, blocking: 'true' }, 'Succeeded'))).status, 200)
  await until(async () => lt.jobs(), jobs => jobs.length === 0, 'the load test to stop')
  t.notOk(alive(job?.pid), 'the hey process is gone: it sends nothing more')
  t.ok(await metric(lt, /sluice_loadtester_jobs_finished_total\{mode="background",result="run-ended"\} 1/), 'counted as stopped by the run\'s end')
})

t.test('a background load test nobody asks for any more stops after the idle timeout', async t => {
  const lt = await tester(t, { idleTimeoutMs: 1500 })
  t.equal((await post(lt, '/', hook({ cmd: `hey -z 1h -q 2 -c 1 ${target.base}/idle` }))).status, 202)
  const [job] = lt.jobs()
  await until(async () => lt.jobs(), jobs => jobs.length === 0, 'the idle load test to stop', 30_000)
  t.notOk(alive(job?.pid))
  t.ok(hits('/idle') > 0, 'it did send load meanwhile')
  t.ok(await metric(lt, /sluice_loadtester_jobs_finished_total\{mode="background",result="idle"\} 1/))
})

t.test('a command still running at --max-duration is killed by its PID, and the hook is told', async t => {
  const lt = await tester(t, { maxDurationMs: 1000, graceMs: 1000 })
  const answer = post(lt, '/', hook({ cmd: `hey -z 1h -q 1 -c 1 ${target.base}/forever`, blocking: 'true' }))
  const [job] = await until(async () => lt.jobs(), jobs => jobs.length === 1, 'hey to start')
  t.ok(alive(job?.pid))
  const r = await answer
  t.equal(r.status, 500)
  t.match(r.body, /^command hey stopped after the maximum duration \(1s, --max-duration\)/)
  t.notOk(alive(job?.pid), 'the process is gone')
  t.same(lt.jobs(), [])
  t.ok(await metric(lt, /sluice_loadtester_jobs_finished_total\{mode="blocking",result="max-duration"\} 1/))
})

t.test('a blocking command whose caller hangs up (the hook\'s timeout) is stopped', async t => {
  const lt = await tester(t)
  const gaveUp = t.rejects(httpsGet(`${lt.url}/`, undefined, 1000, { method: 'POST', body: JSON.stringify(hook({ cmd: `hey -z 1h -q 1 -c 1 ${target.base}/abandoned`, blocking: 'true' })) }),
    /timeout after 1000ms/)
  const [job] = await until(async () => lt.jobs(), jobs => jobs.length === 1, 'hey to start')
  await gaveUp
  await until(async () => lt.jobs(), jobs => jobs.length === 0, 'the abandoned command to stop')
  t.notOk(alive(job?.pid))
  t.ok(await metric(lt, /sluice_loadtester_jobs_finished_total\{mode="blocking",result="client-gone"\} 1/))
})

t.test('the output is capped to its end, which says how much was dropped', async t => {
  const lt = await tester(t, { maxOutputBytes: 200 })
  const r = await post(lt, '/', hook({ cmd: `hey -n 5 -c 1 ${target.base}/capped`, blocking: 'true', returnCmdOutput: 'true' }))
  t.equal(r.status, 200)
  const [head = '', ...rest] = r.body.split('\n')
  t.match(head, /^\[… \d+ bytes of output dropped …\]$/)
  t.equal(Buffer.byteLength(rest.join('\n')), 200, 'the last 200 bytes')
})

t.test('no shell ever runs: shell syntax in quotes reaches the program as text', async t => {
  const lt = await tester(t)
  const r = await post(lt, '/', hook({ cmd: `hey -n 1 -c 1 '${target.base}/$(id);x&&y'`, blocking: 'true' }))
  t.equal(r.status, 200)
  t.same(target.seen.filter(s => s.path.startsWith('/$') || s.path.startsWith('/%24')).map(s => decodeURIComponent(s.path)), ['/$(id);x&&y'])
  const refused = await post(lt, '/', hook({ cmd: `hey -n 1 -c 1 ${target.base}/x; touch /tmp/sluice-pwned`, blocking: 'true' }))
  t.equal(refused.status, 400)
  t.match(refused.body, /refused ";" at character \d+: in a shell it is a command separator/)
})

t.test('a program that is allowed but missing fails the hook with what to do', async t => {
  const lt = await tester(t, { allow: ['sluice-no-such-program'] })
  const r = await post(lt, '/', hook({ cmd: 'sluice-no-such-program --flag', blocking: 'true' }))
  t.same([r.status, r.body], [500, 'command sluice-no-such-program could not start: sluice-no-such-program not found (is it installed and on the load tester\'s PATH?)'])
})
