// Flagger under test: its CRDs (from the Go module cache, as the other upstream CRDs are installed) and
// the binary `make flagger` builds, run out of cluster against the local control plane with the admin
// kubeconfig (so RBAC plays no part), the nginx provider and the run's Prometheus.
import { spawn } from 'node:child_process'
import { closeSync, existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { homedir } from 'node:os'
import { join } from 'node:path'
import { installCrds } from '../../test/cluster/crds.ts'
import { goModuleDir } from '../../test/cluster/go-module.ts'
import { freePort, httpsGet, waitFor } from '../../test/cluster/process.ts'
import type { Base, BaseOptions } from '../controller/env.ts'
import { logFile, stopChild } from '../controller/env.ts'

export const FLAGGER_VERSION = process.env.FLAGGER_VERSION ?? 'v1.44.0'

export function flaggerBinary(): string {
  return process.env.SLUICE_FLAGGER ?? join(homedir(), '.cache/sluice', `flagger-${FLAGGER_VERSION}`, 'flagger')
}

export interface RunningFlagger {
  readonly pid: number
  readonly port: number
  readonly log: string
  exited(): boolean
}

/** Flagger's three CRDs, applied as published: its multi-line quoted descriptions are too loose for the yaml package, not for kubectl. */
export async function installFlaggerCrds(kubeconfig: string): Promise<void> {
  const dir = await goModuleDir('github.com/fluxcd/flagger', FLAGGER_VERSION)
  const yaml = await readFile(join(dir, 'artifacts/flagger/crd.yaml'), 'utf8')
  await installCrds(kubeconfig, `Flagger ${FLAGGER_VERSION}`, yaml, ['canaries.flagger.app', 'metrictemplates.flagger.app', 'alertproviders.flagger.app'])
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
