// Installs Contour's HTTPProxy CRD (the one the contour router writes) into the test cluster, from the manifest
// Contour publishes in its Go module (examples/contour/01-crds.yaml), read from the Go module cache at test time.
// The API server then validates sluice's HTTPProxies with Contour's own schema.
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { parseAllDocuments } from 'yaml'
import { installCrds } from './crds.ts'
import { goModuleDir } from './go-module.ts'

export const CONTOUR_VERSION = process.env.SLUICE_CONTOUR_VERSION ?? 'v1.33.8'
export const CONTOUR_CRD = 'httpproxies.projectcontour.io'

/** Applies (server-side, idempotent) the HTTPProxy CRD and waits until it is Established. */
export async function installContourCrds(kubeconfigPath: string, version = CONTOUR_VERSION): Promise<void> {
  const file = join(await goModuleDir('github.com/projectcontour/contour', version), 'examples/contour/01-crds.yaml')
  // The file holds every Contour CRD (ContourConfiguration, ExtensionService, …); only HTTPProxy is sluice's.
  const crd = parseAllDocuments(await readFile(file, 'utf8')).find(d => d.getIn(['metadata', 'name']) === CONTOUR_CRD)
  if (!crd) throw new Error(`github.com/projectcontour/contour@${version}: no ${CONTOUR_CRD} in examples/contour/01-crds.yaml`)
  await installCrds(kubeconfigPath, `Contour ${version}`, crd.toString(), [CONTOUR_CRD])
}
