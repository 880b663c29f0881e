// Applies upstream CRD manifests to the test cluster (server-side, idempotent) and waits until the API server
// serves them. The YAML is read at test time (from the Go module cache), so no copy of it lives here.
import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { waitFor } from './process.ts'

/** Applies `yaml` (the CRDs' documents) and waits until each CRD in `names` is Established. */
export async function installCrds(kubeconfigPath: string, what: string, yaml: string, names: readonly string[]): Promise<void> {
  const kubectl = join(process.env.SLUICE_K8S_BIN_DIR ?? '', 'kubectl')
  const run = (args: string[], input: string): Promise<string> => new Promise((resolve, reject) => {
    const child = execFile(kubectl, ['--kubeconfig', kubeconfigPath, ...args], { maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`installing ${what} CRDs: ${stderr || err.message}`, { cause: err }))
      else resolve(stdout)
    })
    child.stdin?.end(input)
  })
  await run(['apply', '--server-side', '--force-conflicts', '--field-manager=sluice-tests', '-f', '-'], yaml)
  // Polled rather than `kubectl wait`, which fails on a CRD whose status has no conditions yet (just created).
  // Read as JSON: kubectl answers one name with the object itself, several with a List.
  type Crd = { status?: { conditions?: { type?: string; status?: string }[] } }
  await waitFor(async () => {
    const out = JSON.parse(await run(['get', 'crd', ...names, '-o', 'json'], '')) as Crd & { items?: Crd[] }
    const crds = out.items ?? [out]
    return crds.filter(c => c.status?.conditions?.some(x => x.type === 'Established' && x.status === 'True')).length === names.length
  }, { timeoutMs: 60_000, what: `the ${what} CRDs to be Established` })
}
