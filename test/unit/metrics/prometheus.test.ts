// The Prometheus client against a tiny in-process server that speaks the HTTP API: one case per API shape.
import t from 'tap'
import { MultipleValuesError, NoValuesError, QueryError } from '../../../src/metrics/provider.ts'
import {
  createPrometheusProvider, parsePrometheusAddress, prometheusAuthFromSecret,
} from '../../../src/metrics/prometheus.ts'
import { freePort } from '../../cluster/process.ts'
import { startHttpServer, type Reply } from '../../helpers/http-server.ts'

const json = (status: number, body: unknown): Reply => res => {
  res.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify(body))
}
const ok = (resultType: string, result: unknown): Reply => json(200, { status: 'success', data: { resultType, result } })
const sample = (v: string, metric: Record<string, string> = {}) => ({ metric, value: [1700000000.123, v] })

// Replies are chosen by the query text, so each test names its own case.
const replies = new Map<string, Reply>()
const queryOf = (body: string): string => new URLSearchParams(body).get('query') ?? ''
const server = await startHttpServer(t, s => replies.get(queryOf(s.body)))
const { seen } = server
const address = server.base
const prom = createPrometheusProvider({ address, timeoutMs: 1000 })

replies.set('one', ok('vector', [sample('99.5', { job: 'a' })]))
replies.set('two', ok('vector', [sample('1', { pod: 'a' }), sample('2', { pod: 'b' })]))
replies.set('empty', ok('vector', []))
replies.set('nan', ok('vector', [sample('NaN')]))
replies.set('inf', ok('vector', [sample('+Inf')]))
replies.set('neginf', ok('scalar', [1700000000, '-Inf']))
replies.set('scalar', ok('scalar', [1700000000, '42']))
replies.set('matrix', ok('matrix', [{ metric: {}, values: [[1, '1'], [2, '2']] }]))
replies.set('string', ok('string', [1, 'hello']))
replies.set('garbage-value', ok('vector', [sample('abc')]))
replies.set('bad', json(400, { status: 'error', errorType: 'bad_data', error: 'invalid parameter "query": 1:5: parse error' }))
replies.set('exec', json(422, { status: 'error', errorType: 'execution', error: 'many-to-many matching not allowed' }))
replies.set('busy', json(503, { status: 'error', errorType: 'timeout', error: 'query timed out in expression evaluation' }))
replies.set('proxy', (res) => { res.writeHead(502, { 'Content-Type': 'text/html' }).end('<html>Bad Gateway</html>') })
replies.set('html200', (res) => { res.writeHead(200, { 'Content-Type': 'text/html' }).end('<html>login</html>') })
replies.set('moved', (res) => { res.writeHead(302, { Location: 'http://login.example/' }).end() })
replies.set('denied', (res) => { res.writeHead(401).end('Unauthorized') })
replies.set('slow', (res, seen) => { setTimeout(() => ok('vector', [sample('1')])(res, seen), 3000).unref() })
replies.set('vector(1)', ok('vector', [sample('1')]))

t.test('one vector series is its value', async t => {
  t.equal(await prom.query('one'), 99.5)
})

t.test('the query is POSTed as a form to /api/v1/query with the timeout', async t => {
  await prom.query('one')
  const s = seen.at(-1)!
  t.equal(s.method, 'POST')
  t.equal(s.url, '/api/v1/query')
  t.equal(new URLSearchParams(s.body).get('timeout'), '1s')
  t.equal(s.headers.authorization, undefined, 'no credentials unless given')
})

t.test('a scalar is its value', async t => {
  t.equal(await prom.query('scalar'), 42)
})

t.test('+Inf and -Inf are infinities, not NaN', async t => {
  t.equal(await prom.query('inf'), Infinity)
  t.equal(await prom.query('neginf'), -Infinity)
})

t.test('two series is MultipleValuesError, never the last one', async t => {
  await t.rejects(prom.query('two'), new MultipleValuesError(2, [{ pod: 'a' }, { pod: 'b' }]))
  await t.rejects(prom.query('two'), { count: 2, message: /2 series \(\{pod="a"\}, \{pod="b"\}\)/ })
})

t.test('an empty result is NoValuesError', async t => {
  await t.rejects(prom.query('empty'), { name: 'NoValuesError', reason: 'empty' })
})

t.test('NaN is NoValuesError', async t => {
  const e = await prom.query('nan').catch((e: unknown) => e)
  t.ok(e instanceof NoValuesError)
  t.equal((e as NoValuesError).reason, 'nan')
})

t.test('a matrix is a query error explaining what an analysis query must return', async t => {
  await t.rejects(prom.query('matrix'), { name: 'QueryError', kind: 'rejected', message: /returned a range vector \(matrix\)/ })
})

t.test('other result types and non-numeric values are unparseable', async t => {
  await t.rejects(prom.query('string'), { kind: 'unparseable', message: /unexpected result type "string"/ })
  await t.rejects(prom.query('garbage-value'), { kind: 'unparseable', message: /not a number: "abc"/ })
  await t.rejects(prom.query('html200'), { kind: 'unparseable', status: 200, message: /HTTP 200 with a body that is not a Prometheus API response/ })
})

t.test('400 and 422 are rejected queries carrying Prometheus\' own error', async t => {
  await t.rejects(prom.query('bad'), {
    kind: 'rejected', status: 400, message: `Prometheus at ${address} rejected the query (HTTP 400 bad_data): invalid parameter "query": 1:5: parse error`,
  })
  await t.rejects(prom.query('exec'), {
    kind: 'rejected', status: 422, message: `Prometheus at ${address} rejected the query (HTTP 422 execution): many-to-many matching not allowed`,
  })
})

t.test('503 says Prometheus could not finish', async t => {
  await t.rejects(prom.query('busy'), {
    kind: 'http', status: 503, message: `Prometheus at ${address} could not finish the query (HTTP 503 timeout): query timed out in expression evaluation`,
  })
})

t.test('a non-Prometheus error body is reported with its status', async t => {
  await t.rejects(prom.query('proxy'), { kind: 'http', status: 502, message: `Prometheus at ${address} answered HTTP 502: <html>Bad Gateway</html>` })
  await t.rejects(prom.query('denied'), { status: 401, message: /refused the credentials \(HTTP 401\); check the secretRef/ })
})

t.test('a redirect is not followed: its status is reported, and the query goes nowhere else', async t => {
  const before = seen.length
  await t.rejects(prom.query('moved'), { kind: 'http', status: 302, message: `Prometheus at ${address} answered HTTP 302` })
  t.equal(seen.length, before + 1, 'one request, to Prometheus only')
})

t.test('a slow answer is a timeout after the configured time', async t => {
  const fast = createPrometheusProvider({ address, timeoutMs: 200 })
  const started = Date.now()
  await t.rejects(fast.query('slow'), new QueryError('timeout', `Prometheus at ${address} did not answer within 200ms`))
  t.ok(Date.now() - started < 2500, 'did not wait for the answer')
})

t.test('connection refused is unreachable', async t => {
  const port = await freePort()
  const gone = createPrometheusProvider({ address: `http://127.0.0.1:${port}`, timeoutMs: 1000 })
  await t.rejects(gone.query('one'), { kind: 'unreachable', message: `Prometheus at http://127.0.0.1:${port} is unreachable (ECONNREFUSED)` })
  t.equal(await gone.isOnline(), false)
})

t.test('isOnline runs vector(1)', async t => {
  t.equal(await prom.isOnline(), true)
  t.equal(queryOf(seen.at(-1)!.body), 'vector(1)')
  replies.set('vector(1)', json(503, { status: 'error', error: 'starting' }))
  t.equal(await prom.isOnline(), false)
  replies.set('vector(1)', ok('vector', [sample('1')]))
})

t.test('bearer and basic credentials and template headers are sent', async t => {
  await createPrometheusProvider({ address, auth: { type: 'bearer', token: 's3cr3t' } }).query('one')
  t.equal(seen.at(-1)!.headers.authorization, 'Bearer s3cr3t')
  await createPrometheusProvider({ address, auth: { type: 'basic', username: 'u', password: 'p:w' } }).query('one')
  t.equal(seen.at(-1)!.headers.authorization, `Basic ${Buffer.from('u:p:w').toString('base64')}`)
  await createPrometheusProvider({ address, headers: { 'X-Scope-OrgID': ['tenant-1'] } }).query('one')
  t.equal(seen.at(-1)!.headers['x-scope-orgid'], 'tenant-1')
})

t.test('credentials never appear in error messages', async t => {
  const p = createPrometheusProvider({ address, auth: { type: 'bearer', token: 's3cr3t' } })
  const e = await p.query('denied').then(() => new Error('resolved'), (e: unknown) => e as Error)
  t.match(e.message, /refused the credentials/)
  t.notMatch(e.message, /s3cr3t/)
})

t.test('an address path prefix is kept', async t => {
  const p = createPrometheusProvider({ address: `${address}/prom/`, timeoutMs: 1000 })
  t.equal(await p.query('one'), 99.5)
  t.equal(seen.at(-1)!.url, '/prom/api/v1/query')
})

t.test('addresses: only http(s), no credentials in the URL', async t => {
  t.throws(() => parsePrometheusAddress('ftp://prom:21'), { name: 'QueryError', message: 'metrics server address must be http or https, not ftp' })
  t.throws(() => parsePrometheusAddress('prom:9090/x y'), { message: /is not a URL|must be http or https/ })
  t.throws(() => parsePrometheusAddress('http://admin:hunter2@prom:9090'), { message: 'metrics server address http://prom:9090 carries credentials; put them in a Secret (secretRef) instead' })
  t.equal(parsePrometheusAddress('https://prom.example:443/x?y=1').toString(), 'https://prom.example/x')
})

t.test('Secret data becomes auth; errors name keys, never values', async t => {
  t.same(prometheusAuthFromSecret({ token: 'abc\n' }), { type: 'bearer', token: 'abc' })
  t.same(prometheusAuthFromSecret({ username: 'u', password: 'p' }), { type: 'basic', username: 'u', password: 'p' })
  t.throws(() => prometheusAuthFromSecret({ username: 'u' }, 'Secret ns/prom'), { message: 'Secret ns/prom has username but no password; basic auth needs both' })
  t.throws(() => prometheusAuthFromSecret({ apikey: 'zzz' }, 'Secret ns/prom'), { message: 'Secret ns/prom has neither token nor username+password (it has apikey)' })
})
