// The job rules with processes that run nothing: one background job per canary and command, the idle
// and run-end stops, the concurrency limit, blocking jobs and their caller going away, shutdown.
import t from 'tap'
import { setTimeout as sleep } from 'node:timers/promises'
import { failureOf, OutputTail } from '../../../src/loadtester/process.ts'
import { jobs, sample, task } from './fakes.ts'

t.test('a background command runs once per canary and command, however often the hook fires', async t => {
  const { jobs: j, spawned } = jobs()
  const first = j.background(task('hey -z 1m http://podinfo-canary/'))
  t.match(first, { kind: 'started', job: { id: 1, canary: 'test/podinfo', mode: 'background' } })
  for (let i = 0; i < 5; i++) t.match(j.background(task('hey  -z 1m  http://podinfo-canary/')), { kind: 'running', job: { id: 1 } })
  t.equal(spawned.length, 1, 'one process')
  t.match(j.background(task('hey -z 1m http://podinfo-canary/', { canary: 'prod/podinfo' })), { kind: 'started', job: { id: 2 } }, 'another canary: its own job')
  t.match(j.background(task('hey -z 2m http://podinfo-canary/')), { kind: 'started', job: { id: 3 } }, 'another command: its own job')
  t.equal(spawned.length, 3)
  // When the command ends by itself (hey -z 1m did its minute), the next hook call starts it again.
  spawned[0]?.exit(0)
  await spawned[0]?.done
  await Promise.resolve()
  t.match(j.background(task('hey -z 1m http://podinfo-canary/')), { kind: 'started', job: { id: 4 } })
  await j.stopAll()
})

t.test('a background job nobody asks for within the idle timeout is stopped; one the hook keeps asking for is not', async t => {
  const { jobs: j, spawned, metrics } = jobs({ idleTimeoutMs: 500 })
  // The idle timers do not hold the process open (a server's socket does); this test's wait must.
  const alive = setInterval(() => undefined, 1000)
  t.teardown(() => { clearInterval(alive) })
  j.background(task('hey -z 1h http://kept/'))
  j.background(task('hey -z 1h http://forgotten/'))
  const [kept, forgotten] = spawned
  // The rollout hook of the kept one fires every 50 ms, ten times faster than the idle timeout.
  const deadline = Date.now() + 1500
  while (Date.now() < deadline) {
    j.background(task('hey -z 1h http://kept/'))
    await sleep(50)
  }
  t.same(forgotten?.stops, ['idle'], 'the forgotten one was stopped for idleness')
  t.same(kept?.stops, [], 'the one still asked for runs on')
  // Then its hook stops firing (the analysis is over): it goes too.
  t.same(await kept?.done.then(r => r.stoppedFor), 'idle')
  t.equal(await sample(metrics, 'sluice_loadtester_jobs_finished_total', { mode: 'background', result: 'idle' }), 2)
  t.equal(await sample(metrics, 'sluice_loadtester_jobs_running', { mode: 'background' }), 0)
})

t.test('the end of a canary\'s run stops its background jobs at once, and only its own', async t => {
  // Stopping jobs hold their slot until their process ends: room for the new one besides them.
  const { jobs: j, spawned } = jobs({ maxJobs: 10 })
  j.background(task('hey -z 1h http://a/'))
  j.background(task('hey -z 1h http://b/'))
  j.background(task('hey -z 1h http://a/', { canary: 'prod/podinfo' }))
  const blocking = j.blocking(task('check smoke', { blocking: true }))
  t.equal(j.stopCanary('test/podinfo', 'run-ended'), 2)
  t.same(spawned.map(p => p.stops), [['run-ended'], ['run-ended'], [], []], 'the other canary and the blocking check run on')
  // A new run of the same canary starts the command again, even while the old process is still stopping.
  t.match(j.background(task('hey -z 1h http://a/')), { kind: 'started' })
  spawned[3]?.exit(0)
  t.match(await blocking, { kind: 'done' })
  await j.stopAll()
})

t.test('at most maxJobs commands run at once, background and blocking together', async t => {
  const { jobs: j, spawned, metrics } = jobs({ maxJobs: 2 })
  j.background(task('hey http://1/'))
  const b = j.blocking(task('check one', { blocking: true }))
  t.match(j.background(task('hey http://3/')), { kind: 'busy', message: '2 commands are running, the most --max-jobs allows; try again later' })
  t.match(await j.blocking(task('check two', { blocking: true })), { kind: 'busy' })
  t.match(j.background(task('hey http://1/')), { kind: 'running' }, 'asking for a running job is not a new one')
  t.equal(spawned.length, 2)
  spawned[1]?.exit(0)
  await b
  t.match(j.background(task('hey http://3/')), { kind: 'started' }, 'a slot freed, a job starts')
  t.equal(await sample(metrics, 'sluice_loadtester_jobs_started_total', { mode: 'background', program: 'hey' }), 2)
  t.equal(await sample(metrics, 'sluice_loadtester_jobs_started_total', { mode: 'blocking', program: 'check' }), 1)
  await j.stopAll()
})

t.test('a blocking job answers with its result; a failure says how it ended', async t => {
  const { jobs: j, spawned, metrics } = jobs()
  const ok = j.blocking(task('check ok', { blocking: true }))
  spawned[0]?.exit(0, 'all good\n')
  t.match(await ok, { kind: 'done', result: { exitCode: 0, output: 'all good\n' } })
  t.notOk('failure' in (await ok), 'no failure')
  const bad = j.blocking(task('check bad', { blocking: true }))
  spawned[1]?.exit(3, 'assertion failed\n')
  t.match(await bad, { kind: 'done', failure: 'exited with code 3', result: { output: 'assertion failed\n' } })
  t.equal(await sample(metrics, 'sluice_loadtester_jobs_finished_total', { mode: 'blocking', result: 'failed' }), 1)
  t.equal(await sample(metrics, 'sluice_loadtester_jobs_finished_total', { mode: 'blocking', result: 'succeeded' }), 1)
})

t.test('a blocking job whose caller gave up is stopped', async t => {
  const { jobs: j, spawned } = jobs()
  const gone = new AbortController()
  const answer = j.blocking(task('check slow', { blocking: true }), gone.signal)
  t.same(spawned[0]?.stops, [])
  gone.abort()
  t.match(await answer, { kind: 'done', failure: 'stopped (client-gone)' })
  t.same(spawned[0]?.stops, ['client-gone'])
})

t.test('stopAll stops everything and refuses new jobs', async t => {
  const { jobs: j, spawned } = jobs()
  j.background(task('hey http://1/'))
  const b = j.blocking(task('check x', { blocking: true }))
  await j.stopAll()
  t.same(spawned.map(p => p.stops), [['shutdown'], ['shutdown']])
  t.match(await b, { kind: 'done', failure: 'stopped (shutdown)' })
  t.match(j.background(task('hey http://2/')), { kind: 'busy', message: 'the load tester is stopping' })
  t.same(j.list(), [])
})

t.test('the output kept is the last maxOutputBytes, and says how much was dropped', async t => {
  const tail = new OutputTail(10)
  tail.push(Buffer.from('0123456'))
  tail.push(Buffer.from('789abc'))
  t.equal(tail.text(), '3456789abc')
  t.equal(tail.dropped, 3)
  tail.push(Buffer.from('0123456789ABCDEF'))
  t.equal(tail.text(), '6789ABCDEF')
  t.equal(tail.dropped, 19)
  const none = new OutputTail(0)
  none.push(Buffer.from('x'))
  t.same([none.text(), none.dropped], ['', 1])
})

t.test('failures read as one line', async t => {
  const base = { output: '', droppedBytes: 0, signal: null }
  t.equal(failureOf({ ...base, exitCode: 0 }, 1000), undefined)
  t.equal(failureOf({ ...base, exitCode: 2 }, 1000), 'exited with code 2')
  t.equal(failureOf({ ...base, exitCode: null, signal: 'SIGSEGV' }, 1000), 'was killed by SIGSEGV')
  t.equal(failureOf({ ...base, exitCode: null, stoppedFor: 'max-duration' }, 90_000), 'stopped after the maximum duration (1m30s, --max-duration)')
  t.equal(failureOf({ ...base, exitCode: null, spawnError: 'hey not found' }, 1000), 'could not start: hey not found')
})
