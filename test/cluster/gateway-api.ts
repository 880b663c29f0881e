// Installs the upstream Gateway API CRDs (standard channel) into the test cluster. The YAML comes from
// the Go module cache (`go mod download`), at test time, so no copy of it lives in this repository.
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { installCrds } from './crds.ts'
import { goModuleDir } from './go-module.ts'

// The newest v1.x the Go proxy serves that the installed Go toolchain can download (v1.7 needs Go 1.27).
export const GATEWAY_API_VERSION = process.env.SLUICE_GATEWAY_API_VERSION ?? 'v1.6.3'
const CRDS = ['gatewayclasses', 'gateways', 'httproutes'] as const

/** Applies (server-side, idempotent) the GatewayClass, Gateway and HTTPRoute CRDs and waits until they are Established. */
export async function installGatewayApiCrds(kubeconfigPath: string, version = GATEWAY_API_VERSION): Promise<void> {
  const dir = await goModuleDir('sigs.k8s.io/gateway-api', version)
  const files = CRDS.map(c => join(dir, 'config/crd/standard', `gateway.networking.k8s.io_${c}.yaml`))
  const yaml = (await Promise.all(files.map(f => readFile(f, 'utf8')))).join('\n---\n')
  await installCrds(kubeconfigPath, `Gateway API ${version}`, yaml, CRDS.map(c => `${c}.gateway.networking.k8s.io`))
}
