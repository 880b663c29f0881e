// The renderers of the operator commands, as pure functions of a release and a clock: the table, the detail
// view, what comes next, the -w output on and off a terminal.
import t from 'tap'
import { renderDetail } from '../../../src/cli/render/detail.ts'
import { whatNext } from '../../../src/cli/render/next.ts'
import { markedRows, planRows, stepText } from '../../../src/cli/render/steps.ts'
import { renderTable } from '../../../src/cli/render/table.ts'
import { age, columns } from '../../../src/cli/render/text.ts'
import { CLEAR, redraw, releaseLines, summaryLine, tableLines } from '../../../src/cli/render/watch.ts'
import type { Canary } from '../../../src/api/types.ts'
import { canary } from '../../helpers/objects.ts'
import { event, NOW, release, running } from './fixtures.ts'

const at = (c: Canary, status: Canary['status']): Canary => ({ ...c, status: { ...c.status, ...status } })

t.test('the table: one row per release, kubectl-aligned, with a NAMESPACE column under -A', async t => {
  const idle = canary({ metadata: { name: 'cart', creationTimestamp: '2026-05-30T12:00:00Z' }, status: { phase: 'Succeeded', canaryWeight: 0 } })
  t.equal(renderTable([running(), idle], NOW), [
    'NAME     PHASE        WEIGHT  STEP  FAILED  LAST CHECK                               AGE',
    'podinfo  Progressing  40%     2/3   1/2     request-success-rate 91.25% fail 7s ago  60m',
    'cart     Succeeded    0%      -     0/1     -                                        2d',
    '',
  ].join('\n'))
  t.match(renderTable([running()], NOW, true), /^NAMESPACE {2}NAME {5}PHASE/)
  t.match(renderTable([running({ spec: { suspend: true } })], NOW), /Progressing \(suspended\)/)
  const invalid = at(running(), { conditions: [{ type: 'InvalidSpec', status: 'True', message: 'spec.provider istio …' }] })
  t.match(renderTable([invalid], NOW), /Progressing \(InvalidSpec\)/)
})

t.test('the detail view: the plan with the current step, next, replicas, checks, hooks, Events', async t => {
  const view = renderDetail(release(running(), [
    event('Advanced', 'Advance podinfo.shop canary weight 40', '2026-06-01T11:59:43Z'),
    event('Halted', 'halted at weight 40: request-success-rate 91.25% is below the minimum 99%', '2026-06-01T11:59:53Z', 'Warning', 3),
  ]), NOW)
  t.equal(view, `Canary      shop/podinfo (written by hand, target Deployment podinfo)
Phase       Progressing, since 30s; weight 40%; failed checks 1 of 2
Router      nginx, Service podinfo
Plan        canary shop/podinfo: 3 steps of 20% every 10s (20, 40, 60), promotion in about 40s, done in about 50s; rollback after 2 failed checks, about 30s
Steps
            [x]  start    +0s   0%, the canary scaled up
            [x]  step 1   +10s  20%
            [>]  step 2   +20s  40%
            [ ]  step 3   +30s  60%
            [ ]  promote  +40s  once the checks at the last step pass; done at +50s
Next        next checks in 3s, then 60% if they pass; 1 more failed check rolls it back
Replicas    primary podinfo-primary 1/2 ready; canary podinfo 2/2 ready

Checks (last 2 of 2)
  AGE      NAME                  VALUE   RANGE    WINDOW  VERDICT  MESSAGE
  17s ago  request-success-rate  99.5%   min 99%  30s     pass
  7s ago   request-success-rate  91.25%  min 99%  30s     fail     request-success-rate 91.25% is below the minimum 99%

Hooks and gates
  TYPE               NAME     URL                            LAST
  confirm-promotion  approve  http://tester.test/gate/check  -

Events (last 2)
  AGE      TYPE     REASON    MESSAGE
  17s ago  Normal   Advanced  Advance podinfo.shop canary weight 40
  7s ago   Warning  Halted    halted at weight 40: request-success-rate 91.25% is below the minimum 99% (x3)
`)
  t.notMatch(view, /secret|token=x/, 'a hook URL is shown without its credentials and query string')
})

t.test('a generated Canary says so; the latest of many checks and Events are shown', async t => {
  const generated = running({ metadata: { labels: { 'app.kubernetes.io/managed-by': 'sluice' }, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'podinfo', uid: 'u' }] } })
  const many = Array.from({ length: 15 }, (_, i) => ({ name: 'request-duration', value: i, verdict: 'pass' as const, time: `2026-06-01T11:5${Math.floor(i / 10)}:${String(i % 10).padStart(2, '0')}Z` }))
  const events = Array.from({ length: 12 }, (_, i) => event(`R${i}`, `m${i}`, '2026-06-01T11:59:00Z'))
  const view = renderDetail(release(at(generated, { checks: many }), events), NOW)
  t.match(view, /generated from the annotations of Deployment podinfo/)
  t.match(view, /Checks \(last 8 of 15\)/)
  t.match(view, /request-duration {2}14ms/)
  t.notMatch(view, /request-duration {2}6ms/)
  t.match(view, /Events \(last 10\)[^]*R11/)
  t.notMatch(view, /R1 /)
})

t.test('the plan rows and where a release stands in them', async t => {
  const spec = running().spec
  t.same(planRows(spec, 'canary').map(r => [r.label, r.at, r.note].filter(Boolean).join(' ')), [
    'start +0s 0%, the canary scaled up', 'step 1 +10s 20%', 'step 2 +20s 40%', 'step 3 +30s 60%', 'promote +40s once the checks at the last step pass; done at +50s',
  ])
  const marks = (c: Canary): string => markedRows(c.spec, 'canary', c.status ?? {}).map(r => r.mark || '-').join(' ')
  t.equal(marks(running()), 'done done now - -')
  t.equal(marks(at(running(), { canaryWeight: 0 })), 'now - - - -', 'weight 0: at the start')
  t.equal(marks(at(running(), { phase: 'Finalising', canaryWeight: 0 })), 'done done done done now')
  t.equal(marks(at(running(), { phase: 'Succeeded', canaryWeight: 0 })), 'done done done done done')
  t.equal(marks(at(running(), { phase: 'Failed', canaryWeight: 0 })), '- - - - -', 'a rolled back run marks nothing')
  const blueGreen = { ...spec, analysis: { interval: '1m', iterations: 2 } }
  t.same(planRows(blueGreen, 'blue-green').map(r => r.label), ['start', 'iteration 1', 'iteration 2', 'switch', 'promote'])
  t.equal(markedRows(blueGreen, 'blue-green', { phase: 'Progressing', iterations: 1 }).map(r => r.mark || '-').join(' '), 'done now - - -')
  t.equal(stepText(blueGreen, 'blue-green', { phase: 'Progressing', iterations: 1 }), '1/2')
  t.same(planRows({ ...spec, skipAnalysis: true }, 'canary').map(r => r.label), ['promote'])
  t.equal(stepText(spec, 'canary', { phase: 'Initialized' }), '-')
  const mirrored: Canary['spec'] = { ...spec, provider: 'gatewayapi', analysis: { ...spec.analysis, mirror: true } }
  t.same(planRows(mirrored, 'canary').map(r => `${r.label} ${r.at}`), ['start +0s', 'mirror +10s', 'step 1 +20s', 'step 2 +30s', 'step 3 +40s', 'promote +50s'],
    'mirroring first takes an interval before the first step')
  t.equal(markedRows(mirrored, 'canary', { phase: 'Progressing', canaryWeight: 0, iterations: 1 }).map(r => r.mark || '-').join(' '), 'done now - - - -')
  t.equal(markedRows(mirrored, 'canary', { phase: 'Progressing', canaryWeight: 20, iterations: 1 }).map(r => r.mark || '-').join(' '), 'done done now - - -')
})

t.test('what happens next, and when, in every phase', async t => {
  const c = running()
  t.equal(whatNext(c, NOW), 'next checks in 3s, then 60% if they pass; 1 more failed check rolls it back')
  t.equal(whatNext(c, new Date('2026-06-01T12:00:09Z')), 'next checks now, then 60% if they pass; 1 more failed check rolls it back', 'a tick overdue is now')
  t.equal(whatNext(at(c, { canaryWeight: 0, failedChecks: 0 }), NOW), 'first checks (pre-rollout) in 3s, then 20% of the traffic to the canary')
  t.equal(whatNext(at(c, { canaryWeight: 60, failedChecks: 0 }), NOW), 'last checks at 60% in 3s, then promotion if they pass')
  t.equal(whatNext(at(c, { phase: 'WaitingPromotion' }), NOW), 'waiting for the confirm-promotion gate approve to open; asked again in 3s, the analysis goes on meanwhile')
  t.equal(whatNext(at(c, { phase: 'Waiting' }), NOW), 'waiting for the confirm-rollout gates to open; asked again in 3s')
  t.match(whatNext(at(c, { phase: 'Failed' }), NOW), /^nothing until a new revision, or a retry of this one \(sluice retry podinfo\)/)
  t.match(whatNext(at(c, { phase: 'Succeeded' }), NOW), /^nothing until a new revision/)
  t.match(whatNext(at(c, { phase: 'Promoting' }), NOW), /podinfo-primary rolls out the new revision/)
  t.equal(whatNext({ ...c, spec: { ...c.spec, suspend: true } }, NOW), 'nothing: the Canary is suspended; sluice resume podinfo lets it go on')
  const requested = { ...c, metadata: { ...c.metadata, annotations: { 'sluice.dev/abort': '2026-06-01T11:59:59Z' } } }
  t.equal(whatNext(requested, NOW), 'abort requested at 2026-06-01T11:59:59.000Z: the controller rolls back at its next look')
  const stale = { ...c, metadata: { ...c.metadata, annotations: { 'sluice.dev/abort': '2026-06-01T11:00:00Z' } } }
  t.match(whatNext(stale, NOW), /^next checks/, 'a request older than the last transition is spent')
  const blueGreen = at({ ...c, spec: { ...c.spec, analysis: { interval: '10s', iterations: 3, threshold: 2 } } }, { iterations: 3, failedChecks: 0 })
  t.equal(whatNext(blueGreen, NOW), 'checks in 3s, then all traffic to the canary for one more interval')
})

t.test('-w on a terminal: the frame is redrawn from the top, only when it changed', async t => {
  t.equal(redraw('frame 1\n', undefined), `${CLEAR}frame 1\n`)
  t.equal(redraw('frame 1\n', 'frame 1\n'), '')
  t.equal(redraw('frame 2\n', 'frame 1\n'), `${CLEAR}frame 2\n`)
})

t.test('-w off a terminal: a line per change, the new checks and Events, each stamped', async t => {
  const before = release(at(running(), { canaryWeight: 20, failedChecks: 0, checks: running().status?.checks?.slice(0, 1) }), [event('Started', 'Starting canary analysis', '2026-06-01T11:59:33Z')])
  t.same(releaseLines(undefined, before, NOW), ['2026-06-01T12:00:00Z shop/podinfo Progressing weight 20% step 1/3 failed checks 0/2'])
  t.same(releaseLines(before, before, NOW), [], 'nothing changed, nothing printed')
  const after = release(running(), [...before.events, event('Halted', 'halted at weight 40', '2026-06-01T11:59:53Z', 'Warning')])
  t.same(releaseLines(before, after, NOW), [
    '2026-06-01T12:00:00Z shop/podinfo Progressing weight 40% step 2/3 failed checks 1/2',
    '2026-06-01T12:00:00Z check request-success-rate 91.25% (min 99%, window 30s) fail: request-success-rate 91.25% is below the minimum 99%',
    '2026-06-01T12:00:00Z event Warning Halted: halted at weight 40',
  ])
  const repeated = release(running(), [...before.events, event('Halted', 'halted at weight 40', '2026-06-01T11:59:53Z', 'Warning', 2)])
  t.same(releaseLines(after, repeated, NOW), ['2026-06-01T12:00:00Z event Warning Halted: halted at weight 40'], 'an Event seen again (its count raised) is printed again')
  t.equal(summaryLine(at(running(), { phase: 'Succeeded' })), 'shop/podinfo Succeeded weight 40% failed checks 1/2')
})

t.test('-w of a table off a terminal: the header once, then the rows that changed', async t => {
  const seen = new Map<string, string>()
  const other = canary({ metadata: { name: 'cart' }, status: { phase: 'Succeeded' } })
  const first = tableLines(seen, [running(), other], NOW, false)
  t.equal(first.length, 3)
  t.match(first[0], /^NAME +PHASE/)
  t.same(tableLines(seen, [running(), other], new Date('2026-06-01T12:05:00Z'), false), [], 'ages alone change nothing')
  const moved = tableLines(seen, [at(running(), { canaryWeight: 60 }), other], NOW, false)
  t.equal(moved.length, 1)
  t.match(moved[0], /^podinfo +Progressing +60% +3\/3/)
})

t.test('text helpers: columns and ages as kubectl writes them', async t => {
  t.same(columns([['A', 'BB', 'C'], ['aaa', 'b', '']]), ['A    BB  C', 'aaa  b'])
  t.same([5_000, 119_000, 150_000, 600_000, 3 * 3600_000, 50 * 3600_000].map(age), ['5s', '119s', '2m30s', '10m', '3h', '2d'])
})
