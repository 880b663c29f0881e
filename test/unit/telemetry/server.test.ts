// A real listener on a free port: probes and scrapes go over the network as the kubelet and Prometheus send them.
import t from 'tap'
import type { Test } from 'tap'
import { request } from 'node:https'
import { Writable } from 'node:stream'
import { pino } from 'pino'
import type { Logger } from 'pino'
import { Registry } from 'prom-client'
import { createCA, createLeaf } from '../../../src/certs/pki.ts'
import { createControllerMetrics } from '../../../src/telemetry/controller-metrics.ts'
import { startTelemetryServer } from '../../../src/telemetry/server.ts'
import type { TelemetryServerOptions } from '../../../src/telemetry/server.ts'

const unhandled: unknown[] = []
process.on('unhandledRejection', err => unhandled.push(err))
t.teardown(() => { if (unhandled.length > 0) throw new Error(`unhandled rejections: ${unhandled.length}`) })

// Collects the server's log lines, to prove probes and scrapes write none.
function capturingLogger(): { logger: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = []
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString('utf8').split('\n')) if (line !== '') lines.push(JSON.parse(line) as Record<string, unknown>)
      cb()
    },
  })
  return { logger: pino({ level: 'debug' }, stream), lines }
}

async function start(t: Test, opts: Partial<TelemetryServerOptions> = {}) {
  const { logger, lines } = capturingLogger()
  const server = await startTelemetryServer({
    host: '127.0.0.1', port: 0, registry: opts.registry ?? createControllerMetrics().registry, ready: () => true, logger, ...opts,
  })
  t.teardown(() => server.close())
  const get = (path: string) => fetch(`http://127.0.0.1:${server.port}${path}`)
  return { server, get, lines }
}

t.test('GET /metrics serves the registry in the text exposition format', async t => {
  const metrics = createControllerMetrics()
  metrics.observePhase('podinfo', 'test', 'Progressing')
  metrics.observeWeights('test', 'podinfo-primary', 'podinfo', 90, 10)
  const { server, get } = await start(t, { registry: metrics.registry })
  t.ok(server.port > 0, 'port 0 picks a free port and reports it')
  const res = await get('/metrics')
  t.equal(res.status, 200)
  t.equal(res.headers.get('content-type'), metrics.registry.contentType)
  const body = await res.text()
  t.match(body, /^sluice_canary_status\{name="podinfo",namespace="test"\} 0$/m)
  t.match(body, /^sluice_canary_phase\{name="podinfo",namespace="test",phase="Progressing"\} 1$/m)
  t.match(body, /^sluice_canary_weight\{workload="podinfo",namespace="test"\} 10$/m)
  t.match(body, /^process_resident_memory_bytes \d+$/m)

  metrics.observePhase('podinfo', 'test', 'Succeeded')
  t.match(await (await get('/metrics')).text(), /^sluice_canary_status\{name="podinfo",namespace="test"\} 1$/m, 'every scrape reads the live values')
})

t.test('GET /healthz: 200 ok, 503 when healthy() is false or throws', async t => {
  let state: 'up' | 'down' | 'throws' = 'up'
  const { get } = await start(t, {
    healthy: () => {
      if (state === 'throws') throw new Error('lost the informer')
      return state === 'up'
    },
  })
  let res = await get('/healthz')
  t.equal(res.status, 200)
  t.equal(await res.text(), 'ok\n')
  t.match(res.headers.get('content-type'), /^text\/plain/)
  state = 'down'
  res = await get('/healthz')
  t.equal(res.status, 503)
  t.equal(await res.text(), 'unhealthy\n')
  state = 'throws'
  res = await get('/healthz')
  t.equal(res.status, 503)
  t.equal(await res.text(), 'lost the informer\n', 'a throwing check fails the probe with its message, no stack')
})

t.test('GET /healthz without a healthy() is always 200', async t => {
  const { get } = await start(t)
  t.equal((await get('/healthz')).status, 200)
})

t.test('GET /readyz: 200 when ready(), else 503 with a short reason', async t => {
  let ready = false
  const { get } = await start(t, { ready: () => ready })
  let res = await get('/readyz')
  t.equal(res.status, 503)
  t.equal(await res.text(), 'not ready\n')
  ready = true
  res = await get('/readyz')
  t.equal(res.status, 200)
  t.equal(await res.text(), 'ok\n')
})

t.test('GET /readyz carries notReadyReason() when given', async t => {
  const { get } = await start(t, { ready: () => false, notReadyReason: () => 'informer caches are not synced' })
  const res = await get('/readyz')
  t.equal(res.status, 503)
  t.equal(await res.text(), 'informer caches are not synced\n')
})

t.test('no log line per request; other paths are 404', async t => {
  const { get, lines } = await start(t, { ready: () => false })
  const before = lines.length
  for (const path of ['/metrics', '/healthz', '/readyz', '/readyz', '/nope']) await (await get(path)).arrayBuffer()
  t.equal((await get('/nope')).status, 404)
  t.same(lines.slice(before), [], 'probes and scrapes are silent')
  t.match(lines.slice(0, before), [{ msg: /^telemetry server listening at http:\/\/127\.0\.0\.1:\d+$/ }], 'the start is logged once')
})

t.test('a failing collector is a 500 without details, and is logged', async t => {
  const registry = new Registry()
  registry.registerMetric({
    name: 'broken', help: 'x', type: 'gauge', aggregator: 'sum',
    get: () => Promise.reject(new Error('collector exploded at /src/x.ts:1')),
    reset: () => undefined,
  } as unknown as Parameters<Registry['registerMetric']>[0])
  const { get, lines } = await start(t, { registry })
  const res = await get('/metrics')
  t.equal(res.status, 500)
  t.equal(await res.text(), 'collecting metrics failed\n')
  t.ok(lines.some(l => l.msg === 'collecting metrics failed'))
})

t.test('close() frees the port', async t => {
  const { logger } = capturingLogger()
  const server = await startTelemetryServer({ host: '127.0.0.1', port: 0, registry: new Registry(), ready: () => true, logger })
  await server.close()
  await t.rejects(fetch(`http://127.0.0.1:${server.port}/healthz`))
})

t.test('a port in use rejects the start', async t => {
  const { server } = await start(t)
  const { logger } = capturingLogger()
  await t.rejects(startTelemetryServer({ host: '127.0.0.1', port: server.port, registry: new Registry(), ready: () => true, logger }), { code: 'EADDRINUSE' })
})

t.test('with tls, the same endpoints over HTTPS', async t => {
  const ca = createCA('telemetry-ca', 3600)
  const leaf = createLeaf(ca, { commonName: 'localhost', dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'], usage: 'server', lifetimeSeconds: 3600 })
  const { server } = await start(t, { tls: { cert: leaf.certPem, key: leaf.keyPem } })
  const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: server.port, path: '/healthz', ca: ca.certPem }, res => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }))
      res.on('error', reject)
    })
    req.on('error', reject)
    req.end()
  })
  t.same(answer, { status: 200, body: 'ok\n' })
  await t.rejects(fetch(`http://127.0.0.1:${server.port}/healthz`), 'plain HTTP is not served on a TLS port')
})
