// Alert providers against a local HTTP server: each service's body format, where the address comes from,
// severity filtering, and that sending never throws nor logs an address.
import t from 'tap'
import { admits, alertAddress, createNotifier, NotifyError, sendAlerts } from '../../../src/notify/index.ts'
import type { AlertDeps } from '../../../src/notify/index.ts'
import type { AlertProvider, AlertProviderSpec, AlertSeverity, Canary, CanaryAlert } from '../../../src/api/types.ts'
import { freePort } from '../../cluster/process.ts'
import { startHttpServer, type Reply } from '../../helpers/http-server.ts'
import { canary } from '../../helpers/objects.ts'

const replies: Record<string, Reply> = {
  '/fail': res => { res.writeHead(500).end('internal error') },
  '/gone': res => { res.writeHead(404).end('no_service') },
  '/slack-api': res => { res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"ok":false,"error":"channel_not_found"}') },
  '/slack-api-ok': res => { res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"ok":true,"channel":"C1","ts":"1.2"}') },
  '/workflow': res => { res.writeHead(202).end() },
  '/slow': res => { setTimeout(() => res.writeHead(200).end(), 2000).unref() },
}
// Anything else is accepted with 200, as a service that takes the alert.
const server = await startHttpServer(t, replies, res => { res.writeHead(200).end('ok') })
const { base, seen, since } = server
// A port nothing listens on: connections to it are refused.
const closedPort = await freePort()

const lastBody = (): unknown => JSON.parse(seen.at(-1)?.body ?? 'null')

function provider(name: string, spec: Partial<AlertProviderSpec> & Pick<AlertProviderSpec, 'type'>, namespace = 'test'): AlertProvider {
  return { apiVersion: 'sluice.dev/v1beta1', kind: 'AlertProvider', metadata: { name, namespace }, spec }
}

/** The Canary podinfo in `test` with `alerts`, in `phase`. */
function withAlerts(alerts: CanaryAlert[], phase: NonNullable<Canary['status']>['phase'] = 'Failed'): Canary {
  return canary({ metadata: { namespace: 'test' }, spec: { analysis: { alerts } }, status: { phase } })
}

const alert = { canary: 'podinfo', namespace: 'test', severity: 'error' as const, message: 'Failed checks threshold reached 5', phase: 'Failed' }

interface World {
  providers: AlertProvider[]
  secrets?: Record<string, Record<string, string>>
  logged: { obj: object; msg: string }[]
}
function deps(world: World, extra: Partial<AlertDeps> = {}): AlertDeps {
  return {
    getProvider: (ns, name) => world.providers.find(p => p.metadata.namespace === ns && p.metadata.name === name),
    getSecret: async (ns, name) => world.secrets?.[`${ns}/${name}`],
    logger: { warn: (obj, msg) => { world.logged.push({ obj, msg }) } },
    ...extra,
  }
}

t.test('slack: one attachment, coloured by severity, with channel and username', async t => {
  await createNotifier(provider('s', { type: 'slack', address: `${base}/services/T0/B0/xyz`, channel: 'deploys', username: 'bot' }), undefined).post(alert)
  t.equal(seen.at(-1)?.path, '/services/T0/B0/xyz')
  t.match(seen.at(-1)?.headers['content-type'], /^application\/json/)
  t.strictSame(lastBody(), {
    channel: 'deploys', username: 'bot',
    attachments: [{
      color: 'danger', fallback: 'podinfo.test: Failed checks threshold reached 5', author_name: 'podinfo.test',
      text: 'Failed checks threshold reached 5', mrkdwn_in: ['text'],
      fields: [{ title: 'Severity', value: 'error', short: true }, { title: 'Phase', value: 'Failed', short: true }],
    }],
  })
  const colours: Record<AlertSeverity, string> = { info: 'good', warn: 'warning', error: 'danger' }
  for (const severity of ['info', 'warn', 'error'] as const) {
    await createNotifier(provider('s', { type: 'slack', address: `${base}/s` }), undefined).post({ ...alert, severity, phase: undefined })
    const body = lastBody() as { channel: string; username: string; attachments: { color: string; fields: unknown[] }[] }
    t.equal(body.attachments[0]?.color, colours[severity])
    t.equal(body.attachments[0]?.fields.length, 1, 'no phase field without a phase')
    t.same([body.channel, body.username], ['general', 'sluice'], 'defaults')
  }
})

t.test('slack with a token: Bearer header, and chat.postMessage\'s ok:false is a failure', async t => {
  const p = provider('s', { type: 'slack', secretRef: { name: 'slack-bot' } })
  await createNotifier(p, { address: `${base}/slack-api-ok`, token: 'xoxb-1\n' }).post(alert)
  t.equal(seen.at(-1)?.headers.authorization, 'Bearer xoxb-1')
  await t.rejects(createNotifier(p, { address: `${base}/slack-api`, token: 'xoxb-1' }).post(alert),
    { name: 'NotifyError', message: 'AlertProvider test/s: Slack refused the message: channel_not_found' })
})

t.test('rocket: the Slack format at the address itself', async t => {
  await createNotifier(provider('r', { type: 'rocket', address: `${base}/hooks/abc/def` }), undefined).post(alert)
  t.equal(seen.at(-1)?.path, '/hooks/abc/def')
  t.match(lastBody(), { channel: 'general', username: 'sluice', attachments: [{ author_name: 'podinfo.test', color: 'danger' }] })
})

t.test('discord: the Slack format at <address>/slack, the query string kept', async t => {
  await createNotifier(provider('d', { type: 'discord', address: `${base}/api/webhooks/1/tok?thread_id=9` }), undefined).post(alert)
  t.equal(seen.at(-1)?.url, '/api/webhooks/1/tok/slack?thread_id=9')
  t.match(lastBody(), { attachments: [{ text: 'Failed checks threshold reached 5' }] })
  await createNotifier(provider('d', { type: 'discord', address: `${base}/api/webhooks/1/tok/slack` }), undefined).post(alert)
  t.equal(seen.at(-1)?.path, '/api/webhooks/1/tok/slack', 'not appended twice')
})

t.test('msteams: an Adaptive Card in a message envelope; 202 (Workflows) is success', async t => {
  await createNotifier(provider('m', { type: 'msteams', address: `${base}/workflow` }), undefined).post(alert)
  const body = lastBody() as { type: string; attachments: { contentType: string; content: Record<string, unknown> }[] }
  t.equal(body.type, 'message')
  t.equal(body.attachments[0]?.contentType, 'application/vnd.microsoft.card.adaptive')
  t.match(body.attachments[0]?.content, {
    type: 'AdaptiveCard', version: '1.4',
    body: [
      { type: 'TextBlock', text: 'podinfo.test', weight: 'Bolder', color: 'Attention' },
      { type: 'TextBlock', text: 'Failed checks threshold reached 5', wrap: true },
      { type: 'FactSet', facts: [{ title: 'Severity', value: 'error' }, { title: 'Phase', value: 'Failed' }] },
    ],
  })
})

t.test('gchat: { text }', async t => {
  await createNotifier(provider('g', { type: 'gchat', address: `${base}/v1/spaces/AAA/messages?key=k&token=t` }), undefined).post(alert)
  t.equal(seen.at(-1)?.url, '/v1/spaces/AAA/messages?key=k&token=t')
  t.strictSame(lastBody(), { text: '*podinfo.test* (error, Failed)\nFailed checks threshold reached 5' })
})

t.test('webhook: a generic JSON document', async t => {
  await createNotifier(provider('w', { type: 'webhook', address: `${base}/incidents` }), undefined).post(alert)
  const body = lastBody() as Record<string, unknown>
  t.match(body, { kind: 'sluice.dev/alert', canary: 'podinfo', namespace: 'test', severity: 'error', message: 'Failed checks threshold reached 5', phase: 'Failed' })
  t.ok(!Number.isNaN(Date.parse(String(body.timestamp))), 'timestamp is a date')
})

t.test('a non-2xx answer is a NotifyError naming the provider, service and status', async t => {
  await t.rejects(createNotifier(provider('s', { type: 'slack', address: `${base}/gone` }), undefined).post(alert),
    { name: 'NotifyError', message: 'AlertProvider test/s: Slack answered HTTP 404: no_service' })
  await t.rejects(createNotifier(provider('w', { type: 'webhook', address: `${base}/fail` }), undefined).post(alert),
    { message: 'AlertProvider test/w: the webhook answered HTTP 500: internal error' })
})

t.test('a slow service times out', async t => {
  const n = createNotifier(provider('g', { type: 'gchat', address: `${base}/slow` }), undefined, { timeoutMs: 200 })
  await t.rejects(n.post(alert), { message: 'AlertProvider test/g: timed out after 200ms' })
})

t.test('the Secret\'s address wins over spec.address', async t => {
  const p = provider('s', { type: 'slack', address: `${base}/from-spec`, secretRef: { name: 'hook' } })
  t.equal(alertAddress(p, { address: ` ${base}/from-secret\n` }), `${base}/from-secret`)
  t.equal(alertAddress(p, { token: 'x' }), `${base}/from-spec`, 'a Secret without address: spec.address')
  t.throws(() => alertAddress(provider('s', { type: 'slack', secretRef: { name: 'hook' } }), {}),
    { message: 'AlertProvider test/s has no address; set spec.address, or the address key of Secret test/hook' })
  t.throws(() => alertAddress(provider('s', { type: 'slack' }), undefined),
    { message: 'AlertProvider test/s has no address; set spec.address, or spec.secretRef to a Secret with an address key' })

  const calls = since()
  const world: World = { providers: [p], secrets: { 'test/hook': { address: `${base}/from-secret` } }, logged: [] }
  await sendAlerts(withAlerts([{ name: 'on-call', providerRef: { name: 's' } }]), 'error', 'boom', deps(world))
  t.same(calls().map(s => s.path), ['/from-secret'])
  t.same(world.logged, [])
})

t.test('construction errors: bad scheme, bad proxy, unknown type; the address is never quoted', async t => {
  t.throws(() => createNotifier(provider('s', { type: 'slack', address: 'ftp://hooks.example/T0/B0/s3cr3t' }), undefined),
    new NotifyError('AlertProvider test/s: address must be an http:// or https:// URL, not ftp'))
  t.throws(() => createNotifier(provider('s', { type: 'slack', address: `${base}/x`, proxy: 'socks5://proxy:1080' }), undefined),
    { message: 'AlertProvider test/s: spec.proxy must be an http:// or https:// URL, not socks5' })
  t.throws(() => createNotifier(provider('s', { type: 'pager' as 'slack', address: `${base}/x` }), undefined),
    { message: 'AlertProvider test/s: spec.type "pager" is not one of slack, msteams, discord, rocket, gchat, webhook' })
  t.throws(() => createNotifier(provider('s', { type: 'slack', address: 'hooks.example/s3cr3t' }), undefined),
    { message: 'AlertProvider test/s: address is not a URL; use http(s)://host[:port]/path' })
})

t.test('proxy: the post goes through the provider\'s HTTP proxy', async t => {
  const calls = since()
  const n = createNotifier(provider('p', { type: 'webhook', address: 'http://alerts.invalid:8080/in?k=1', proxy: base }), undefined)
  await n.post(alert)
  const [s] = calls()
  t.equal(s?.url, 'http://alerts.invalid:8080/in?k=1', 'the proxy received the absolute URL')
  t.equal(s?.headers.host, 'alerts.invalid:8080')
  t.match(JSON.parse(s?.body ?? '{}'), { kind: 'sluice.dev/alert' })
  const secretProxy = since()
  await createNotifier(provider('p', { type: 'webhook', address: 'http://alerts.invalid/in', secretRef: { name: 'x' } }), { proxy: base }).post(alert)
  t.equal(secretProxy()[0]?.url, 'http://alerts.invalid/in', 'a proxy key in the Secret works too')
  await t.rejects(createNotifier(provider('p', { type: 'webhook', address: 'http://alerts.invalid/fail', proxy: base }), undefined).post(alert),
    { message: 'AlertProvider test/p: the webhook answered HTTP 500: internal error' })
})

t.test('severity: info receives everything, warn receives warn and error, error only error', async t => {
  t.same(['info', 'warn', 'error'].map(s => admits('info', s as AlertSeverity)), [true, true, true])
  t.same(['info', 'warn', 'error'].map(s => admits('warn', s as AlertSeverity)), [false, true, true])
  t.same(['info', 'warn', 'error'].map(s => admits('error', s as AlertSeverity)), [false, false, true])
  t.same(['info', 'warn', 'error'].map(s => admits(undefined, s as AlertSeverity)), [true, true, true], 'absent means info')
  t.same(['info', 'warn', 'error'].map(s => admits('', s as AlertSeverity)), [true, true, true], 'empty means info')

  const world: World = {
    providers: ['all', 'warn', 'err', 'default'].map(n => provider(n, { type: 'webhook', address: `${base}/to-${n}` })),
    logged: [],
  }
  const c = withAlerts([
    { name: 'all', severity: 'info', providerRef: { name: 'all' } },
    { name: 'warn', severity: 'warn', providerRef: { name: 'warn' } },
    { name: 'err', severity: 'error', providerRef: { name: 'err' } },
    { name: 'default', providerRef: { name: 'default' } },
  ])
  const sentFor = async (severity: AlertSeverity): Promise<string[]> => {
    const calls = since()
    await sendAlerts(c, severity, `a ${severity} message`, deps(world))
    return calls().map(s => s.path).sort()
  }
  t.same(await sentFor('info'), ['/to-all', '/to-default'])
  t.same(await sentFor('warn'), ['/to-all', '/to-default', '/to-warn'])
  t.same(await sentFor('error'), ['/to-all', '/to-default', '/to-err', '/to-warn'])
  t.match(lastBody(), { canary: 'podinfo', namespace: 'test', phase: 'Failed' })
})

t.test('providerRef.namespace defaults to the canary\'s; another namespace is used as given', async t => {
  const world: World = {
    providers: [provider('shared', { type: 'webhook', address: `${base}/ops` }, 'ops'), provider('local', { type: 'webhook', address: `${base}/local` })],
    logged: [],
  }
  const calls = since()
  await sendAlerts(withAlerts([
    { name: 'a', providerRef: { name: 'local' } },
    { name: 'b', providerRef: { name: 'shared', namespace: 'ops' } },
    { name: 'c', providerRef: { name: 'shared' } },
  ]), 'info', 'hi', deps(world))
  t.same(calls().map(s => s.path).sort(), ['/local', '/ops'])
  t.same(world.logged.map(l => l.obj), [{ canary: 'test/podinfo', alert: 'c', provider: 'test/shared', error: 'AlertProvider test/shared does not exist' }])
})

t.test('a failed post is logged with the provider\'s name, never its address or token', async t => {
  const world: World = {
    providers: [
      provider('slack', { type: 'slack', secretRef: { name: 'slack-url' } }),
      provider('teams', { type: 'msteams', address: `http://127.0.0.1:${closedPort}/webhookb2/s3cr3t-path` }),
      provider('nosecret', { type: 'gchat', secretRef: { name: 'missing' } }),
    ],
    secrets: { 'test/slack-url': { address: `${base}/fail?token=t0k3n` } },
    logged: [],
  }
  await sendAlerts(withAlerts([
    { name: 'a', providerRef: { name: 'slack' } },
    { name: 'b', providerRef: { name: 'teams' } },
    { name: 'c', providerRef: { name: 'nosecret' } },
  ]), 'error', 'boom', deps(world))
  const byAlert = Object.fromEntries(world.logged.map(l => [(l.obj as { alert: string }).alert, l]))
  t.same(byAlert.a, { msg: 'alert not delivered', obj: { canary: 'test/podinfo', alert: 'a', provider: 'test/slack', error: 'AlertProvider test/slack: Slack answered HTTP 500: internal error' } })
  t.match((byAlert.b?.obj as { error: string }).error, /^AlertProvider test\/teams: got no answer: connection refused \(ECONNREFUSED\)$/)
  t.same((byAlert.c?.obj as { error: string }).error, 'AlertProvider test/nosecret: Secret test/missing (spec.secretRef) does not exist; create it or fix the name')
  const text = JSON.stringify(world.logged)
  for (const leak of ['t0k3n', 's3cr3t', '127.0.0.1', '/fail']) t.notMatch(text, leak)
})

t.test('sendAlerts never throws', async t => {
  const world: World = { providers: [provider('s', { type: 'slack', secretRef: { name: 'x' } })], logged: [] }
  const c = withAlerts([{ name: 'a', providerRef: { name: 's' } }])
  await t.resolves(sendAlerts(c, 'error', 'x', deps(world, { getProvider: () => { throw new Error('cache not synced') } })))
  t.match((world.logged.at(-1)?.obj as { error: string }).error, 'AlertProvider test/s: unexpected Error')
  await t.resolves(sendAlerts(c, 'error', 'x', deps(world, { getSecret: () => Promise.reject(new Error('forbidden: secrets "x"')) })))
  t.equal((world.logged.at(-1)?.obj as { error: string }).error, 'AlertProvider test/s: could not read Secret test/x')
  const throwingFetch = (() => { throw new Error('synchronous failure') }) as unknown as typeof fetch
  await t.resolves(sendAlerts(c, 'error', 'x', deps({ ...world, secrets: { 'test/x': { address: `${base}/s` } } }, { fetch: throwingFetch })))
  await t.resolves(sendAlerts(c, 'error', 'x', deps(world, { logger: { warn: () => { throw new Error('logger down') } } })))
  await t.resolves(sendAlerts({ metadata: {}, spec: null } as unknown as Canary, 'error', 'x', deps(world)))
  await t.resolves(sendAlerts(withAlerts([]), 'error', 'nothing configured', deps(world)))
})
