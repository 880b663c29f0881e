// Flagger under test: the binary `make flagger` builds, run out of cluster against the local control plane with
// the admin kubeconfig (so RBAC plays no part), the nginx provider and the run's Prometheus. Its CRDs are
// installed by test/cluster/flagger.ts.
import { spawn } from 'node:child_process'
import { closeSync, existsSync } from 'node:fs'
import { homedir } from 'node:os'
import { join } from 'node:path'
import { FLAGGER_VERSION } from '../../test/cluster/flagger.ts'
import { freePort, httpsGet, waitFor } from '../../test/cluster/process.ts'
import type { Base, BaseOptions } from '../controller/env.ts'
import { logFile, stopChild } from '../controller/env.ts'


export function flaggerBinary(): string {
  return process.env.SLUICE_FLAGGER ?? join(homedir(), '.cache/sluice', `flagger-${FLAGGER_VERSION}`, 'flagger')
}

export interface RunningFlagger {
  readonly pid: number
  readonly port: number
  readonly log: string
  exited(): boolean
}

/** Starts Flagger with `extraArgs` (e.g. its client QPS) and waits for its /healthz. */
export async function startFlagger(base: Base, extraArgs: readonly string[], o: BaseOptions): Promise<RunningFlagger> {
  if (!existsSync(flaggerBinary())) throw new Error(`${flaggerBinary()} is missing: run \`make flagger\` (test/cluster/build-flagger.sh)`)
  const port = await freePort()
  const { path, fd } = logFile(base.state, 'flagger')
  const args = [
    `-kubeconfig=${base.state.kubeconfig}`, '-mesh-provider=nginx', `-metrics-server=${base.prometheusUrl}`, '-log-level=info',
    `-port=${port}`, '-enable-leader-election=false', ...extraArgs,
  ]
  const child = spawn(flaggerBinary(), args, { stdio: ['ignore', fd, fd], env: { ...process.env, NO_PROXY: '127.0.0.1,localhost' } })
  closeSync(fd)
  o.onCleanup('flagger', () => stopChild(child, 10_000))
  await waitFor(async () => {
    if (child.exitCode !== null) throw new Error(`flagger exited with ${child.exitCode}; see ${path}`)
    return (await httpsGet(`http://127.0.0.1:${port}/healthz`, undefined, 1000)).status === 200
  }, { timeoutMs: 60_000, what: `flagger's /healthz (log: ${path})` })
  return { pid: child.pid!, port, log: path, exited: () => child.exitCode !== null || child.signalCode !== null }
}
