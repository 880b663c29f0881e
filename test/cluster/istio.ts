// Installs Istio's VirtualService and DestinationRule CRDs (the two the istio router writes) into the test
// cluster, from the manifest Istio publishes in its API Go module (kubernetes/customresourcedefinitions.gen.yaml),
// read from the Go module cache at test time. The API server then validates sluice's objects with Istio's own schema.
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { parseAllDocuments } from 'yaml'
import { installCrds } from './crds.ts'
import { goModuleDir } from './go-module.ts'

export const ISTIO_API_VERSION = process.env.SLUICE_ISTIO_API_VERSION ?? 'v1.32.0'
export const ISTIO_CRDS = ['virtualservices.networking.istio.io', 'destinationrules.networking.istio.io'] as const

/** Applies (server-side, idempotent) the VirtualService and DestinationRule CRDs and waits until they are Established. */
export async function installIstioCrds(kubeconfigPath: string, version = ISTIO_API_VERSION): Promise<void> {
  const dir = await goModuleDir('istio.io/api', version)
  const all = await readFile(join(dir, 'kubernetes/customresourcedefinitions.gen.yaml'), 'utf8')
  // The file holds every Istio CRD; only the ones the router writes are installed.
  const wanted = parseAllDocuments(all).filter(d => (ISTIO_CRDS as readonly unknown[]).includes(d.getIn(['metadata', 'name'])))
  if (wanted.length !== ISTIO_CRDS.length) throw new Error(`istio.io/api@${version}: expected ${ISTIO_CRDS.join(', ')} in customresourcedefinitions.gen.yaml`)
  await installCrds(kubeconfigPath, `Istio ${version}`, wanted.map(d => d.toString()).join('---\n'), ISTIO_CRDS)
}
