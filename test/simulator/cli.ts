// Runs the traffic simulator until SIGINT or SIGTERM:
//   node test/simulator/cli.ts --kubeconfig FILE --listen 127.0.0.1:PORT [--tick-ms N] [--rps N]
import { parseArgs } from 'node:util'
import { loadKubeConfig } from '../../src/kube/config.ts'
import { DEFAULT_REQUESTS_PER_SECOND, DEFAULT_TICK_MS, startSimulator } from './simulator.ts'

const USAGE = 'usage: node test/simulator/cli.ts [--kubeconfig FILE] [--listen HOST:PORT] [--tick-ms N] [--rps N] [--ab-fraction F]'

function fail(message: string): never {
  process.stderr.write(`simulator: ${message}\n${USAGE}\n`)
  process.exit(2)
}

/** `HOST:PORT`, `[IPv6]:PORT` or `:PORT`. */
function parseListen(text: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(text)
  if (!m) throw new Error(`--listen ${text}: expected HOST:PORT`)
  const port = Number(m[3])
  if (port > 65535) throw new Error(`--listen ${text}: port out of range`)
  return { host: m[1] ?? (m[2] || '127.0.0.1'), port }
}

function positive(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback
  const n = Number(text)
  if (!Number.isFinite(n) || n <= 0) fail(`--${name} ${text}: expected a positive number`)
  return n
}

async function main(): Promise<void> {
  let values
  try {
    ({ values } = parseArgs({ options: {
      kubeconfig: { type: 'string' }, listen: { type: 'string' }, 'tick-ms': { type: 'string' },
      rps: { type: 'string' }, 'ab-fraction': { type: 'string' }, help: { type: 'boolean' },
    } }))
  } catch (e) {
    fail((e as Error).message)
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`)
    return
  }
  let listenAt = { host: '127.0.0.1', port: 0 }
  try {
    if (values.listen) listenAt = parseListen(values.listen)
  } catch (e) {
    fail((e as Error).message)
  }
  const abFraction = values['ab-fraction'] === undefined ? undefined : Number(values['ab-fraction'])
  if (abFraction !== undefined && !(abFraction >= 0 && abFraction <= 1)) fail(`--ab-fraction ${values['ab-fraction']}: expected 0…1`)
  const sim = await startSimulator({
    kubeConfig: loadKubeConfig(values.kubeconfig ? { path: values.kubeconfig } : {}),
    ...listenAt,
    tickMs: positive('tick-ms', values['tick-ms'], DEFAULT_TICK_MS),
    requestsPerSecond: positive('rps', values.rps, DEFAULT_REQUESTS_PER_SECOND),
    ...(abFraction !== undefined && { abFraction }),
  })
  process.stdout.write(`${sim.url}\n`)
  await new Promise<void>(res => {
    const done = (): void => { res() }
    process.once('SIGINT', done)
    process.once('SIGTERM', done)
  })
  await sim.stop()
}

main().catch((e: unknown) => {
  process.stderr.write(`simulator: ${e instanceof Error ? e.message : String(e)}\n`)
  process.exitCode = 1
})
