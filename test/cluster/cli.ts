// `make cluster-up` / `make cluster-down`: a long-lived local cluster for development.
import { parseArgs } from 'node:util'
import { clusterDown, clusterUp, readState } from './cluster.ts'
import { installSluice } from './install-sluice.ts'
import { startSluiceWebhook, stopDetachedWebhook } from './sluice-webhook.ts'

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: { dir: { type: 'string' }, 'bin-dir': { type: 'string' }, sluice: { type: 'boolean' } },
})
const cmd = positionals[0]
const dir = values.dir ?? '.cache/cluster'
const log = (m: string): void => { process.stderr.write(`cluster: ${m}\n`) }

async function main(): Promise<void> {
  if (cmd === 'up') {
    const binDir = values['bin-dir']
    if (!binDir) throw new Error('cluster up: --bin-dir is required (run test/cluster/build-bins.sh)')
    const s = await clusterUp({ dir, binDir, log })
    if (values.sluice) {
      await stopDetachedWebhook(dir)
      const sluice = await installSluice(s)
      const webhook = await startSluiceWebhook(s, sluice.kubeconfig, [], true)
      log(`sluice webhook at ${webhook.url}, as ${sluice.username} (log: ${webhook.log})`)
    }
    process.stdout.write(`export KUBECONFIG=${s.kubeconfig}\nexport PATH=${binDir}:$PATH\n`)
  } else if (cmd === 'down') {
    const had = readState(dir) !== undefined
    if (await stopDetachedWebhook(dir)) log('stopped sluice webhook')
    await clusterDown(dir, log)
    log(had ? 'cluster stopped' : 'no cluster running')
  } else {
    throw new Error(`usage: cli.ts up|down [--dir DIR] [--bin-dir DIR] (got ${cmd ?? 'nothing'})`)
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`cluster: ${e instanceof Error ? e.message : String(e)}\n`)
  process.exitCode = 1
})
