// The webhook under test, as a child process of bench/webhook.ts: the real admission server and the real
// Deployment handler, with in-memory caches in place of the informers. Talks to its parent over IPC:
// it sends {type: 'listening', port}, answers {type: 'cpu'} with its process.cpuUsage(), and exits on
// {type: 'stop'} or as soon as the parent goes away.
import { pino } from 'pino'
import { deploymentHandler } from '../src/admission/deployments.ts'
import { buildAdmissionServer } from '../src/admission/server.ts'
import { memoryContext } from './fixture.ts'
import type { ServerMessage, ToServer } from './ipc.ts'

const send = (m: ServerMessage): void => { process.send?.(m) }

async function main(): Promise<void> {
  const certPem = process.env.BENCH_CERT_PEM
  const keyPem = process.env.BENCH_KEY_PEM
  if (!certPem || !keyPem || !process.send) throw new Error('bench/server.ts runs as a child of bench/webhook.ts')
  // As in production: pino at info, so that each decision's debug line costs only the level check.
  const logger = pino({ level: 'info' }, pino.destination({ dest: process.env.BENCH_SERVER_LOG ?? '/dev/null', sync: false }))
  const server = buildAdmissionServer({ tls: { certPem, keyPem }, logger, mutateDeployments: deploymentHandler(memoryContext()) })
  server.setCachesSynced(true)
  await server.listen({ host: '127.0.0.1', port: 0 })
  const stop = (): void => {
    const timer = setTimeout(() => process.exit(0), 2000)
    timer.unref()
    void server.close().finally(() => {
      logger.flush()
      process.exit(0)
    })
  }
  process.on('disconnect', stop)
  process.on('message', (m: ToServer) => {
    if (m.type === 'cpu') send({ type: 'cpu', usage: process.cpuUsage(), at: performance.now() + performance.timeOrigin })
    else stop()
  })
  send({ type: 'listening', port: (server.server.address() as { port: number }).port })
}

main().catch((e: unknown) => {
  process.stderr.write(`bench server: ${e instanceof Error ? e.stack ?? e.message : String(e)}\n`)
  process.exit(1)
})
