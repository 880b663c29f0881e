// The decisions of the operator commands that need no cluster: what a request writes and when it counts as
// acted on, when promote needs --full, how pause edits the Deployment's annotation, when status ends, the
// exit codes of failures, and the completion scripts.
import t from 'tap'
import { execFileSync } from 'node:child_process'
import { Writable } from 'node:stream'
import { ABORT } from '../../../src/cli/abort.ts'
import { bashScript, fishScript, zshScript } from '../../../src/cli/completion.ts'
import { apiFailure, CliError, EXIT } from '../../../src/cli/exit.ts'
import { main } from '../../../src/cli/main.ts'
import { notPassing, PROMOTE } from '../../../src/cli/promote.ts'
import { outcomeOf, requestPatch, requestTime } from '../../../src/cli/request.ts'
import { RETRY } from '../../../src/cli/retry.ts'
import { verdictOf } from '../../../src/cli/status.ts'
import { deploymentPatch, specWithSuspend } from '../../../src/cli/suspend.ts'
import { requestsOf } from '../../../src/controller/observe.ts'
import { isPending } from '../../../src/controller/machine/status.ts'
import { templateRevision } from '../../../src/kube/revision.ts'
import type { Canary } from '../../../src/api/types.ts'
import { deployment } from '../../helpers/objects.ts'
import { event, NOW, release, running } from './fixtures.ts'

const at = (c: Canary, status: Canary['status']): Canary => ({ ...c, status: { ...c.status, ...status } })

t.test('a request is the annotation the controller reads, timed so that it counts against the state seen', async t => {
  const c = running()
  const time = requestTime(c, NOW)
  t.same(requestPatch('sluice.dev/abort', time), { metadata: { annotations: { 'sluice.dev/abort': '2026-06-01T12:00:00.000Z' } } })
  const written = { ...c, metadata: { ...c.metadata, annotations: { 'sluice.dev/abort': time.toISOString() } } }
  const { requests, invalid } = requestsOf(written)
  t.same(invalid, [], 'the controller reads the time')
  t.ok(isPending(requests.abort, c.status ?? {}), 'and the request is pending for it')
  const behind = requestTime(c, new Date('2026-06-01T11:59:00Z'))
  t.equal(behind.toISOString(), '2026-06-01T11:59:30.001Z', 'a local clock behind the last transition writes just after it')
  t.ok(isPending(behind, c.status ?? {}))
})

t.test('a request is acted on once the Canary moved to what it leads to after it was made', async t => {
  const made = new Date('2026-06-01T12:00:00Z')
  t.equal(outcomeOf(ABORT, running(), made), undefined, 'no transition since: still waiting')
  t.equal(outcomeOf(ABORT, at(running(), { phase: 'Failed', lastTransitionTime: '2026-06-01T12:00:01Z' }), made)?.kind, 'done')
  t.equal(outcomeOf(ABORT, at(running(), { phase: 'WaitingPromotion', lastTransitionTime: '2026-06-01T12:00:01Z' }), made)?.kind, 'moved',
    'another transition first makes the request stale')
  t.equal(outcomeOf(PROMOTE, at(running(), { phase: 'Finalising', lastTransitionTime: '2026-06-01T12:00:01Z' }), made)?.kind, 'done')
  t.equal(outcomeOf(RETRY, at(running(), { phase: 'Waiting', lastTransitionTime: '2026-06-01T12:00:01Z' }), made)?.kind, 'done')
  t.match(ABORT.notNow(at(running(), { phase: 'Succeeded' })), /is Succeeded: no release is running, nothing to abort/)
  t.match(ABORT.notNow(at(running(), { phase: 'Promoting' })), /too late to abort/)
  t.match(RETRY.notNow(running()), /only a Failed release can be retried/)
  t.match(PROMOTE.notNow(at(running(), { phase: 'Waiting' })), /confirm-rollout is closed/)
})

t.test('promote without --full only for an analysis passing so far; a closed gate does not count', async t => {
  t.equal(notPassing(running()), '1 failed check; request-success-rate 91.25% is below the minimum 99%')
  const passing = at(running(), { failedChecks: 0, checks: running().status?.checks?.slice(0, 1) })
  t.equal(notPassing(passing), undefined)
  const gate = { name: 'confirm-promotion:approve', value: null, verdict: 'fail' as const, time: '2026-06-01T11:59:55Z', message: 'closed' }
  t.equal(notPassing(at(passing, { checks: [...passing.status?.checks ?? [], gate] })), undefined)
  const old = { name: 'request-duration', value: 900, verdict: 'fail' as const, time: '2026-06-01T11:00:00Z' }
  t.equal(notPassing(at(passing, { checks: [old, ...passing.status?.checks ?? []] })), undefined, 'checks of an earlier run do not count')
  const noData = { name: 'request-duration', value: null, verdict: 'no-data' as const, time: '2026-06-01T11:59:58Z', message: 'request-duration returned no data' }
  t.equal(notPassing(at(passing, { checks: [...passing.status?.checks ?? [], noData] })), 'request-duration returned no data')
})

t.test('pause and resume edit suspend in sluice.dev/spec, the rest of the text as written', async t => {
  const spec = 'ingressRef: {apiVersion: networking.k8s.io/v1, kind: Ingress, name: podinfo}  # the user\'s Ingress\n'
  const paused = specWithSuspend(spec, true)
  t.equal(paused, `${spec}suspend: true\n`)
  t.equal(specWithSuspend(paused, false), spec)
  t.equal(specWithSuspend(undefined, true), 'suspend: true\n')
  t.equal(specWithSuspend('suspend: true\n', false), undefined, 'an annotation left empty goes')
  t.equal(specWithSuspend('{a: 1}', true), '{ a: 1, suspend: true }\n', 'a flow mapping is rewritten through the YAML document')
  t.throws(() => specWithSuspend('a: [', true), /annotation sluice\.dev\/spec is not valid YAML/)
  const d = deployment({ metadata: { resourceVersion: '42', annotations: { 'sluice.dev/strategy': 'canary', 'sluice.dev/spec': spec } } })
  t.same(deploymentPatch(d, true), [
    { op: 'replace', path: '/metadata/resourceVersion', value: '42' },
    { op: 'add', path: '/metadata/annotations/sluice.dev~1spec', value: `${spec}suspend: true\n` },
  ], 'conditional on the version read')
  const bare = deployment({ metadata: { resourceVersion: '7', annotations: { 'sluice.dev/strategy': 'canary', 'sluice.dev/spec': 'suspend: true\n' } } })
  t.same(deploymentPatch(bare, false), [
    { op: 'replace', path: '/metadata/resourceVersion', value: '7' },
    { op: 'remove', path: '/metadata/annotations/sluice.dev~1spec' },
  ])
  t.equal(deploymentPatch(bare as never, true), undefined, 'nothing to change, nothing written')
})

t.test('status ends on Succeeded, Initialized and Failed of the current template only, or an invalid spec', async t => {
  const d = deployment()
  const revision = templateRevision(d.spec.template)
  const current = (status: Canary['status']): ReturnType<typeof release> => ({ ...release(at(running(), { ...status, lastAppliedSpec: revision })), target: d })
  t.equal(verdictOf(current({ phase: 'Progressing' })), undefined)
  t.same(verdictOf(current({ phase: 'Succeeded', lastPromotedSpec: revision })), { code: EXIT.ok, line: `Succeeded: Canary shop/podinfo promoted revision ${revision}` })
  t.equal(verdictOf(current({ phase: 'Initialized' }))?.code, EXIT.ok)
  const failed = { ...current({ phase: 'Failed' }), events: [event('RolledBack', 'Canary failed! Scaling down podinfo.shop: failed checks threshold reached 2', '2026-06-01T11:59:59Z', 'Warning')] }
  t.same(verdictOf(failed), { code: EXIT.failed, line: 'Failed: Canary shop/podinfo: Canary failed! Scaling down podinfo.shop: failed checks threshold reached 2' })
  const older = { ...current({ phase: 'Succeeded' }), canary: at(running(), { phase: 'Succeeded', lastAppliedSpec: 'an-older-revision' }) }
  t.equal(verdictOf(older), undefined, 'Succeeded for an older template is the previous release: the new one has not started')
  const invalid = current({ phase: 'Initialized', conditions: [{ type: 'InvalidSpec', status: 'True', message: 'spec.provider istio is not available' }] })
  t.same(verdictOf(invalid), { code: EXIT.failed, line: 'InvalidSpec: Canary shop/podinfo is not acted on: spec.provider istio is not available' })
})

t.test('API failures become exit codes a script can tell apart, and name what was refused', async t => {
  const refusal = { code: 403, body: JSON.stringify({ kind: 'Status', reason: 'Forbidden', message: 'canaries.sluice.dev "podinfo" is forbidden: User "viewer" cannot patch resource "canaries"' }) }
  const forbidden = apiFailure(refusal, 'patch Canary shop/podinfo')
  t.equal(forbidden.code, EXIT.forbidden)
  t.match(forbidden.message, /^cannot patch Canary shop\/podinfo: forbidden by the cluster's RBAC for the user of your kubeconfig: .*User "viewer" cannot patch/)
  t.equal(apiFailure({ code: 404, body: '' }, 'get').code, EXIT.notFound)
  t.equal(apiFailure({ code: 500, body: '' }, 'get').code, EXIT.unavailable)
  const refused = Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNREFUSED', message: 'connect ECONNREFUSED 127.0.0.1:6443' } })
  const down = apiFailure(refused, 'list Canaries', 'https://127.0.0.1:6443')
  t.equal(down.code, EXIT.unavailable)
  t.match(down.message, /the API server at https:\/\/127\.0\.0\.1:6443 cannot be reached: ECONNREFUSED/)
  const own = new CliError(EXIT.notFound, 'no Canary')
  t.equal(apiFailure(own, 'x'), own)
})

function sink(): Writable & { text: string } {
  const w = new Writable({ write(chunk: Buffer, _enc, cb) { w.text += chunk.toString(); cb() } }) as Writable & { text: string }
  w.text = ''
  return w
}

// The commands write to process.stdout themselves.
async function captured(run: () => Promise<number>): Promise<{ code: number; text: string }> {
  const write = process.stdout.write.bind(process.stdout)
  let text = ''
  process.stdout.write = ((chunk: string) => { text += chunk; return true })
  try {
    return { code: await run(), text }
  } finally {
    process.stdout.write = write
  }
}

t.test('usage errors exit 2 and name the command\'s help; every operator command has --help', async t => {
  for (const args of [['get', '--bogus'], ['abort'], ['promote', 'a', 'b'], ['lint'], ['status', 'x', '--timeout', 'soon'], ['completion', 'tcsh'], ['get', '-o', 'wide'], ['uninstall', 'now'], ['uninstall', '--timeout', 'soon'], ['uninstall', '--crds', '--keep-install'], ['uninstall', '--controller-lease', 'lease']]) {
    const err = sink()
    t.equal(await main(args, sink(), err), EXIT.usage, args.join(' '))
    t.match(err.text, new RegExp(`^sluice ${args[0]}: `))
  }
  for (const command of ['get', 'status', 'promote', 'abort', 'retry', 'pause', 'resume', 'plan', 'lint', 'version', 'completion', 'uninstall']) {
    const help = await captured(() => main([command, '--help']))
    t.equal(help.code, EXIT.ok)
    t.match(help.text, new RegExp(`^Usage: sluice ${command}`), `${command} --help`)
    t.match(help.text, /Exit codes: 0/, `${command} --help lists its exit codes`)
  }
})

t.test('completion scripts: commands, flags and Canary names for bash, zsh and fish', async t => {
  const commands = [{ name: 'get', summary: 'show releases', options: { watch: { type: 'boolean' as const, short: 'w' } } }, { name: 'abort', summary: 'roll back' }]
  const bash = bashScript(commands)
  t.match(bash, /compgen -W "get abort"/)
  t.match(bash, /get\) flags="--help --watch -w" ;;/)
  t.match(bash, /sluice get -o name/)
  t.match(bash, /complete -o default -F _sluice sluice/)
  t.doesNotThrow(() => execFileSync('bash', ['-n'], { input: bash }), 'bash parses it')
  t.match(zshScript(commands), /^#compdef sluice\n[^]*bashcompinit[^]*complete -o default -F _sluice sluice/)
  const fish = fishScript(commands)
  t.match(fish, /complete -c sluice -n __fish_use_subcommand -a get -d 'show releases'/)
  t.match(fish, /complete -c sluice -n '__fish_seen_subcommand_from get' -l watch -s w/)
})
