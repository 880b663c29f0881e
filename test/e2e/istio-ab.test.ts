// A/B testing through the istio router, end to end: the VirtualService's header and cookie route goes to the
// canary during the iterations, everything else stays on the primary, and the simulator's matching share is
// measured through istio's builtin request-success-rate.
import t from 'tap'
import { IMAGE_V2, apply, deploymentYaml } from './apps.ts'
import { deployment, eventsOf, phase, sharedEnvironment } from './env.ts'
import { httpRoutesOf, initialized, ISTIO, virtualServiceRecorder } from './istio.ts'

const shared = await sharedEnvironment()
t.teardown(() => shared.stop())
const metricsServer = shared.prometheus.url

const COOKIE_REGEX = '^(.*?;\\s*)?canary=always(;.*)?$'

t.test('istio: A/B by header and by cookie, promoted on istio\'s builtin success rate of the matching requests', async t => {
  const sluice = {
    ...ISTIO, 'sluice.dev/strategy': 'ab',
    'sluice.dev/analysis': 'interval: 2s\niterations: 3\nthreshold: 2\n' +
      'match: [{headers: {x-canary: {exact: insider}}}, {headers: {cookie: {exact: canary}}}]\n' +
      'metrics:\n- {name: request-success-rate, interval: 10s, thresholdRange: {min: 99}}\n',
  }
  const ns = await initialized(t, metricsServer, sluice)
  const headers = ['x-canary=exact:insider', `cookie=regex:${COOKIE_REGEX}`]
  const idle = [{ headers, route: ['podinfo-primary:100', 'podinfo-canary:0'] }, { headers: [], route: ['podinfo-primary:100'] }]
  const routed = [{ headers, route: ['podinfo-primary:0', 'podinfo-canary:100'] }, { headers: [], route: ['podinfo-primary:100'] }]
  const seen = await virtualServiceRecorder(ns, httpRoutesOf)
  await apply(deploymentYaml({ ns, image: IMAGE_V2, sluice }))
  const done = await phase(ns, 'podinfo', 'Succeeded', 180_000, 'Failed')
  t.same(await seen.stop(), [idle, routed, idle],
    'VirtualService: the header and cookie route idle, then on the canary through the iterations (everything else on the primary), then idle again')
  t.ok((done.status?.checks ?? []).some(r => r.name === 'request-success-rate' && r.verdict === 'pass' && r.value !== null && r.value >= 99),
    'the success rate of the matching requests was measured on istio_requests_total and passed')
  t.equal(done.status?.failedChecks, 0)
  t.ok((done.status?.canaryWeight ?? 0) === 0, 'A/B keeps the status weight at 0')
  t.equal((await deployment(ns, 'podinfo-primary'))?.spec?.template?.spec?.containers[0]?.image, IMAGE_V2, 'the primary runs the new version')
  const events = (await eventsOf(ns, 'Canary', 'podinfo')).join('\n')
  t.match(events, new RegExp(`Advance podinfo\\.${ns} canary iteration 3/3`))
  t.match(events, /Promoted: Promotion completed!/)
})
