// The floor: the smallest webhook there is (node:https, no framework, no decision), answering every review
// with one fixed JSON Patch, as a child process of bench/webhook.ts. Registered in the benchmark's cluster
// beside sluice, it shows how much of the API server's observed latency is the API server's own.
// Sends {type: 'listening', port} over IPC; exits when the parent goes away.
import { createServer } from 'node:https'

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
server.listen(0, '127.0.0.1', () => {
  process.send?.({ type: 'listening', port: (server.address() as { port: number }).port })
})
process.on('disconnect', () => process.exit(0))
