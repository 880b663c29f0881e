// Proof (d): a real Prometheus scrapes a target the test serves and answers an instant query about it.
import t from 'tap'
import { createServer } from 'node:http'
import { Counter, Registry } from 'prom-client'
import { startPrometheus } from '../../cluster/prometheus.ts'
import { until } from '../../helpers/wait.ts'

t.test('Prometheus answers an instant query about a target it scraped', async t => {
  const registry = new Registry()
  const requests = new Counter({ name: 'proof_requests_total', help: 'requests', labelNames: ['code'], registers: [registry] })
  requests.inc({ code: '200' }, 42)
  requests.inc({ code: '500' }, 3)
  const server = createServer((_req, res) => {
    void registry.metrics().then(body => { res.setHeader('Content-Type', registry.contentType); res.end(body) })
  })
  await new Promise<void>(res => server.listen(0, '127.0.0.1', res))
  t.teardown(() => new Promise<void>(res => server.close(() => res())))
  const target = `127.0.0.1:${(server.address() as { port: number }).port}`

  const prom = await startPrometheus([{ job_name: 'proof', static_configs: [{ targets: [target] }] }])
  t.teardown(() => prom.stop())

  const up = await until(() => prom.query(`up{job="proof"}`), r => r.length === 1 && r[0]!.value[1] === '1', 'target up')
  t.equal(up[0]!.metric.instance, target)
  const result = await until(() => prom.query('sum(proof_requests_total)'), r => r.length === 1, 'scraped samples')
  t.equal(Number(result[0]!.value[1]), 45, 'the sum of the scraped counters')
  const errors = await prom.query('proof_requests_total{code="500"}')
  t.equal(Number(errors[0]!.value[1]), 3)
})
