// Runs a command (the integration tests) against a fresh local cluster, and always takes the cluster
// down afterwards: on success, on failure, and on SIGINT/SIGTERM.
import { spawn, type ChildProcess } from 'node:child_process'
import { constants } from 'node:os'
import { resolve } from 'node:path'
import { clusterDown, clusterUp, logTails, readState } from './cluster.ts'
import { installSluice } from './install-sluice.ts'
import { startSluiceWebhook, TEST_CERT_FLAGS, type SluiceWebhook } from './sluice-webhook.ts'

const sep = process.argv.indexOf('--')
const binDir = process.env.SLUICE_K8S_BIN_DIR
const cmd = sep >= 0 ? process.argv.slice(sep + 1) : []
const dir = resolve(process.env.SLUICE_TEST_CLUSTER_DIR ?? '.cache/test-cluster')
const log = (m: string): void => { process.stderr.write(`test-cluster: ${m}\n`) }

async function run(): Promise<number> {
  if (!binDir || cmd.length === 0) throw new Error('usage: SLUICE_K8S_BIN_DIR=… with-cluster.ts -- command args…')
  // One cluster per run: remains of an interrupted earlier run are stopped, never reused.
  if (readState(dir)) await clusterDown(dir, log)
  let stopping = false
  let child: ChildProcess | undefined
  let webhook: SluiceWebhook | undefined
  const onSignal = (sig: NodeJS.Signals): void => {
    log(`${sig}: stopping tests and cluster`)
    stopping = true
    child?.kill(sig)
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  try {
    const state = await clusterUp({ dir, binDir, log })
    if (stopping) return 130
    const sluice = await installSluice(state)
    // A lower analysis-interval floor only through the flag, as the tests need short intervals.
    webhook = await startSluiceWebhook(state, sluice.kubeconfig, [...TEST_CERT_FLAGS, '--min-interval=1s'])
    log(`sluice webhook at ${webhook.url} (log: ${webhook.log})`)
    const env = {
      ...process.env, KUBECONFIG: state.kubeconfig, SLUICE_CLUSTER_DIR: dir,
      SLUICE_KUBECONFIG: sluice.kubeconfig, SLUICE_USERNAME: sluice.username, SLUICE_WEBHOOK_URL: webhook.url,
      ...(webhook.metricsUrl !== undefined && { SLUICE_WEBHOOK_METRICS_URL: webhook.metricsUrl }),
      PATH: `${binDir}:${process.env.PATH ?? ''}`, NO_PROXY: '127.0.0.1,localhost',
    }
    child = spawn(cmd[0]!, cmd.slice(1), { stdio: 'inherit', env })
    const running = child
    const code = await new Promise<number>(res => running.on('exit', (c, s) => res(c ?? 128 + (s ? constants.signals[s] : 0))))
    if (code !== 0) process.stderr.write(`\ncomponent log tails (${dir}/logs):\n${await logTails(dir, 15)}\n`)
    return code
  } finally {
    await webhook?.stop()
    await clusterDown(dir, log)
  }
}

run().then(code => { process.exitCode = code }, (e: unknown) => {
  log(e instanceof Error ? e.message : String(e))
  process.exitCode = 1
})
