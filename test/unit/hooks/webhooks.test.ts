// Analysis webhooks and gates against a local HTTP server whose answer is chosen by the request path.
import t from 'tap'
import { createServer as createHttpsServer } from 'node:https'
import { createCA, createLeaf } from '../../../src/certs/pki.ts'
import { transportFailure } from '../../../src/util/http.ts'
import {
  callWebhook, canaryChecksum, eventPayload, hookPayload, hookTimeoutMs, insecureDispatcher, postEvent, requestInit, runHooks,
} from '../../../src/hooks/webhooks.ts'
import type { Canary, CanaryWebhook, HookType } from '../../../src/api/types.ts'
import { freePort } from '../../cluster/process.ts'
import { startHttpServer, type Reply } from '../../helpers/http-server.ts'
import { canary } from '../../helpers/objects.ts'

const counts = new Map<string, number>()
const replies: Record<string, Reply> = {
  '/ok': res => { res.writeHead(200).end('fine') },
  '/created': res => { res.writeHead(201).end() },
  '/accepted': res => { res.writeHead(202).end() },
  '/no-content': res => { res.writeHead(204).end() },
  '/closed': res => { res.writeHead(403, { 'Content-Type': 'text/plain' }).end('gate   closed\nfor podinfo.test') },
  '/busy': res => { res.writeHead(503).end(`${'x'.repeat(250)}TAIL`) },
  '/empty-error': res => { res.writeHead(500).end() },
  '/slow': res => { setTimeout(() => res.writeHead(200).end(), 2000).unref() },
  '/redirect': res => { res.writeHead(302, { Location: 'http://elsewhere.example/final?token=sekrit' }).end() },
  // Fails with 503 twice, then answers 200.
  '/flaky': (res, s) => {
    const n = (counts.get(s.url) ?? 0) + 1
    counts.set(s.url, n)
    if (n <= 2) res.writeHead(503).end('warming up')
    else res.writeHead(200).end()
  },
}
const server = await startHttpServer(t, replies)
const { base, since } = server
// A port nothing listens on: connections to it are refused.
const closedPort = await freePort()

/** The Canary podinfo in `test` with `webhooks`, progressing; `status` replaces fields of its status whole. */
function withHooks(webhooks: CanaryWebhook[], status: Canary['status'] = {}): Canary {
  return canary({
    metadata: { namespace: 'test' }, spec: { analysis: { webhooks } },
    status: { phase: 'Progressing', lastAppliedSpec: 'abc123', trackedConfigs: { 'configmap/cfg': 'h1' }, ...status },
  })
}

const hook = (name: string, path: string, type: HookType | '' | undefined = 'rollout', extra: Partial<CanaryWebhook> = {}): CanaryWebhook =>
  ({ name, url: `${base}${path}`, ...(type !== undefined && { type }), ...extra })


t.test('the payload is Flagger\'s: name, namespace, phase, checksum, metadata, POSTed as JSON', async t => {
  const calls = since()
  const c = withHooks([hook('load', '/ok', 'rollout', { metadata: { type: 'cmd', cmd: 'hey -z 1m http://podinfo-canary.test:9898/' } })])
  const out = await runHooks(c, 'rollout', { phase: 'Progressing', checksum: 'sum-1' })
  t.same(out, [{ kind: 'hook', type: 'rollout', name: 'load', verdict: 'pass', message: `POST ${base}/ok answered HTTP 200` }])
  const [s] = calls()
  t.equal(s?.method, 'POST')
  t.match(s?.headers['content-type'], /^application\/json/)
  t.strictSame(JSON.parse(s?.body ?? ''), {
    name: 'podinfo', namespace: 'test', phase: 'Progressing', checksum: 'sum-1',
    metadata: { type: 'cmd', cmd: 'hey -z 1m http://podinfo-canary.test:9898/' },
  })
})

t.test('phase defaults to the status phase, checksum to the revision hash, metadata to {}', async t => {
  const c = withHooks([hook('h', '/ok')], { phase: 'Waiting' })
  const p = hookPayload(c, c.spec.analysis!.webhooks![0]!)
  t.strictSame(p, { name: 'podinfo', namespace: 'test', phase: 'Waiting', checksum: canaryChecksum(c), metadata: {} })
  t.match(p.checksum, /^[0-9a-f]{10}$/)
  t.not(canaryChecksum(withHooks([], { lastAppliedSpec: 'other' })), p.checksum, 'a new revision changes the checksum')
  t.equal(canaryChecksum(withHooks([], { trackedConfigs: { b: '2', a: '1' } })), canaryChecksum(withHooks([], { trackedConfigs: { a: '1', b: '2' } })),
    'key order does not matter')
})

t.test('type "" and an absent type are rollout hooks; other types are not called', async t => {
  const calls = since()
  const c = withHooks([hook('empty', '/ok', ''), hook('absent', '/ok', undefined), hook('gate', '/ok', 'confirm-rollout')])
  const out = await runHooks(c, 'rollout')
  t.same(out.map(o => o.name), ['empty', 'absent'])
  t.equal(calls().length, 2)
  t.same(await runHooks(c, 'pre-rollout'), [], 'no hooks of a type: no outcomes')
})

t.test('hooks run in order and stop at the first failure', async t => {
  const calls = since()
  const c = withHooks([hook('a', '/ok'), hook('b', '/closed'), hook('c', '/ok')])
  const out = await runHooks(c, 'rollout')
  t.same(out.map(o => [o.name, o.verdict]), [['a', 'pass'], ['b', 'fail']])
  t.same(calls().map(s => s.path), ['/ok', '/closed'], 'c was never called')
})

t.test('a failure names the URL, the status and the first 200 characters of the body', async t => {
  const [closed] = await runHooks(withHooks([hook('gate', '/closed')]), 'rollout')
  t.equal(closed?.message, `POST ${base}/closed answered HTTP 403: gate closed for podinfo.test`)
  const [busy] = await runHooks(withHooks([hook('busy', '/busy')]), 'rollout')
  t.equal(busy?.message, `POST ${base}/busy answered HTTP 503: ${'x'.repeat(200)}`)
  const [empty] = await runHooks(withHooks([hook('e', '/empty-error')]), 'rollout')
  t.equal(empty?.message, `POST ${base}/empty-error answered HTTP 500`)
})

t.test('200, 201 and 202 pass; another 2xx fails and says why (Flagger: StatusCode > 202 is an error)', async t => {
  const out = await runHooks(withHooks([hook('a', '/ok'), hook('b', '/created'), hook('c', '/accepted'), hook('d', '/no-content')]), 'rollout')
  t.same(out.map(o => o.verdict), ['pass', 'pass', 'pass', 'fail'])
  t.equal(out[3]?.message, `POST ${base}/no-content answered HTTP 204: only 200, 201 and 202 pass (as in Flagger)`)
  const [rollback] = await runHooks(withHooks([hook('r', '/no-content', 'rollback')]), 'rollback')
  t.equal(rollback?.verdict, 'fail', 'a rollback hook answering 204 does not roll back')
})

t.test('a slow hook times out after its own timeout', async t => {
  const started = Date.now()
  const [o] = await runHooks(withHooks([hook('slow', '/slow', 'rollout', { timeout: '200ms' })]), 'rollout')
  t.equal(o?.verdict, 'fail')
  t.equal(o?.message, `POST ${base}/slow timed out after 200ms`)
  t.ok(Date.now() - started < 1500, 'did not wait for the answer')
})

t.test('the default timeout is 10s', async t => {
  t.equal(hookTimeoutMs({ name: 'h', url: base }), 10_000)
  t.equal(hookTimeoutMs({ name: 'h', url: base, timeout: '30s' }), 30_000)
  t.equal(hookTimeoutMs({ name: 'h', url: base, timeout: 'soon' }), 10_000, 'unreadable: the default')
  t.equal(hookTimeoutMs({ name: 'h', url: base, timeout: '0s' }), 10_000, 'zero: the default')
  let signal: AbortSignal | undefined
  const fakeFetch = (async (_url: string, init: RequestInit) => {
    signal = init.signal ?? undefined
    throw new DOMException('The operation was aborted due to timeout', 'TimeoutError')
  }) as unknown as typeof fetch
  const [o] = await runHooks(withHooks([hook('h', '/ok')]), 'rollout', { fetch: fakeFetch })
  t.ok(signal, 'a timeout signal is passed')
  t.equal(o?.message, `POST ${base}/ok timed out after 10s`)
})

t.test('retries: extra attempts on 5xx, then pass', async t => {
  const calls = since()
  const [o] = await runHooks(withHooks([hook('flaky', '/flaky?case=pass', 'rollout', { retries: 2 })]), 'rollout', { retryDelayMs: 5 })
  t.equal(o?.verdict, 'pass')
  t.equal(calls().length, 3)
  t.equal(o?.message, `POST ${base}/flaky answered HTTP 200 (3 attempts)`)
})

t.test('retries: exhausted, the last answer is reported with the number of attempts', async t => {
  const calls = since()
  const [o] = await runHooks(withHooks([hook('flaky', '/flaky?case=fail', 'rollout', { retries: 1 })]), 'rollout', { retryDelayMs: 5 })
  t.equal(o?.verdict, 'fail')
  t.equal(calls().length, 2)
  t.equal(o?.message, `POST ${base}/flaky answered HTTP 503 (2 attempts): warming up`)
})

t.test('retries: a 4xx answer is final (a closed gate is not asked again)', async t => {
  const calls = since()
  const [o] = await runHooks(withHooks([hook('gate', '/closed', 'confirm-promotion', { retries: 3 })]), 'confirm-promotion', { retryDelayMs: 5 })
  t.equal(o?.verdict, 'fail')
  t.equal(calls().length, 1)
})

t.test('retries: connection errors and timeouts are retried', async t => {
  let calls = 0
  const counting = ((...args: Parameters<typeof fetch>) => { calls++; return fetch(...args) }) as typeof fetch
  const w = { name: 'gone', url: `http://127.0.0.1:${closedPort}/hook`, retries: 2 }
  const [o] = await runHooks(withHooks([w]), 'rollout', { fetch: counting, retryDelayMs: 5 })
  t.equal(calls, 3)
  t.equal(o?.message, `POST http://127.0.0.1:${closedPort}/hook got no answer (3 attempts): connection refused (ECONNREFUSED)`)
  const slow = since()
  const [s] = await runHooks(withHooks([hook('slow', '/slow', 'rollout', { timeout: '100ms', retries: 1 })]), 'rollout', { retryDelayMs: 5 })
  t.equal(slow().length, 2)
  t.equal(s?.message, `POST ${base}/slow timed out after 100ms (2 attempts)`)
})

t.test('credentials in the URL are sent but never printed', async t => {
  const calls = since()
  const port = base.split(':')[2]
  const w = { name: 'auth', url: `http://ci-user:s3cr3t@127.0.0.1:${port}/closed?token=t0k3n#frag` }
  const [o] = await runHooks(withHooks([w]), 'rollout')
  const [s] = calls()
  t.equal(s?.headers.authorization, `Basic ${Buffer.from('ci-user:s3cr3t').toString('base64')}`)
  t.equal(s?.url, '/closed?token=t0k3n', 'the query string is sent')
  t.equal(o?.message, `POST ${base}/closed answered HTTP 403: gate closed for podinfo.test`)
  for (const secret of ['s3cr3t', 'ci-user', 't0k3n', 'frag']) t.notMatch(o?.message ?? '', secret)
})

t.test('a redirect fails, naming where to without its query string', async t => {
  const [o] = await runHooks(withHooks([hook('r', '/redirect')]), 'rollout')
  t.equal(o?.verdict, 'fail')
  t.equal(o?.message, `POST ${base}/redirect answered HTTP 302: a redirect to http://elsewhere.example/final; sluice does not follow redirects, so give the hook its final URL`)
})

t.test('only http and https URLs are called', async t => {
  let called = false
  const spy = (async () => { called = true; return new Response() }) as unknown as typeof fetch
  const [ftp] = await runHooks(withHooks([{ name: 'f', url: 'ftp://user:pw@files.example/x' }]), 'rollout', { fetch: spy })
  t.same(ftp, { kind: 'hook', type: 'rollout', name: 'f', verdict: 'fail', message: 'url must be an http:// or https:// URL, not ftp' })
  const [junk] = await runHooks(withHooks([{ name: 'j', url: 'not a url' }]), 'rollout', { fetch: spy })
  t.equal(junk?.message, 'url is not a URL; use http(s)://host[:port]/path')
  t.equal(called, false)
})

t.test('disableTLS: only that hook skips certificate verification', async t => {
  // A server whose certificate comes from a CA nobody trusts, as a self-signed one would.
  const ca = createCA('untrusted test CA', 3600)
  const leaf = createLeaf(ca, { commonName: 'localhost', ipAddresses: ['127.0.0.1'], usage: 'server', lifetimeSeconds: 3600 })
  const tls = createHttpsServer({ cert: leaf.certPem, key: leaf.keyPem }, (req, res) => {
    req.resume().on('end', () => res.writeHead(200).end('open'))
  })
  await new Promise<void>(res => tls.listen(0, '127.0.0.1', res))
  t.teardown(() => new Promise<void>(res => { tls.closeAllConnections(); tls.close(() => res()) }))
  const url = `https://127.0.0.1:${(tls.address() as { port: number }).port}/gate`
  const verified = { name: 'verified', url, type: 'confirm-rollout' as const }
  const insecure = { ...verified, name: 'insecure', disableTLS: true }

  const [refused] = await runHooks(withHooks([{ ...verified, retries: 2 }]), 'confirm-rollout', { retryDelayMs: 1 })
  t.equal(refused?.verdict, 'fail')
  // One attempt despite retries: a refused certificate is refused again (no "(3 attempts)").
  t.equal(refused?.message, `POST ${url} got no answer: TLS certificate not accepted (UNABLE_TO_VERIFY_LEAF_SIGNATURE); ` +
    'give the hook a certificate from a CA in NODE_EXTRA_CA_CERTS, or set disableTLS: true to skip verification for this hook')

  const [skipped] = await runHooks(withHooks([insecure]), 'confirm-rollout')
  t.same(skipped, { kind: 'hook', type: 'confirm-rollout', name: 'insecure', verdict: 'pass', message: `POST ${url} answered HTTP 200` })

  // After the insecure call, in the same run and after it: the others still verify.
  const both = await runHooks(withHooks([{ ...insecure, type: 'rollback' }, { ...verified, type: 'rollback' }]), 'rollback')
  t.same(both.map(o => [o.name, o.verdict]), [['insecure', 'pass']], 'a rollback run stops at its first pass')
  const mixed = await runHooks(withHooks([{ ...insecure, type: 'rollout' }, { ...verified, type: 'rollout' }]), 'rollout')
  t.same(mixed.map(o => [o.name, o.verdict]), [['insecure', 'pass'], ['verified', 'fail']])
  const [again] = await runHooks(withHooks([verified]), 'confirm-rollout')
  t.match(again?.message, /TLS certificate not accepted/)
  const direct = await fetch(url, { method: 'POST', body: '{}' }).then(() => 'answered', (e: unknown) => transportFailure(e).kind)
  t.equal(direct, 'tls', 'the process-wide fetch still verifies')
})

t.test('only a disableTLS hook gets the dispatcher that skips verification', async t => {
  const target = { url: 'https://gate.example/', headers: {}, display: 'https://gate.example/' }
  t.equal(requestInit(target, '{}', { name: 'a', url: target.url }, 1000).dispatcher, undefined)
  t.equal(requestInit(target, '{}', { name: 'a', url: target.url, disableTLS: false }, 1000).dispatcher, undefined)
  t.equal(requestInit(target, '{}', { name: 'a', url: target.url, disableTLS: true }, 1000).dispatcher, insecureDispatcher())
})

t.test('an unknown error never leaks the URL it quotes', async t => {
  const leaky = (async (url: string) => { throw new TypeError(`bad request to ${url}`) }) as unknown as typeof fetch
  const [o] = await runHooks(withHooks([{ name: 'x', url: `${base}/ok?token=t0k3n` }]), 'rollout', { fetch: leaky })
  t.equal(o?.message, `POST ${base}/ok got no answer: bad request to <url>`)
})

t.test('gates: 200-202 is open (pass), anything else is closed (fail)', async t => {
  for (const type of ['confirm-rollout', 'confirm-promotion', 'confirm-traffic-increase'] as const) {
    const open = await runHooks(withHooks([hook('g', '/ok', type)]), type)
    t.same(open.map(o => [o.type, o.verdict]), [[type, 'pass']], `${type} open`)
    const accepted = await runHooks(withHooks([hook('g', '/accepted', type)]), type)
    t.equal(accepted[0]?.verdict, 'pass', `${type} 202 is open`)
    const closed = await runHooks(withHooks([hook('g', '/closed', type), hook('h', '/ok', type)]), type)
    t.same(closed.map(o => [o.name, o.verdict]), [['g', 'fail']], `${type} closed stops there`)
  }
})

t.test('rollback hooks stop at the first open one; closed ones do not hide the next', async t => {
  const calls = since()
  const out = await runHooks(withHooks([hook('a', '/closed', 'rollback'), hook('b', '/ok', 'rollback'), hook('c', '/ok', 'rollback')]), 'rollback')
  t.same(out.map(o => [o.name, o.verdict]), [['a', 'fail'], ['b', 'pass']])
  t.equal(calls().length, 2)
})

t.test('callWebhook reports ok and a message', async t => {
  const w = hook('x', '/ok')
  t.same(await callWebhook(w, hookPayload(withHooks([w]), w)), { ok: true, message: `POST ${base}/ok answered HTTP 200` })
})

t.test('event hooks: Flagger\'s event payload to each event hook, the event\'s keys winning', async t => {
  const calls = since()
  const c = withHooks([
    hook('ev', '/ok', 'event', { metadata: { cluster: 'prod-eu', eventType: 'ignored' } }),
    hook('ev2', '/accepted', 'event'),
    hook('load', '/ok', 'rollout'),
  ])
  const before = Date.now()
  await postEvent(c, { type: 'Warning', reason: 'Halted', message: 'request-success-rate 91% is below the minimum 99%' }, { checksum: 'c1' })
  const bodies = calls().map(s => JSON.parse(s.body) as { metadata: Record<string, string> })
  t.equal(bodies.length, 2, 'only event hooks')
  const first = bodies[0]!
  t.match(first, { name: 'podinfo', namespace: 'test', phase: 'Progressing', checksum: 'c1' })
  t.match(first.metadata, {
    cluster: 'prod-eu', eventType: 'Warning', eventReason: 'Halted', eventMessage: 'request-success-rate 91% is below the minimum 99%',
  })
  const ts = Number(first.metadata.timestamp)
  t.ok(ts >= before && ts <= Date.now(), 'timestamp is unix milliseconds as a string')
  t.type(first.metadata.timestamp, 'string')
})

t.test('event hooks never throw; failures are logged without credentials', async t => {
  const logged: object[] = []
  const logger = { warn: (obj: object) => { logged.push(obj) } }
  const port = base.split(':')[2]
  const c = withHooks([{ name: 'ev', type: 'event', url: `http://u:pw-s3cr3t@127.0.0.1:${port}/closed?key=k3y` }])
  await postEvent(c, { type: 'Normal', reason: 'Synced', message: 'hello' }, { logger })
  t.same(logged, [{ canary: 'test/podinfo', webhook: 'ev', error: `POST ${base}/closed answered HTTP 403: gate closed for podinfo.test` }])
  t.notMatch(JSON.stringify(logged), /s3cr3t|k3y/)
  const throwing = { warn: () => { throw new Error('logger down') } }
  await t.resolves(postEvent(c, { type: 'Normal', reason: 'Synced', message: 'x' }, { logger: throwing }))
  const broken = { metadata: {}, spec: null } as unknown as Canary
  await t.resolves(postEvent(broken, { type: 'Normal', reason: 'Synced', message: 'x' }))
  const w = c.spec.analysis!.webhooks![0]!
  t.equal(eventPayload(c, w, { type: 'Normal', reason: 'R', message: 'm' }).metadata.eventType, 'Normal')
})
