// A real Prometheus on loopback with a scrape configuration the test writes; stopped with the test
// (and killed if the test process exits without stopping it).
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { freePort, httpsGet, waitFor } from './process.ts'

const TETHER = join(import.meta.dirname, 'tether.ts')

export interface ScrapeConfig {
  readonly job_name: string
  readonly static_configs: { targets: string[]; labels?: Record<string, string> }[]
  readonly scrape_interval?: string
  readonly metrics_path?: string
}

export interface RunningPrometheus {
  readonly url: string
  query(expr: string): Promise<PromResult[]>
  stop(): Promise<void>
}

export interface PromResult { metric: Record<string, string>; value: [number, string] }

const running = new Set<ChildProcess>()
// The tether stops Prometheus when it gets SIGTERM, or when this process dies and its stdin closes.
process.on('exit', () => { for (const c of running) c.kill('SIGTERM') })

export function prometheusBinary(): string {
  return process.env.SLUICE_PROMETHEUS ?? 'prometheus'
}

/** promtool, from the same installation as prometheusBinary() (Debian's prometheus package ships both). */
export function promtoolBinary(): string {
  if (process.env.SLUICE_PROMTOOL) return process.env.SLUICE_PROMTOOL
  const prometheus = prometheusBinary()
  return prometheus.includes('/') ? join(dirname(prometheus), 'promtool') : 'promtool'
}

/** Writes the configuration into `dir` (data goes to `dir`/data) and returns Prometheus' arguments. */
export function prometheusArgs(dir: string, port: number, scrapeConfigs: readonly ScrapeConfig[], scrapeInterval = '1s'): string[] {
  const config = { global: { scrape_interval: scrapeInterval, evaluation_interval: scrapeInterval }, scrape_configs: scrapeConfigs }
  // JSON is YAML: no YAML writer needed for the config file.
  writeFileSync(join(dir, 'prometheus.yml'), JSON.stringify(config, null, 2))
  return [
    `--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn',
  ]
}

export async function startPrometheus(scrapeConfigs: readonly ScrapeConfig[], scrapeInterval = '1s'): Promise<RunningPrometheus> {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-prom-'))
  const port = await freePort()
  // Through the tether: a test process killed by its runner must not leave Prometheus running.
  const child = spawn(process.execPath, [TETHER, prometheusBinary(), ...prometheusArgs(dir, port, scrapeConfigs, scrapeInterval)],
    { stdio: ['pipe', 'ignore', 'pipe'] })
  running.add(child)
  let stderr = ''
  child.stderr?.setEncoding('utf8').on('data', (d: string) => { stderr = (stderr + d).slice(-4000) })
  const exited = new Promise<void>(res => child.once('exit', () => res()))
  child.once('error', e => { stderr += `\n${e.message}` })
  const url = `http://127.0.0.1:${port}`
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
    await exited
    running.delete(child)
    rmSync(dir, { recursive: true, force: true })
  }
  try {
    await waitFor(async () => {
      if (child.exitCode !== null) throw new Error(`prometheus exited with ${child.exitCode}: ${stderr}`)
      return (await httpsGet(`${url}/-/ready`, undefined, 1000)).status === 200
    }, { timeoutMs: 30_000, what: `prometheus ready on ${url}` })
  } catch (e) {
    await stop()
    throw new Error(`${(e as Error).message}\nprometheus stderr:\n${stderr}`, { cause: e })
  }
  return {
    url,
    stop,
    async query(expr) {
      const r = await httpsGet(`${url}/api/v1/query?query=${encodeURIComponent(expr)}`, undefined, 5000)
      const body = JSON.parse(r.body) as { status: string; error?: string; data?: { result: PromResult[] } }
      if (body.status !== 'success') throw new Error(`query ${expr}: ${body.error ?? r.status}`)
      return body.data?.result ?? []
    },
  }
}
