// Installs Flagger's CRDs (canaries, metrictemplates, alertproviders of flagger.app) into a local cluster, as
// Flagger publishes them in its Go module (artifacts/flagger/crd.yaml), read from the Go module cache at run
// time: for the peer benchmark (bench/peer/), which runs Flagger itself, and the simulator's test.
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { installCrds } from './crds.ts'
import { goModuleDir } from './go-module.ts'

export const FLAGGER_VERSION = process.env.FLAGGER_VERSION ?? 'v1.44.0'
export const FLAGGER_CRDS = ['canaries.flagger.app', 'metrictemplates.flagger.app', 'alertproviders.flagger.app'] as const

/** Applied as published: its multi-line quoted descriptions are too loose for the yaml package, not for kubectl. */
export async function installFlaggerCrds(kubeconfigPath: string, version = FLAGGER_VERSION): Promise<void> {
  const dir = await goModuleDir('github.com/fluxcd/flagger', version)
  const yaml = await readFile(join(dir, 'artifacts/flagger/crd.yaml'), 'utf8')
  await installCrds(kubeconfigPath, `Flagger ${version}`, yaml, FLAGGER_CRDS)
}
