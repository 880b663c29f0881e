// Alerts delivered through the controller's hook adapter against the real API server: for every provider
// type, an AlertProvider whose address is in a Secret (created for real, read with sluice's
// ServiceAccount and its RBAC) posts to a local receiver in that type's own format. A receiver that is
// down or hangs fails within the post timeout and is reported, and the alerts of one Canary stay in order.
import t from 'tap'
import { CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node'
import { pino } from 'pino'
import { createCaches, type Caches } from '../../../src/controller/caches.ts'
import { createHooks } from '../../../src/controller/hook-adapter.ts'
import { ALERT_PROVIDER_TYPES, type AlertProviderSpec, type AlertProviderType, type Canary, type CanaryAlert } from '../../../src/api/types.ts'
import { freePort } from '../../cluster/process.ts'
import { startHttpServer, type SeenRequest } from '../../helpers/http-server.ts'
import { kubeConfig, namespace, sluiceKubeConfig, type TestLike } from '../../helpers/kube.ts'
import { until } from '../../helpers/wait.ts'

const admin = kubeConfig()
const core = admin.makeApiClient(CoreV1Api)
const custom = admin.makeApiClient(CustomObjectsApi)

// What each service answers when it takes a message.
const receiver = await startHttpServer(t, s => {
  if (s.path.startsWith('/hang')) return () => undefined
  if (s.path.startsWith('/discord')) return res => { res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"id":"1"}') }
  if (s.path.startsWith('/msteams')) return res => { res.writeHead(202).end() }
  return res => { res.writeHead(200).end('ok') }
})

const SENDER: Partial<Record<AlertProviderType, Partial<AlertProviderSpec>>> = {
  slack: { channel: 'deploys', username: 'release-bot' },
  rocket: { channel: '#deploys', username: 'release-bot' },
  discord: { username: 'release-bot' },
}

/** A Secret holding the address (and maybe the proxy), and an AlertProvider that names it; both written as an admin. */
async function alertProvider(ns: string, name: string, spec: Partial<AlertProviderSpec> & Pick<AlertProviderSpec, 'type'>, secret: Record<string, string>): Promise<void> {
  await core.createNamespacedSecret({ namespace: ns, body: { metadata: { name: `${name}-url` }, stringData: secret } })
  await custom.createNamespacedCustomObject({
    group: 'sluice.dev', version: 'v1beta1', namespace: ns, plural: 'alertproviders',
    body: { apiVersion: 'sluice.dev/v1beta1', kind: 'AlertProvider', metadata: { name }, spec: { ...spec, secretRef: { name: `${name}-url` } } },
  })
}

/** sluice's caches and hook adapter on the test's namespace, as sluice's ServiceAccount. */
async function sluiceHooks(t: TestLike, ns: string, providers: number): Promise<{ hooks: ReturnType<typeof createHooks>; caches: Caches }> {
  const kc = sluiceKubeConfig()
  const caches = createCaches(kc, pino({ level: 'silent' }), ns)
  await caches.start()
  t.teardown(() => { caches.stop() })
  await until(async () => caches.alertProviders.list(ns).length, n => n === providers, `${providers} AlertProviders in sluice's cache`)
  return { hooks: createHooks({ caches, core: kc.makeApiClient(CoreV1Api), logger: pino({ level: 'silent' }) }), caches }
}

function canary(ns: string, alerts: CanaryAlert[]): Canary {
  return {
    apiVersion: 'sluice.dev/v1beta1', kind: 'Canary', metadata: { name: 'podinfo', namespace: ns },
    spec: { targetRef: { name: 'podinfo' }, service: { port: 9898 }, analysis: { stepWeight: 10, maxWeight: 50, threshold: 2, alerts } },
    status: { phase: 'Failed' },
  }
}

const body = (s: SeenRequest | undefined): Record<string, unknown> => JSON.parse(s?.body ?? 'null') as Record<string, unknown>

t.test('every provider type delivers from a Secret read under sluice\'s RBAC, each in its own format', async t => {
  const ns = await namespace(t)
  for (const type of ALERT_PROVIDER_TYPES) {
    await alertProvider(ns, type, { type, ...SENDER[type] }, { address: `${receiver.base}/${type}/T0/s3cr3t?token=t0k3n` })
  }
  const { hooks } = await sluiceHooks(t, ns, ALERT_PROVIDER_TYPES.length)
  const message = 'Failed checks threshold reached 2; last: request-success-rate 50.78% is below the minimum 99% (window 30s)'
  const calls = receiver.since()
  const failures = await hooks.alert(canary(ns, ALERT_PROVIDER_TYPES.map(type => ({ name: type, severity: 'error', providerRef: { name: type } }))), 'error', message)
  t.same(failures, [])
  const byType = new Map(calls().map(s => [s.path.split('/')[1], s]))
  t.same([...byType.keys()].sort(), [...ALERT_PROVIDER_TYPES].sort(), 'one post per type')
  for (const s of byType.values()) t.match(s.headers['content-type'], /^application\/json/)

  t.match(body(byType.get('slack')), { channel: 'deploys', username: 'release-bot', attachments: [{ color: 'danger', text: message, author_name: `podinfo.${ns}` }] })
  t.match(byType.get('discord')?.url, /\?token=t0k3n&wait=true$/, 'Discord: the webhook itself, waiting for the message to be saved')
  t.match(body(byType.get('discord')), { username: 'release-bot', embeds: [{ title: `podinfo.${ns}`, description: message }], allowed_mentions: { parse: [] } })
  t.match(body(byType.get('rocket')), { alias: 'release-bot', channel: '#deploys', attachments: [{ title: `podinfo.${ns}`, text: message }] })
  t.match(body(byType.get('msteams')), { type: 'message', attachments: [{ content: { type: 'AdaptiveCard', body: [{ text: `podinfo.${ns}` }, { text: message }] } }] })
  t.match(body(byType.get('gchat')), { cardsV2: [{ card: { header: { title: `podinfo.${ns}` } } }] })
  t.match(body(byType.get('webhook')), {
    kind: 'sluice.dev/alert', canary: 'podinfo', namespace: ns, severity: 'error', message, phase: 'Failed',
    fields: [{ name: 'Target', value: `Deployment/podinfo.${ns}` }, { name: 'Failed checks threshold', value: '2' }],
  })
})

t.test('a proxy in the Secret carries the alert; a severity filter keeps info away from an error provider', async t => {
  const ns = await namespace(t)
  await alertProvider(ns, 'proxied', { type: 'webhook' }, { address: 'http://alerts.invalid:8080/incidents', proxy: receiver.base })
  await alertProvider(ns, 'errors-only', { type: 'webhook' }, { address: `${receiver.base}/errors-only` })
  const { hooks } = await sluiceHooks(t, ns, 2)
  const c = canary(ns, [{ name: 'all', providerRef: { name: 'proxied' } }, { name: 'pager', severity: 'error', providerRef: { name: 'errors-only' } }])
  const calls = receiver.since()
  t.same(await hooks.alert(c, 'info', 'New revision detected, progressing canary analysis.'), [])
  t.same(calls().map(s => s.url), ['http://alerts.invalid:8080/incidents'], 'through the proxy, in absolute form; nothing to the error-only provider')
})

t.test('a receiver that is down or hangs fails within the timeout, is reported without its address, and keeps the order', async t => {
  const ns = await namespace(t)
  const closed = await freePort()
  await alertProvider(ns, 'down', { type: 'slack' }, { address: `http://127.0.0.1:${closed}/services/T0/B0/s3cr3t` })
  await alertProvider(ns, 'hangs', { type: 'discord' }, { address: `${receiver.base}/hang/api/webhooks/1/s3cr3t` })
  await alertProvider(ns, 'up', { type: 'webhook' }, { address: `${receiver.base}/up` })
  const { hooks } = await sluiceHooks(t, ns, 3)
  const c = canary(ns, ['down', 'hangs', 'up'].map(name => ({ name, providerRef: { name } })))
  const calls = receiver.since()
  const first = hooks.alert(c, 'warn', 'first')
  const second = hooks.alert(c, 'error', 'second')
  const failures = await first
  t.same([...failures].sort(), [
    `alert "down" not delivered: AlertProvider ${ns}/down: got no answer: connection refused (ECONNREFUSED)`,
    `alert "hangs" not delivered: AlertProvider ${ns}/hangs: timed out after 5s`,
  ])
  t.notMatch(JSON.stringify(failures), /s3cr3t|127\.0\.0\.1|webhooks/)
  t.same(calls().filter(s => s.path === '/up').map(s => body(s).message), ['first'], 'the second alert waits for the first to be over')
  t.equal((await second).length, 2, 'the second fails the same way')
  t.same(calls().filter(s => s.path === '/up').map(s => body(s).message), ['first', 'second'])
})
