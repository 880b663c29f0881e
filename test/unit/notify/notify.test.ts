// Alert providers against a local HTTP server: where each type posts, where the address and the proxy come
// from, what counts as delivered, severity filtering, and that sending never throws nor tells an address
// or a token (webhook URLs carry tokens) in a log line or an error.
import t from 'tap'
import { createServer, type IncomingMessage } from 'node:http'
import type { Socket } from 'node:net'
import { admits, alertAddress, alertProxy, createNotifier, NotifyError, sendAlerts } from '../../../src/notify/index.ts'
import type { AlertDeps, AlertFailure } from '../../../src/notify/index.ts'
import { ALERT_PROVIDER_NOTIFIERS } from '../../../src/notify/registry.ts'
import { IMPLEMENTED_ALERT_PROVIDERS } from '../../../src/api/capabilities.ts'
import type { AlertProvider, AlertProviderSpec, AlertSeverity, Canary, CanaryAlert } from '../../../src/api/types.ts'
import { freePort } from '../../cluster/process.ts'
import { startHttpServer, type Reply } from '../../helpers/http-server.ts'
import { canary } from '../../helpers/objects.ts'

const replies: Record<string, Reply> = {
  '/fail': res => { res.writeHead(500).end('internal error') },
  '/gone': res => { res.writeHead(404).end('no_service') },
  '/slack-api': res => { res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"ok":false,"error":"channel_not_found"}') },
  '/slack-api-ok': res => { res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"ok":true,"channel":"C1","ts":"1.2"}') },
  '/rocket-refused': res => { res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"success":false,"error":"invalid-channel"}') },
  '/workflow': res => { res.writeHead(202).end() },
  '/discord': res => { res.writeHead(204).end() },
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
  return canary({ metadata: { namespace: 'test' }, spec: { analysis: { alerts, stepWeight: 10, maxWeight: 50, threshold: 5 } }, status: { phase } })
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

t.test('the registry has a notifier for every type the capability table implements', async t => {
  t.same([...ALERT_PROVIDER_NOTIFIERS].sort(), [...IMPLEMENTED_ALERT_PROVIDERS].sort())
  for (const type of IMPLEMENTED_ALERT_PROVIDERS) {
    const calls = since()
    await createNotifier(provider('p', { type, address: `${base}/any` }), undefined).post(alert)
    t.equal(calls().length, 1, `${type} posts once`)
  }
})

t.test('each type posts JSON to its address in its own format', async t => {
  const post = async (spec: Partial<AlertProviderSpec> & Pick<AlertProviderSpec, 'type'>): Promise<{ url: string; body: Record<string, unknown> }> => {
    const calls = since()
    await createNotifier(provider('p', spec), undefined).post(alert)
    const [s] = calls()
    t.match(s?.headers['content-type'], /^application\/json/, `${spec.type}: JSON`)
    return { url: s?.url ?? '', body: JSON.parse(s?.body ?? 'null') as Record<string, unknown> }
  }
  const slack = await post({ type: 'slack', address: `${base}/services/T0/B0/xyz`, channel: 'deploys', username: 'bot' })
  t.equal(slack.url, '/services/T0/B0/xyz')
  t.match(slack.body, { channel: 'deploys', username: 'bot', attachments: [{ color: 'danger', author_name: 'podinfo.test' }] })
  const defaults = await post({ type: 'slack', address: `${base}/s` })
  t.match(defaults.body, { channel: 'general', username: 'sluice' }, 'Slack defaults as Flagger')

  const rocket = await post({ type: 'rocket', address: `${base}/hooks/abc/def`, username: 'deployer' })
  t.equal(rocket.url, '/hooks/abc/def', 'Rocket.Chat at the address itself')
  t.match(rocket.body, { alias: 'deployer', attachments: [{ title: 'podinfo.test', text: 'Failed checks threshold reached 5' }] })
  t.notOk('channel' in rocket.body, 'no channel: the integration\'s own')
  t.match((await post({ type: 'rocket', address: `${base}/hooks/a/b`, channel: '#ops' })).body, { alias: 'sluice', channel: '#ops' })

  const teams = await post({ type: 'msteams', address: `${base}/workflow` })
  t.match(teams.body, { type: 'message', attachments: [{ contentType: 'application/vnd.microsoft.card.adaptive' }] }, '202 (Workflows) is success')

  const gchat = await post({ type: 'gchat', address: `${base}/v1/spaces/AAA/messages?key=k&token=t` })
  t.equal(gchat.url, '/v1/spaces/AAA/messages?key=k&token=t', 'the query string (key and token) kept')
  t.match(gchat.body, { cardsV2: [{ card: { header: { title: 'podinfo.test' } } }] })

  const webhook = await post({ type: 'webhook', address: `${base}/incidents` })
  t.match(webhook.body, { kind: 'sluice.dev/alert', canary: 'podinfo', severity: 'error', phase: 'Failed' })
})

t.test('discord: the webhook itself with wait=true, its query kept, a Flagger-era /slack suffix removed', async t => {
  const urlFor = async (address: string): Promise<string> => {
    const calls = since()
    await createNotifier(provider('d', { type: 'discord', address, username: 'deploys' }), undefined).post(alert)
    return calls()[0]?.url ?? ''
  }
  t.equal(await urlFor(`${base}/discord`), '/discord?wait=true', 'a 204 is success too')
  t.equal(await urlFor(`${base}/api/webhooks/1/tok?thread_id=9`), '/api/webhooks/1/tok?thread_id=9&wait=true')
  t.equal(await urlFor(`${base}/api/webhooks/1/tok/slack`), '/api/webhooks/1/tok?wait=true')
  t.match(lastBody(), { username: 'deploys', embeds: [{ title: 'podinfo.test' }], allowed_mentions: { parse: [] } })
})

t.test('slack with a token: Bearer header, and chat.postMessage\'s ok:false is a failure', async t => {
  const p = provider('s', { type: 'slack', secretRef: { name: 'slack-bot' } })
  await createNotifier(p, { address: `${base}/slack-api-ok`, token: 'xoxb-1\n' }).post(alert)
  t.equal(seen.at(-1)?.headers.authorization, 'Bearer xoxb-1')
  await t.rejects(createNotifier(p, { address: `${base}/slack-api`, token: 'xoxb-1' }).post(alert),
    { name: 'NotifyError', message: 'AlertProvider test/s: Slack refused the message: channel_not_found' })
  await createNotifier(provider('s', { type: 'slack', address: `${base}/s` }), undefined).post(alert)
  t.equal(seen.at(-1)?.headers.authorization, undefined, 'no token, no header')
})

t.test('rocket: a 200 that says success:false is a failure', async t => {
  await t.rejects(createNotifier(provider('r', { type: 'rocket', address: `${base}/rocket-refused` }), undefined).post(alert),
    { message: 'AlertProvider test/r: Rocket.Chat refused the message: invalid-channel' })
})

t.test('a non-2xx answer is a NotifyError naming the provider, service and status', async t => {
  await t.rejects(createNotifier(provider('s', { type: 'slack', address: `${base}/gone` }), undefined).post(alert),
    { name: 'NotifyError', message: 'AlertProvider test/s: Slack answered HTTP 404: no_service' })
  await t.rejects(createNotifier(provider('w', { type: 'webhook', address: `${base}/fail` }), undefined).post(alert),
    { message: 'AlertProvider test/w: the webhook answered HTTP 500: internal error' })
  await t.rejects(createNotifier(provider('d', { type: 'discord', address: `${base}/fail` }), undefined).post(alert),
    { message: 'AlertProvider test/d: Discord answered HTTP 500: internal error' })
})

t.test('a slow service times out', async t => {
  const n = createNotifier(provider('g', { type: 'gchat', address: `${base}/slow` }), undefined, { timeoutMs: 200 })
  await t.rejects(n.post(alert), { message: 'AlertProvider test/g: timed out after 200ms' })
})

t.test('the Secret\'s address and proxy win over the spec\'s', async t => {
  const p = provider('s', { type: 'slack', address: `${base}/from-spec`, proxy: 'http://spec-proxy:3128', secretRef: { name: 'hook' } })
  t.equal(alertAddress(p, { address: ` ${base}/from-secret\n` }), `${base}/from-secret`)
  t.equal(alertAddress(p, { token: 'x' }), `${base}/from-spec`, 'a Secret without address: spec.address')
  t.equal(alertProxy(p, { proxy: 'http://secret-proxy:3128\n' }), 'http://secret-proxy:3128')
  t.equal(alertProxy(p, {}), 'http://spec-proxy:3128')
  t.equal(alertProxy(provider('s', { type: 'slack' }), undefined), undefined)
  t.throws(() => alertAddress(provider('s', { type: 'slack', secretRef: { name: 'hook' } }), {}),
    { message: 'AlertProvider test/s has no address; set spec.address, or the address key of Secret test/hook' })
  t.throws(() => alertAddress(provider('s', { type: 'slack' }), undefined),
    { message: 'AlertProvider test/s has no address; set spec.address, or spec.secretRef to a Secret with an address key' })

  const calls = since()
  const world: World = { providers: [provider('s', { type: 'slack', address: `${base}/from-spec`, secretRef: { name: 'hook' } })], secrets: { 'test/hook': { address: `${base}/from-secret` } }, logged: [] }
  t.same(await sendAlerts(withAlerts([{ name: 'on-call', providerRef: { name: 's' } }]), 'error', 'boom', deps(world)), [])
  t.same(calls().map(s => s.path), ['/from-secret'])
  t.same(world.logged, [])
})

t.test('construction errors: bad scheme, bad proxy, unknown type; the address is never quoted', async t => {
  t.throws(() => createNotifier(provider('s', { type: 'slack', address: 'ftp://hooks.example/T0/B0/s3cr3t' }), undefined),
    new NotifyError('AlertProvider test/s: address must be an http:// or https:// URL, not ftp'))
  t.throws(() => createNotifier(provider('s', { type: 'slack', address: `${base}/x`, proxy: 'socks5://user:pw@proxy:1080' }), undefined),
    { message: 'AlertProvider test/s: proxy must be an http:// or https:// URL, not socks5' })
  t.throws(() => createNotifier(provider('s', { type: 'pager' as 'slack', address: `${base}/x` }), undefined),
    { message: 'AlertProvider test/s: spec.type "pager" is not an alert provider type; available: slack, msteams, discord, rocket, gchat, webhook' })
  t.throws(() => createNotifier(provider('s', { type: 'slack', address: 'hooks.example/s3cr3t' }), undefined),
    { message: 'AlertProvider test/s: address is not a URL; use http(s)://host[:port]/path' })
})

t.test('proxy: an http:// address goes to the proxy in absolute form, from the spec or the Secret', async t => {
  const calls = since()
  await createNotifier(provider('p', { type: 'webhook', address: 'http://alerts.invalid:8080/in?k=1', proxy: base }), undefined).post(alert)
  const [s] = calls()
  t.equal(s?.url, 'http://alerts.invalid:8080/in?k=1', 'the proxy received the absolute URL')
  t.equal(s?.headers.host, 'alerts.invalid:8080')
  t.match(JSON.parse(s?.body ?? '{}'), { kind: 'sluice.dev/alert' })
  const secretProxy = since()
  await createNotifier(provider('p', { type: 'gchat', address: 'http://alerts.invalid/in', secretRef: { name: 'x' } }), { proxy: base }).post(alert)
  t.equal(secretProxy()[0]?.url, 'http://alerts.invalid/in', 'a proxy key in the Secret works too')
  const withAuth = since()
  const authed = base.replace('http://', 'http://ops:pa%24s@')
  await createNotifier(provider('p', { type: 'webhook', address: 'http://alerts.invalid/auth', proxy: authed }), undefined).post(alert)
  t.equal(withAuth()[0]?.headers['proxy-authorization'], `Basic ${Buffer.from('ops:pa$s').toString('base64')}`, 'the proxy\'s userinfo as Proxy-Authorization')
  await t.rejects(createNotifier(provider('p', { type: 'webhook', address: 'http://alerts.invalid/fail', proxy: base }), undefined).post(alert),
    { message: 'AlertProvider test/p: the webhook answered HTTP 500: internal error' })
})

t.test('proxy: an https:// address is tunnelled with CONNECT; a refused tunnel is reported without the address', async t => {
  const connects: { target: string; auth: string | undefined }[] = []
  const proxy = createServer()
  proxy.on('connect', (req: IncomingMessage, socket: Socket) => {
    connects.push({ target: req.url ?? '', auth: req.headers['proxy-authorization'] })
    socket.end('HTTP/1.1 403 Forbidden\r\n\r\n')
  })
  await new Promise<void>(res => proxy.listen(0, '127.0.0.1', res))
  t.teardown(() => new Promise<void>(res => { proxy.closeAllConnections(); proxy.close(() => res()) }))
  const port = (proxy.address() as { port: number }).port
  const n = createNotifier(provider('p', { type: 'slack', address: 'https://hooks.invalid/services/T0/B0/s3cr3t', proxy: `http://127.0.0.1:${port}` }), undefined)
  const failure = await n.post(alert).then(() => undefined, (e: unknown) => e as Error)
  t.same(connects, [{ target: 'hooks.invalid:443', auth: undefined }])
  t.match(failure, { name: 'NotifyError', message: /^AlertProvider test\/p: got no answer: / })
  t.notMatch(failure?.message ?? '', /s3cr3t|hooks\.invalid/)
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
  t.match(lastBody(), {
    canary: 'podinfo', namespace: 'test', phase: 'Failed',
    fields: [{ name: 'Target', value: 'Deployment/podinfo.test' }, { name: 'Failed checks threshold', value: '5' }, { name: 'Progress deadline', value: '600s' },
      { name: 'Traffic routing', value: 'Weight step: 10 max: 50 interval: 1m' }],
  }, 'the Canary\'s fields go with every alert')
})

t.test('providerRef.namespace defaults to the canary\'s; another namespace is used as given', async t => {
  const world: World = {
    providers: [provider('shared', { type: 'webhook', address: `${base}/ops` }, 'ops'), provider('local', { type: 'webhook', address: `${base}/local` })],
    logged: [],
  }
  const calls = since()
  const failures = await sendAlerts(withAlerts([
    { name: 'a', providerRef: { name: 'local' } },
    { name: 'b', providerRef: { name: 'shared', namespace: 'ops' } },
    { name: 'c', providerRef: { name: 'shared' } },
  ]), 'info', 'hi', deps(world))
  t.same(calls().map(s => s.path).sort(), ['/local', '/ops'])
  t.same(world.logged.map(l => l.obj), [{ canary: 'test/podinfo', alert: 'c', provider: 'test/shared', error: 'AlertProvider test/shared does not exist' }])
  t.same(failures, [{ alert: 'c', provider: 'test/shared', message: 'alert "c" not delivered: AlertProvider test/shared does not exist' }])
})

t.test('a failed post is returned and logged with the provider\'s name, never its address or token', async t => {
  const world: World = {
    providers: [
      provider('slack', { type: 'slack', secretRef: { name: 'slack-url' } }),
      provider('teams', { type: 'msteams', address: `http://127.0.0.1:${closedPort}/webhookb2/s3cr3t-path` }),
      provider('nosecret', { type: 'gchat', secretRef: { name: 'missing' } }),
      provider('discord', { type: 'discord', secretRef: { name: 'discord-url' } }),
    ],
    secrets: {
      'test/slack-url': { address: `${base}/fail?token=t0k3n`, token: 'xoxb-s3cr3t' },
      'test/discord-url': { address: `http://127.0.0.1:${closedPort}/api/webhooks/1/d1sc0rd-t0k3n`, proxy: `http://user:pr0xy-pw@127.0.0.1:${closedPort}` },
    },
    logged: [],
  }
  const failures = await sendAlerts(withAlerts([
    { name: 'a', providerRef: { name: 'slack' } },
    { name: 'b', providerRef: { name: 'teams' } },
    { name: 'c', providerRef: { name: 'nosecret' } },
    { name: 'd', providerRef: { name: 'discord' } },
  ]), 'error', 'boom', deps(world))
  const byAlert = Object.fromEntries(world.logged.map(l => [(l.obj as { alert: string }).alert, l]))
  t.same(byAlert.a, { msg: 'alert not delivered', obj: { canary: 'test/podinfo', alert: 'a', provider: 'test/slack', error: 'AlertProvider test/slack: Slack answered HTTP 500: internal error' } })
  t.match((byAlert.b?.obj as { error: string }).error, /^AlertProvider test\/teams: got no answer: connection refused \(ECONNREFUSED\)$/)
  t.same((byAlert.c?.obj as { error: string }).error, 'AlertProvider test/nosecret: Secret test/missing (spec.secretRef) does not exist; create it or fix the name')
  t.match((byAlert.d?.obj as { error: string }).error, /^AlertProvider test\/discord: got no answer: /)
  t.same(failures.map((f: AlertFailure) => f.alert).sort(), ['a', 'b', 'c', 'd'])
  t.equal(failures.find(f => f.alert === 'a')?.message, 'alert "a" not delivered: AlertProvider test/slack: Slack answered HTTP 500: internal error')
  const text = JSON.stringify([world.logged, failures])
  for (const leak of ['t0k3n', 's3cr3t', 'd1sc0rd', 'pr0xy-pw', '127.0.0.1', '/fail', 'webhooks']) t.notMatch(text, leak)
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
  t.same(await sendAlerts({ metadata: {}, spec: null } as unknown as Canary, 'error', 'x', deps(world)), [])
  t.same(await sendAlerts(withAlerts([]), 'error', 'nothing configured', deps(world)), [])
})
