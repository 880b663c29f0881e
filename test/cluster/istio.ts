// Installs Istio's VirtualService and DestinationRule CRDs (the two the istio router writes) into the test
// cluster, from the manifest Istio publishes in its API Go module (kubernetes/customresourcedefinitions.gen.yaml),
// read from the Go module cache at test time. The API server then validates sluice's objects with Istio's own schema.
import { installGoModuleCrds } from './crds.ts'

export const ISTIO_API_VERSION = process.env.SLUICE_ISTIO_API_VERSION ?? 'v1.32.0'
export const ISTIO_CRDS = ['virtualservices.networking.istio.io', 'destinationrules.networking.istio.io'] as const

/** Applies (server-side, idempotent) the VirtualService and DestinationRule CRDs and waits until they are Established. */
export async function installIstioCrds(kubeconfigPath: string, version = ISTIO_API_VERSION): Promise<void> {
  await installGoModuleCrds(kubeconfigPath, { what: 'Istio', module: 'istio.io/api', version, file: 'kubernetes/customresourcedefinitions.gen.yaml', names: ISTIO_CRDS })
}
