// Alerts of whole releases, end to end: a local receiver behind an AlertProvider (its address in a
// Secret) captures what sluice sends for a promotion, a rollback (with the failing metric and its value)
// and a progress-deadline failure. Receivers that are down or hang never hold up the release, and each
// alert they did not get is a Warning Event on the Canary.
import t, { type Test } from 'tap'
import { stringify } from 'yaml'
import { freePort } from '../cluster/process.ts'
import { startHttpServer, type SeenRequest } from '../helpers/http-server.ts'
import { until } from '../helpers/wait.ts'
import { apply, deploymentYaml, IMAGE_V2, nginxCanary } from './apps.ts'
import { initializedApp } from './releases.ts'
import { deployment, eventsOf, phase, sharedEnvironment, testNamespace } from './env.ts'

const shared = await sharedEnvironment()
t.teardown(() => shared.stop())

// The receiver: answers every alert at once, except at /hang, where it never answers.
const receiver = await startHttpServer(t, s => s.path.startsWith('/hang') ? () => undefined : undefined, res => { res.writeHead(200).end('ok') })

interface Received {
  readonly severity: string
  readonly message: string
  readonly phase?: string
  readonly fields: { name: string; value: string }[]
}

const alertsAt = (path: string, since: () => SeenRequest[]): Received[] =>
  since().filter(s => s.path === path).map(s => JSON.parse(s.body) as Received)

/** AlertProviders of type webhook, each with its address in a Secret; `missing` has nothing listening. */
async function providers(ns: string, addresses: Record<string, string>): Promise<void> {
  for (const [name, address] of Object.entries(addresses)) {
    await apply(stringify({ apiVersion: 'v1', kind: 'Secret', metadata: { name: `${name}-url`, namespace: ns }, stringData: { address } }))
    await apply(stringify({ apiVersion: 'sluice.dev/v1beta1', kind: 'AlertProvider', metadata: { name, namespace: ns }, spec: { type: 'webhook', secretRef: { name: `${name}-url` } } }))
  }
}

/** nginxCanary's annotations with analysis.alerts to each provider named. */
function withAlerts(annotations: Record<string, string>, names: readonly string[]): Record<string, string> {
  const alerts = `alerts:\n${names.map(n => `- {name: ${n}, providerRef: {name: ${n}}}`).join('\n')}\n`
  return { ...annotations, 'sluice.dev/analysis': `${annotations['sluice.dev/analysis'] ?? ''}${alerts}` }
}

async function started(t: Test, annotations: Record<string, string>, names: Record<string, string>): Promise<{ ns: string; since: () => SeenRequest[] }> {
  const { ns } = await testNamespace(t, { metricsServer: shared.prometheus.url })
  await providers(ns, names)
  const since = receiver.since()
  await initializedApp(ns, withAlerts(annotations, Object.keys(names)))
  return { ns, since }
}

t.test('a promotion: the receiver gets each step\'s alert, while a receiver that is down and one that hangs hold nothing up', async t => {
  const closed = await freePort()
  const annotations = nginxCanary()
  const { ns, since } = await started(t, annotations, {
    receiver: `${receiver.base}/promotion`, down: `http://127.0.0.1:${closed}/alerts/s3cr3t`, hangs: `${receiver.base}/hang/s3cr3t`,
  })
  await until(async () => alertsAt('/promotion', since), a => a.length >= 1, 'the initialization alert')
  await apply(deploymentYaml({ ns, image: IMAGE_V2, sluice: withAlerts(annotations, ['receiver', 'down', 'hangs']) }))
  await phase(ns, 'podinfo', 'Succeeded', 180_000, 'Failed')
  t.equal((await deployment(ns, 'podinfo-primary'))?.spec?.template?.spec?.containers[0]?.image, IMAGE_V2, 'promoted')
  // Each alert waits for the one before it, and each waits up to the 5s timeout on the receiver that hangs.
  const got = await until(async () => alertsAt('/promotion', since), a => a.some(x => /promotion finished/.test(x.message)), 'the promotion alert', 60_000)
  t.match(got.map(a => a.message), [/initialization completed/, /New revision detected, progressing canary analysis/, /Canary analysis completed successfully, promotion finished/])
  t.ok(got.every(a => a.severity === 'info'), 'all info')
  t.match(got.at(-1), { fields: [{ name: 'Target', value: `Deployment/podinfo.${ns}` }, { name: 'Failed checks threshold', value: '2' }] })
  const events = await until(async () => (await eventsOf(ns, 'Canary', 'podinfo')).join('\n'),
    e => /alert "hangs" not delivered: .*timed out after 5s/.test(e) && /alert "down" not delivered/.test(e), 'the Warning Events of the undelivered alerts', 90_000)
  t.match(events, `Warning AlertNotDelivered: alert "down" not delivered: AlertProvider ${ns}/down: got no answer: connection refused (ECONNREFUSED)`)
  t.match(events, `Warning AlertNotDelivered: alert "hangs" not delivered: AlertProvider ${ns}/hangs: timed out after 5s`)
  t.notMatch(events, /s3cr3t|127\.0\.0\.1/, 'no address in any Event')
})

t.test('a rollback: an error alert naming the failing metric and its value', async t => {
  const annotations = nginxCanary()
  const { ns, since } = await started(t, annotations, { receiver: `${receiver.base}/rollback` })
  await apply(deploymentYaml({ ns, image: IMAGE_V2, pod: { 'simulator.sluice.dev/error-rate': '0.5' }, sluice: withAlerts(annotations, ['receiver']) }))
  await phase(ns, 'podinfo', 'Failed', 180_000, 'Succeeded')
  const got = await until(async () => alertsAt('/rollback', since), a => a.some(x => x.severity === 'error'), 'the rollback alert')
  const failure = got.find(a => a.severity === 'error')
  t.match(failure?.message, /^Failed checks threshold reached 2; last: request-success-rate [0-9.]+% is below the minimum 99%/)
  t.equal(failure?.phase, 'Failed')
})

t.test('a progress-deadline failure: an error alert that says why', async t => {
  const annotations = nginxCanary({ deadline: 15 })
  const { ns, since } = await started(t, annotations, { receiver: `${receiver.base}/deadline` })
  // No node carries this label: the new version's pods stay Pending.
  await apply(deploymentYaml({ ns, image: IMAGE_V2, sluice: withAlerts(annotations, ['receiver']), podSpec: { nodeSelector: { 'sluice.dev/test-node': 'none' } } }))
  await phase(ns, 'podinfo', 'Failed', 120_000, 'Succeeded')
  const got = await until(async () => alertsAt('/deadline', since), a => a.some(x => x.severity === 'error'), 'the deadline alert')
  t.match(got.find(a => a.severity === 'error'), { message: /^Progress deadline exceeded: .*not ready/, phase: 'Failed' })
})
