// Starts `sluice webhook` against the local cluster as sluice's own ServiceAccount, registered by URL,
// the way `make up` and the integration run need it. Certificates live minutes here, so that renewal
// happens (and is tested) while the tests apply Deployments.
import { spawn, type ChildProcess } from 'node:child_process'
import { closeSync, existsSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { AdmissionregistrationV1Api, KubeConfig } from '@kubernetes/client-node'
import type { ClusterState } from './cluster.ts'
import { freePort, httpsGet, stopProcess, waitFor } from './process.ts'

const root = resolve(import.meta.dirname, '../..')

export interface SluiceWebhook {
  readonly url: string
  /** `sluice webhook`'s plain-HTTP telemetry (/metrics); `serve` has the controller's, set by its caller. */
  readonly metricsUrl?: string
  readonly log: string
  readonly child: ChildProcess
  stop(): Promise<void>
}

export const TEST_CERT_FLAGS = [
  '--ca-lifetime=6m', '--ca-renew-before=4m', '--cert-lifetime=2m', '--cert-renew-before=80s',
  '--cert-overlap=5s', '--cert-check-interval=3s',
]

/** The admin creates the (empty) configurations; sluice may only update them, by name. */
export async function precreateConfigurations(state: ClusterState): Promise<void> {
  const kc = new KubeConfig()
  kc.loadFromFile(state.kubeconfig)
  const api = kc.makeApiClient(AdmissionregistrationV1Api)
  const metadata = { name: 'sluice', labels: { 'app.kubernetes.io/name': 'sluice' } }
  await api.createMutatingWebhookConfiguration({ body: { metadata, webhooks: [] } }).catch(ignoreExists)
  await api.createValidatingWebhookConfiguration({ body: { metadata, webhooks: [] } }).catch(ignoreExists)
}

function ignoreExists(err: unknown): void {
  if ((err as { code?: number }).code !== 409) throw err
}

/**
 * `detached`: sluice outlives this process (make up); its pid goes to <dir>/sluice-webhook.pid. `command` serve
 * runs the controller in the same process.
 */
export async function startSluiceWebhook(state: ClusterState, sluiceKubeconfig: string, extraArgs: readonly string[] = [], detached = false, command: 'webhook' | 'serve' = 'webhook'): Promise<SluiceWebhook> {
  await precreateConfigurations(state)
  const port = await freePort()
  const url = `https://127.0.0.1:${port}`
  const telemetryPort = command === 'webhook' ? await freePort() : undefined
  const telemetry = telemetryPort === undefined ? [] : [`--telemetry-listen=127.0.0.1:${telemetryPort}`]
  const log = join(state.dir, 'logs', 'sluice-webhook.log')
  const fd = openSync(log, 'a')
  const child = spawn(process.execPath, [join(root, 'bin/sluice.ts'), command,
    `--kubeconfig=${sluiceKubeconfig}`, `--listen=127.0.0.1:${port}`, `--url=${url}`,
    '--cert-ip=127.0.0.1', '--cert-dns=localhost', ...telemetry, ...extraArgs], { stdio: ['ignore', fd, fd], detached, env: { ...process.env, NO_PROXY: '127.0.0.1,localhost' } })
  closeSync(fd)
  if (detached) {
    child.unref()
    writeFileSync(join(state.dir, 'sluice-webhook.pid'), String(child.pid))
  }
  const exited = new Promise<void>(res => child.once('exit', () => res()))
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000)
    await exited
    clearTimeout(timer)
  }
  try {
    await waitFor(async () => {
      if (child.exitCode !== null) throw new Error(`sluice ${command} exited with ${child.exitCode}; see ${log}`)
      return (await httpsGet(`${url}/readyz`, undefined, 1000)).status === 200
    }, { timeoutMs: 60_000, what: `sluice webhook ready on ${url} (log: ${log})` })
    const kc = new KubeConfig()
    kc.loadFromFile(state.kubeconfig)
    const api = kc.makeApiClient(AdmissionregistrationV1Api)
    await waitFor(async () => ((await api.readMutatingWebhookConfiguration({ name: 'sluice' })).webhooks ?? []).length > 0,
      { timeoutMs: 30_000, what: 'the sluice webhook configurations to be registered' })
  } catch (e) {
    await stop()
    throw e
  }
  return { url, log, child, stop, ...(telemetryPort !== undefined && { metricsUrl: `http://127.0.0.1:${telemetryPort}/metrics` }) }
}

/** Stops a webhook started with `detached` (make down). */
export async function stopDetachedWebhook(dir: string): Promise<boolean> {
  const pidFile = join(dir, 'sluice-webhook.pid')
  if (!existsSync(pidFile)) return false
  const stopped = await stopProcess(Number(readFileSync(pidFile, 'utf8')), join(root, 'bin/sluice.ts'))
  rmSync(pidFile, { force: true })
  return stopped
}
