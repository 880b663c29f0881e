// Installs the upstream Gateway API CRDs (standard channel) into the test cluster. The YAML comes from
// the Go module cache (`go mod download`), at test time, so no copy of it lives in this repository.
import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { goModuleDir } from './go-module.ts'

const run = promisify(execFile)

// The newest v1.x the Go proxy serves that the installed Go toolchain can download (v1.7 needs Go 1.27).
export const GATEWAY_API_VERSION = process.env.SLUICE_GATEWAY_API_VERSION ?? 'v1.6.3'
const CRDS = ['gatewayclasses', 'gateways', 'httproutes'] as const

/** Applies (server-side, idempotent) the GatewayClass, Gateway and HTTPRoute CRDs and waits until they are Established. */
export async function installGatewayApiCrds(kubeconfigPath: string, version = GATEWAY_API_VERSION): Promise<void> {
  const dir = await goModuleDir('sigs.k8s.io/gateway-api', version)
  const files = CRDS.map(c => join(dir, 'config/crd/standard', `gateway.networking.k8s.io_${c}.yaml`))
  const kubectl = join(process.env.SLUICE_K8S_BIN_DIR ?? '', 'kubectl')
  const args = (rest: string[]): string[] => ['--kubeconfig', kubeconfigPath, ...rest, ...files.flatMap(f => ['-f', f])]
  try {
    await run(kubectl, args(['apply', '--server-side', '--force-conflicts', '--field-manager=sluice-tests']), { maxBuffer: 16 << 20 })
    await run(kubectl, args(['wait', '--for=condition=Established', '--timeout=60s']), { maxBuffer: 16 << 20 })
  } catch (e) {
    const err = e as { stderr?: string; message: string }
    throw new Error(`installing Gateway API ${version} CRDs: ${err.stderr ?? err.message}`, { cause: e })
  }
}
