// Applies upstream CRD manifests to the test cluster (server-side, idempotent) and waits until the API server
// serves them. The YAML is read at test time (from the Go module cache), so no copy of it lives here.
import { execFile } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { parseAllDocuments } from 'yaml'
import { goModuleDir } from './go-module.ts'
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
  // `kubectl get` of one name answers the object, of several a List: both read as a list of CRDs.
  type Crd = { status?: { conditions?: { type: string; status: string }[] } }
  await waitFor(async () => {
    const out = JSON.parse(await run(['get', 'crd', ...names, '-o', 'json'], '')) as Crd & { items?: Crd[] }
    const crds = out.items ?? [out]
    return crds.filter(c => c.status?.conditions?.some(x => x.type === 'Established' && x.status === 'True')).length === names.length
  }, { timeoutMs: 60_000, what: `the ${what} CRDs to be Established` })
}

/** The CRDs named `names` out of `file` (every CRD a project publishes) in the Go module `module@version`, installed as installCrds does. */
export async function installGoModuleCrds(kubeconfigPath: string, o: { what: string; module: string; version: string; file: string; names: readonly string[] }): Promise<void> {
  const dir = await goModuleDir(o.module, o.version)
  const all = await readFile(join(dir, o.file), 'utf8')
  // Only the ones named are installed.
  const wanted = parseAllDocuments(all).filter(d => (o.names as readonly unknown[]).includes(d.getIn(['metadata', 'name'])))
  if (wanted.length !== o.names.length) throw new Error(`${o.module}@${o.version}: expected ${o.names.join(', ')} in ${o.file}`)
  await installCrds(kubeconfigPath, `${o.what} ${o.version}`, wanted.map(d => d.toString()).join('---\n'), o.names)
}
