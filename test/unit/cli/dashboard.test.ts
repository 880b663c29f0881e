// The dashboard's pure parts: the pages rendered from a release, the charts' scaling, the history behind
// them, the event-stream format, the Host/Origin checks, the buttons and what each one needs.
import t from 'tap'
import { refusalText } from '../../../src/cli/dashboard/access.ts'
import { actionAttributes, unavailable } from '../../../src/cli/dashboard/actions.ts'
import { chartSvg, scale, SIZE, valueDomain } from '../../../src/cli/dashboard/chart.ts'
import { httpError } from '../../../src/cli/dashboard/errors.ts'
import { observe } from '../../../src/cli/dashboard/history.ts'
import { esc } from '../../../src/cli/dashboard/html.ts'
import { listPage, listSections } from '../../../src/cli/dashboard/list-page.ts'
import { actionRefusal, hostRefusal, servedHosts } from '../../../src/cli/dashboard/origin.ts'
import { releasePage, releaseSections } from '../../../src/cli/dashboard/release-page.ts'
import { sseMessage } from '../../../src/cli/dashboard/sse.ts'
import { CliError, EXIT } from '../../../src/cli/exit.ts'
import type { Canary } from '../../../src/api/types.ts'
import { canary } from '../../helpers/objects.ts'
import { event, NOW, release, running } from './fixtures.ts'

const at = (c: Canary, status: Canary['status']): Canary => ({ ...c, status: { ...c.status, ...status } })

t.test('scale maps a domain linearly; a flat domain maps to the middle; the value domain holds values and range', async t => {
  const y = scale({ min: 0, max: 100 }, { min: 128, max: 22 })
  t.equal(y(0), 128)
  t.equal(y(100), 22)
  t.equal(y(50), 75)
  t.equal(scale({ min: 5, max: 5 }, { min: 0, max: 10 })(5), 5)
  t.same(valueDomain([99.5, 91.25], { min: 99 }), { min: 91.25 - 0.825, max: 99.5 + 0.825 })
  t.same(valueDomain([], {}), { min: 0, max: 1 })
  t.same(valueDomain([100], {}), { min: 90, max: 110 }, 'a single value gets a tenth of itself around it')
})

t.test('a chart: the band of the passing range, the points, a step line held to the end', async t => {
  const time = { min: 0, max: 10_000 }
  const svg = chartSvg({ title: 'rate', time, y: { min: 90, max: 100 }, points: [{ t: 0, v: 99.5, ok: true }, { t: 10_000, v: 91, ok: false }, { t: 5000, v: null }], band: { min: 99 }, label: v => `${v}%` })
  const bottom = SIZE.height - SIZE.bottom
  const bandTop = SIZE.top
  const bandBottom = scale({ min: 90, max: 100 }, { min: bottom, max: SIZE.top })(99)
  t.match(svg, new RegExp(`<rect class="band" x="${SIZE.left}" y="${bandTop.toFixed(1)}" width="${SIZE.width - SIZE.right - SIZE.left}" height="${(bandBottom - bandTop).toFixed(1)}">`))
  t.match(svg, `<circle class="dot" cx="${SIZE.left.toFixed(1)}"`)
  t.match(svg, `<circle class="dot fail" cx="${(SIZE.width - SIZE.right).toFixed(1)}"`)
  t.match(svg, /<text class="nodata"[^>]*>×<title>00:00:05 no data/)
  const step = chartSvg({ title: 'w', time, y: { min: 0, max: 100 }, points: [{ t: 0, v: 0 }, { t: 5000, v: 50 }], step: true, label: String })
  const x = scale(time, { min: SIZE.left, max: SIZE.width - SIZE.right })
  t.match(step, `d="M${x(0).toFixed(1)},${bottom.toFixed(1)}H${x(5000).toFixed(1)}V`)
  t.match(step, new RegExp(`H${x(10_000).toFixed(1)}"`), 'held to the end of the time axis')
  t.notMatch(step, /circle/)
  t.match(chartSvg({ title: '<x>', time, y: { min: 0, max: 1 }, points: [], label: String }), /aria-label="&lt;x&gt;"/)
})

t.test('history: weights as seen, checks accumulated past status.checks, a new revision starts anew', async t => {
  const c = running()
  const h1 = observe(undefined, c, 1000)
  t.same(h1.weights, [{ t: 1000, v: 40 }])
  t.same(h1.metrics['request-success-rate']?.points.map(p => [p.v, p.verdict]), [[99.5, 'pass'], [91.25, 'fail']])
  t.same(h1.metrics['request-success-rate']?.range, { min: 99 })
  t.same(observe(h1, c, 2000), h1, 'the same view adds nothing')
  t.same(observe(h1, c, 2000).weights, h1.weights)
  const later = at(c, { canaryWeight: 60, checks: [{ name: 'request-success-rate', value: 99.9, range: { min: 99 }, verdict: 'pass', time: '2026-06-01T12:00:03Z' }] })
  const h2 = observe(h1, later, 3000)
  t.same(h2.weights, [{ t: 1000, v: 40 }, { t: 3000, v: 60 }])
  t.equal(h2.metrics['request-success-rate']?.points.length, 3, 'older checks kept after status dropped them')
  const next = observe(h2, at(later, { lastAppliedSpec: 'cccc', canaryWeight: 0, checks: [] }), 4000)
  t.same(next.weights, [{ t: 4000, v: 0 }])
  t.equal(next.since, 4000)
  t.same(next.metrics['request-success-rate']?.points, [])
})

t.test('the event stream: one event, JSON data lines', async t => {
  t.equal(sseMessage('sections', { a: '<b>\n' }), 'event: sections\ndata: {"a":"<b>\\n"}\n\n')
  t.throws(() => sseMessage('a\nb', {}))
})

t.test('locality: the Host must be the served address; an action needs JSON, same-site, its own Origin', async t => {
  const hosts = servedHosts('127.0.0.1', 3100)
  t.same([...hosts], ['127.0.0.1:3100', 'localhost:3100', '[::1]:3100'])
  t.same([...servedHosts('10.0.0.5', 80)], ['10.0.0.5:80'])
  t.equal(hostRefusal({ host: 'localhost:3100' }, hosts), undefined)
  t.match(hostRefusal({ host: 'evil.example:3100' }, hosts), /Host "evil.example:3100" is not the address this dashboard serves/)
  t.equal(hostRefusal({ host: 'anything' }, undefined), undefined, 'in-cluster: any Host')
  const json = { host: '127.0.0.1:3100', 'content-type': 'application/json' }
  t.equal(actionRefusal({ ...json, origin: 'http://127.0.0.1:3100', 'sec-fetch-site': 'same-origin' }, hosts), undefined)
  t.equal(actionRefusal(json, hosts), undefined, 'no Origin: not a browser, which always sends one on a POST')
  t.match(actionRefusal({ ...json, origin: 'https://evil.example' }, hosts), /Origin https:\/\/evil.example is not this dashboard/)
  t.match(actionRefusal({ ...json, 'sec-fetch-site': 'cross-site' }, hosts), /another site/)
  t.match(actionRefusal({ host: '127.0.0.1:3100', 'content-type': 'application/x-www-form-urlencoded' }, hosts), /application\/json/)
  t.match(actionRefusal({ ...json, origin: 'null' }, hosts), /not a URL/)
  t.match(actionRefusal({ ...json, host: 'rebound.example:3100' }, hosts), /Host/)
})

t.test('the list page: the CLI\'s table cells, escaped, with a link to each release', async t => {
  const idle = canary({ metadata: { name: 'cart<x>', creationTimestamp: '2026-05-30T12:00:00Z' }, status: { phase: 'Succeeded' } })
  const html = listSections([running(), idle], NOW, 'namespace shop').releases ?? ''
  t.match(html, /<th>NAMESPACE<\/th><th>NAME<\/th><th>PHASE<\/th><th>WEIGHT<\/th><th>STEP<\/th>/)
  t.match(html, '<tr><td>shop</td><td><a href="/r/shop/podinfo">podinfo</a></td><td><span class="phase Progressing">Progressing</span></td><td>40%</td><td>2/3</td><td>1/2</td><td>request-success-rate 91.25% fail 7s ago</td><td>60m</td></tr>')
  t.match(html, '<a href="/r/shop/cart%3Cx%3E">cart&lt;x&gt;</a>')
  t.match(listSections([], NOW, 'namespace shop').releases, /No Canaries in namespace shop/)
  t.match(listPage([running()], NOW, 'namespace shop'), /<body data-live="\/live">[^]*<section id="releases">/)
})

t.test('the release page: phase, weight, step, next, plan, charts, checks, hooks, Events, buttons', async t => {
  const r = release(running(), [event('Synced', 'Advance podinfo.shop canary weight 40', '2026-06-01T11:59:50Z'), event('Warning', 'Halt <advancement>', '2026-06-01T11:59:55Z', 'Warning')])
  const s = releaseSections(r, observe(undefined, r.canary, NOW.getTime() - 20_000), NOW)
  t.match(s.summary, '<span id="phase" class="phase Progressing">Progressing</span>')
  t.match(s.summary, '<span id="weight">40%</span>')
  t.match(s.summary, '<span id="step">2/3</span>')
  t.match(s.summary, /<span id="next">next checks in 3s, then 60% if they pass; 1 more failed check rolls it back<\/span>/)
  t.match(s.summary, 'primary podinfo-primary 1/2 ready; canary podinfo 2/2 ready')
  t.match(s.plan, /<tr class="done">[^]*step 1[^]*<tr class="now"><td class="mark">▶<\/td><td>step 2<\/td><td>\+20s<\/td><td>40%<\/td>/)
  t.equal((s.charts?.match(/<svg class="chart"/g) ?? []).length, 2)
  t.match(s.charts, /Canary weight/)
  t.match(s.charts, /request-success-rate \(passing range shaded\)[^]*class="band"/)
  t.match(s.checks, /<td>7s ago<\/td><td>request-success-rate<\/td><td>91.25%<\/td><td>min 99%<\/td><td>30s<\/td><td><span class="verdict-fail">fail<\/span><\/td>/, 'newest first')
  t.match(s.hooks, /<td>confirm-promotion<\/td><td>approve<\/td><td>http:\/\/tester.test\/gate\/check<\/td>/, 'the URL without its credentials')
  t.match(s.events, /<span class="Warning">Warning<\/span><\/td><td>Warning<\/td><td>Halt &lt;advancement&gt;<\/td>[^]*Synced/)
  t.match(s.actions, /<button type="button" data-action="promote"[^>]* disabled title="the analysis of Canary podinfo is not passing \(1 failed check; request-success-rate 91.25% is below the minimum 99%\); promote \(skip the analysis\) promotes it anyway">/)
  t.notMatch(s.actions, /data-action="abort"[^>]*disabled/)
  t.match(s.actions, /data-action="retry"[^>]*disabled title="Canary podinfo is Progressing: only a Failed release can be retried"/)
  t.match(s.actions, /data-action="promote-full"[^>]*data-confirm="Promote shop\/podinfo now WHATEVER ITS CHECKS SAY[^"]*Its analysis is not passing: 1 failed check/)
  t.match(s.actions, /data-action="resume"[^>]*disabled/)
  t.match(releasePage(r, undefined, NOW, 'namespace shop'), /data-live="\/r\/shop\/podinfo\/live"/)
  const none = releaseSections(release(canary({ status: { phase: 'Initialized' } })), undefined, NOW)
  t.match(none.checks, /No checks yet/)
  t.match(none.events, /No Events/)
})

t.test('the buttons: when each applies, what it patches', async t => {
  const c = running()
  t.equal(unavailable(c, 'abort'), undefined)
  t.equal(unavailable(c, 'pause'), undefined)
  t.equal(unavailable(running({ spec: { suspend: true } }), 'pause'), 'Canary podinfo is already paused')
  t.equal(unavailable(at(c, { phase: 'Succeeded' }), 'abort'), 'Canary podinfo is Succeeded: no release is running, nothing to abort')
  t.equal(unavailable(at(c, { failedChecks: 0, checks: [] }), 'promote'), undefined)
  t.same(actionAttributes(c, 'abort'), { verb: 'patch', resource: 'canaries', group: 'sluice.dev', namespace: 'shop', name: 'podinfo' })
  const generated = canary({ metadata: { labels: { 'app.kubernetes.io/managed-by': 'sluice' }, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'podinfo', uid: 'u', controller: true }] } })
  t.same(actionAttributes(generated, 'pause'), { verb: 'patch', resource: 'deployments', group: 'apps', namespace: 'shop', name: 'podinfo' }, 'a generated Canary is paused through its Deployment')
  t.same(actionAttributes(generated, 'abort').resource, 'canaries')
})

t.test('refusals: the API server\'s phrasing; exit codes as HTTP statuses', async t => {
  t.equal(refusalText({ username: 'system:serviceaccount:shop:viewer' }, { verb: 'patch', resource: 'canaries', group: 'sluice.dev', namespace: 'shop', name: 'podinfo' }),
    'canaries.sluice.dev "podinfo" is forbidden: User "system:serviceaccount:shop:viewer" cannot patch resource "canaries" in API group "sluice.dev" in the namespace "shop"')
  t.equal(httpError(new CliError(EXIT.forbidden, 'no')).status, 403)
  t.equal(httpError(new CliError(EXIT.failed, 'no')).status, 409)
  t.equal(httpError(new Error('x')).status, 500)
  t.equal(esc('<a href="x">\'&'), '&lt;a href=&quot;x&quot;&gt;&#39;&amp;')
})
