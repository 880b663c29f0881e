// From a hook's payload to the task that runs, or the refusal: types, blocking, the allowlist, and the
// de-duplication key.
import t from 'tap'
import { decodePayload, type Payload } from '../../../src/loadtester/payload.ts'
import { flag, notAllowed, planTask, type Planned, type TaskPolicy } from '../../../src/loadtester/task.ts'

const policy: TaskPolicy = { allow: new Set(['hey']), enableBash: false, enableHelm: false, enableKubectl: false }

function payload(metadata: Record<string, string>, name = 'podinfo', namespace = 'test'): Payload {
  return { name, namespace, phase: 'Progressing', metadata }
}

function ok(p: Planned): Extract<Planned, { ok: true }>['task'] {
  if (!p.ok) throw new Error(`refused: ${p.message}`)
  return p.task
}

function refusedWith(p: Planned): { reason: string; message: string } {
  if (p.ok) throw new Error(`planned ${JSON.stringify(p.task)}, expected a refusal`)
  return { reason: p.reason, message: p.message }
}

t.test('type cmd is the default and runs in the background, as Flagger\'s; blocking: "true" waits for it', async t => {
  const task = ok(planTask(payload({ cmd: 'hey -z 1m -q 10 -c 2 http://podinfo-canary.test:9898/' }), policy))
  t.same(task.argv, ['hey', '-z', '1m', '-q', '10', '-c', '2', 'http://podinfo-canary.test:9898/'])
  t.same([task.type, task.blocking, task.logOutput, task.returnOutput, task.canary], ['cmd', false, false, false, 'test/podinfo'])
  const blocking = ok(planTask(payload({ type: 'cmd', cmd: 'hey -n 1 http://x/', blocking: 'true', logCmdOutput: 'True', returnCmdOutput: '1' }), policy))
  t.same([blocking.blocking, blocking.logOutput, blocking.returnOutput], [true, true, true])
})

t.test('booleans are read as Go\'s strconv.ParseBool, as Flagger reads them', async t => {
  for (const v of ['1', 't', 'T', 'true', 'TRUE', 'True']) t.ok(flag(v), v)
  for (const v of [undefined, '', '0', 'false', 'yes', 'on', ' true']) t.notOk(flag(v), String(v))
})

t.test('the de-duplication key is the canary and the argv: same command, other spacing, same job', async t => {
  const a = ok(planTask(payload({ cmd: 'hey -n 1 http://x/' }), policy))
  const b = ok(planTask(payload({ cmd: "hey  -n '1'   http://x/" }), policy))
  const other = ok(planTask(payload({ cmd: 'hey -n 1 http://x/' }, 'podinfo', 'prod'), policy))
  const otherCmd = ok(planTask(payload({ cmd: 'hey -n 2 http://x/' }), policy))
  t.equal(a.key, b.key)
  t.not(a.key, other.key, 'another canary: another job')
  t.not(a.key, otherCmd.key, 'another command: another job')
})

t.test('the program must be on the allowlist: hey by default, more with --allow, paths exactly', async t => {
  const curl = refusedWith(planTask(payload({ cmd: 'curl -sf http://x/' }), policy))
  t.equal(curl.reason, 'not-allowed')
  t.equal(curl.message, 'program "curl" is not on the allowlist: allowed are hey; the operator adds programs with --allow')
  const allowed = { ...policy, allow: new Set(['hey', 'curl', '/tests/run.sh']) }
  t.same(ok(planTask(payload({ cmd: 'curl -sf http://x/' }), allowed)).argv, ['curl', '-sf', 'http://x/'])
  t.same(ok(planTask(payload({ cmd: '/tests/run.sh smoke' }), allowed)).argv, ['/tests/run.sh', 'smoke'])
  t.match(notAllowed('/usr/bin/hey', allowed.allow), /"\/usr\/bin\/hey" is not on the allowlist \(a path must be listed exactly as written\)/, 'a path to an allowed name is not that name')
  t.match(notAllowed('./hey', allowed.allow), /not on the allowlist/)
  t.equal(notAllowed('hey', allowed.allow), undefined)
})

t.test('a shell operator in cmd is refused with the splitter\'s message, before the allowlist is asked', async t => {
  const r = refusedWith(planTask(payload({ cmd: 'hey http://x/ && curl http://evil/' }), policy))
  t.equal(r.reason, 'shell-syntax')
  t.match(r.message, /^metadata\.cmd: refused "&&" at character 15: in a shell it is a command separator/)
  t.equal(refusedWith(planTask(payload({ cmd: "hey 'x" }), policy)).reason, 'syntax')
})

t.test('bash is refused unless enabled, and then runs the command line as a plain program, blocking', async t => {
  const bats = payload({ type: 'bash', cmd: 'bats /tests/acceptance.bats' })
  const off = refusedWith(planTask(bats, policy))
  t.equal(off.reason, 'type-disabled')
  t.match(off.message, /type bash is disabled: sluice loadtester runs no shell; use type cmd \(with blocking: "true" to wait for it\), or start it with --enable-bash/)
  const on = { ...policy, enableBash: true, allow: new Set(['hey', 'bats']) }
  const task = ok(planTask(bats, on))
  t.same([task.argv, task.blocking, task.logOutput], [['bats', '/tests/acceptance.bats'], true, true])
  // Flagger's own bash example pipes into grep: with no shell that is refused, not run half-way.
  t.equal(refusedWith(planTask(payload({ type: 'bash', cmd: "curl -sd 'test' http://podinfo-canary/token | grep token" }), on)).reason, 'shell-syntax')
  t.equal(refusedWith(planTask(payload({ type: 'bash', cmd: 'curl http://x/' }), on)).reason, 'not-allowed', 'still the allowlist')
})

t.test('helm, helmv3 and kubectl run those programs with cmd as arguments, each only when enabled', async t => {
  const helm = payload({ type: 'helmv3', cmd: 'test podinfo -n test --timeout 3m' })
  t.match(refusedWith(planTask(helm, policy)), { reason: 'type-disabled', message: /--enable-helm/ })
  const enabled = { ...policy, enableHelm: true, enableKubectl: true }
  t.same(ok(planTask(helm, enabled)).argv, ['helm', 'test', 'podinfo', '-n', 'test', '--timeout', '3m'])
  t.same(ok(planTask(payload({ type: 'helm', cmd: 'test podinfo' }), enabled)).argv, ['helm', 'test', 'podinfo'])
  const kubectl = payload({ type: 'kubectl', cmd: 'rollout status deploy/podinfo -n test' })
  t.match(refusedWith(planTask(kubectl, policy)), { reason: 'type-disabled', message: /--enable-kubectl/ })
  t.match(ok(planTask(kubectl, enabled)), { argv: ['kubectl', 'rollout', 'status', 'deploy/podinfo', '-n', 'test'], blocking: true })
  t.equal(refusedWith(planTask(payload({ type: 'kubectl', cmd: 'get pods; rm -rf /' }), enabled)).reason, 'shell-syntax')
})

t.test('other types, and payloads without metadata or cmd, are refused', async t => {
  t.match(refusedWith(planTask(payload({ type: 'ngrinder', server: 'http://x' }), policy)), { reason: 'type-unknown', message: 'type ngrinder is not supported by sluice loadtester: use cmd' })
  t.match(refusedWith(planTask(payload({}), policy)), { reason: 'no-metadata', message: /metadata not found in payload/ })
  t.match(refusedWith(planTask(payload({ type: 'cmd' }), policy)), { reason: 'no-cmd', message: 'cmd not found in metadata' })
  t.match(refusedWith(planTask(payload({ cmd: '   ' }), policy)), { reason: 'no-cmd' })
})

t.test('payloads: JSON of any content type, name and namespace required and checked, metadata strings only', async t => {
  t.same(decodePayload('{"name":"podinfo","namespace":"test","phase":"Progressing","checksum":"abc","metadata":{"cmd":"hey"}}'),
    { ok: true, payload: { name: 'podinfo', namespace: 'test', phase: 'Progressing', metadata: { cmd: 'hey' } } })
  t.same(decodePayload('{"name":"podinfo","namespace":"test"}'), { ok: true, payload: { name: 'podinfo', namespace: 'test', phase: '', metadata: {} } })
  for (const [body, message] of [
    ['{not json', /not JSON/], ['[1]', /JSON object/], ['', /name and namespace/], ['{"name":"podinfo"}', /name and namespace/],
    ['{"name":"Pod_Info","namespace":"test"}', /name "Pod_Info" is not a Kubernetes object name/],
    ['{"name":"podinfo","namespace":"a.b"}', /namespace "a.b" is not a Kubernetes namespace name/],
    ['{"name":"podinfo","namespace":"test","metadata":{"blocking":true}}', /metadata\.blocking must be a string/],
    ['{"name":"podinfo","namespace":"test","metadata":"cmd"}', /metadata must be an object/],
  ] as const) {
    const d = decodePayload(body)
    t.match(d, { ok: false, message }, body)
  }
})
