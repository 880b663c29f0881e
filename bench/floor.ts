// The floor: the smallest webhook there is (node:https, no framework, no decision), answering every review
// with one fixed JSON Patch, as a child process of bench/webhook.ts. Registered in the benchmark's cluster
// beside sluice, it shows how much of the API server's observed latency is the API server's own.
// Under the same HTTPS load as sluice's server it gives the CPU floor per review (TLS, HTTP, JSON.parse of the
// review), which sluice's per-review CPU is compared with. Speaks bench/ipc.ts like bench/server.ts: sends
// {type: 'listening', port}, answers {type: 'cpu'}, exits on {type: 'stop'} or when the parent goes away.
import { createServer } from 'node:https'
import type { ServerMessage, ToServer } from './ipc.ts'

// Holds the replicas at zero like sluice does, so the API server applies a patch of the same kind.
const PATCH = Buffer.from(JSON.stringify([{ op: 'replace', path: '/spec/replicas', value: 0 }])).toString('base64')

const certPem = process.env.BENCH_CERT_PEM
const keyPem = process.env.BENCH_KEY_PEM
if (!certPem || !keyPem || !process.send) {
  process.stderr.write('bench/floor.ts runs as a child of bench/webhook.ts\n')
  process.exit(1)
}

const server = createServer({ cert: certPem, key: keyPem, keepAliveTimeout: 95_000 }, (req, res) => {
  const chunks: Buffer[] = []
  req.on('data', (c: Buffer) => chunks.push(c))
  req.on('end', () => {
    let uid = ''
    try {
      uid = (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { request?: { uid?: string } }).request?.uid ?? ''
    } catch {
      res.writeHead(400).end()
      return
    }
    const body = JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response: { uid, allowed: true, patchType: 'JSONPatch', patch: PATCH } })
    res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) }).end(body)
  })
})
const send = (m: ServerMessage): void => { process.send?.(m) }
server.listen(0, '127.0.0.1', () => {
  send({ type: 'listening', port: (server.address() as { port: number }).port })
})
process.on('disconnect', () => process.exit(0))
process.on('message', (m: ToServer) => {
  if (m.type === 'cpu') send({ type: 'cpu', usage: process.cpuUsage(), at: performance.now() + performance.timeOrigin })
  else process.exit(0)
})
