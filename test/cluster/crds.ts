// Applies upstream CRD manifests to the test cluster (server-side, idempotent) and waits until the API server
// serves them. The YAML is read at test time (from the Go module cache), so no copy of it lives here.
import { execFile } from 'node:child_process'
import { join } from 'node:path'

/** Applies `yaml` (the CRDs' documents) and waits until each CRD in `names` is Established. */
export async function installCrds(kubeconfigPath: string, what: string, yaml: string, names: readonly string[]): Promise<void> {
  const kubectl = join(process.env.SLUICE_K8S_BIN_DIR ?? '', 'kubectl')
  const run = (args: string[], input: string): Promise<void> => new Promise((resolve, reject) => {
    const child = execFile(kubectl, ['--kubeconfig', kubeconfigPath, ...args], { maxBuffer: 16 << 20 }, (err, _stdout, stderr) => {
      if (err) reject(new Error(`installing ${what} CRDs: ${stderr || err.message}`, { cause: err }))
      else resolve()
    })
    child.stdin?.end(input)
  })
  await run(['apply', '--server-side', '--force-conflicts', '--field-manager=sluice-tests', '-f', '-'], yaml)
  await run(['wait', '--for=condition=Established', '--timeout=60s', ...names.map(n => `crd/${n}`)], '')
}
