// Mirroring through the istio router, end to end: the VirtualService's mirror and mirrorPercentage at each
// step, and the simulator's copies to the canary measured through istio's builtin request-success-rate
// while the user-facing canary weight is 0.
import t from 'tap'
import { until } from '../helpers/wait.ts'
import { apply, deploymentYaml, IMAGE_V1, IMAGE_V2 } from './apps.ts'
import { deployment, eventsOf, phase, sharedEnvironment } from './env.ts'
import { initialized, ISTIO, mirrorViewOf, virtualServiceRecorder } from './istio.ts'

const shared = await sharedEnvironment()
t.teardown(() => shared.stop())
const metricsServer = shared.prometheus.url

const MIRRORED = {
  ...ISTIO,
  'sluice.dev/analysis': 'interval: 2s\nthreshold: 2\nstepWeight: 30\nmaxWeight: 60\nmirror: true\nmirrorWeight: 50\n' +
    'metrics:\n- {name: request-success-rate, interval: 10s, thresholdRange: {min: 99}}\n',
}
const MIRRORING = { canary: 0, mirror: 'podinfo-canary', percent: 50 }

t.test('istio: mirroring first: half the requests copied to the canary at weight 0, measured on istio\'s metrics, then the weights', async t => {
  const ns = await initialized(t, metricsServer, MIRRORED)
  const seen = await virtualServiceRecorder(ns, mirrorViewOf)
  await apply(deploymentYaml({ ns, image: IMAGE_V2, sluice: MIRRORED }))
  const done = await phase(ns, 'podinfo', 'Succeeded', 180_000, 'Failed')
  const times = [...seen.times]
  t.same(await seen.stop(), [{ canary: 0 }, MIRRORING, { canary: 30 }, { canary: 60 }, { canary: 0 }],
    'VirtualService http[0]: idle, mirroring 50% at weight 0, the steps without a mirror, then the primary alone')
  // The mirror step holds on "no data" until the canary has measured traffic: a pass inside it came from the copies.
  const [from, to] = [times[1]!, times[2]!]
  const duringMirror = (done.status?.checks ?? []).filter(r => r.name === 'request-success-rate' && Date.parse(r.time) > from && Date.parse(r.time) < to)
  t.ok(duringMirror.some(r => r.verdict === 'pass' && r.value !== null && r.value >= 99),
    `a check passed on the mirrored copies while the user-facing weight was 0 (${JSON.stringify(duringMirror)})`)
  t.equal((await deployment(ns, 'podinfo-primary'))?.spec?.template?.spec?.containers[0]?.image, IMAGE_V2, 'the primary runs the new version')
  t.match((await eventsOf(ns, 'Canary', 'podinfo')).join('\n'), /Start traffic mirroring to podinfo\.[^]*Promoted: Promotion completed!/)
})

t.test('istio: a bad version (error rate 0.5) is rolled back on its mirrored copies alone, never given a user-facing weight', async t => {
  const ns = await initialized(t, metricsServer, MIRRORED)
  const seen = await virtualServiceRecorder(ns, mirrorViewOf)
  await apply(deploymentYaml({ ns, image: IMAGE_V2, pod: { 'simulator.sluice.dev/error-rate': '0.5' }, sluice: MIRRORED }))
  const c = await phase(ns, 'podinfo', 'Failed', 180_000, 'Succeeded')
  // The status is written before the router acts on it: wait for the watch to show the router's write.
  await until(async () => seen.values, v => v.length > 2 && v.at(-1)?.mirror === undefined, 'the mirror removed')
  t.same(await seen.stop(), [{ canary: 0 }, MIRRORING, { canary: 0 }], 'VirtualService http[0]: idle, mirroring, idle again: the canary weight never left 0')
  t.equal(c.status?.failedChecks, 2, 'rolled back at the threshold')
  const failed = (c.status?.checks ?? []).filter(r => r.name === 'request-success-rate' && r.verdict === 'fail')
  t.ok(failed.length >= 2 && failed.every(r => r.value !== null && r.value < 99), `the copies' errors were measured (${failed.map(r => r.value).join(', ')})`)
  t.equal((await deployment(ns, 'podinfo-primary'))?.spec?.template?.spec?.containers[0]?.image, IMAGE_V1, 'the primary still runs the old version')
})
