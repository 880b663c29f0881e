// Installs what sluice needs in the local cluster — CRDs, namespace, ServiceAccount and RBAC from
// manifests/ — and writes a kubeconfig with the ServiceAccount's token, so that sluice runs under its
// own identity (never the admin the tests' kubectl uses) and the RBAC is really exercised.
import { execFile } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { promisify } from 'node:util'
import { kubeconfigYaml, type ClusterState } from './cluster.ts'
import { LOADTESTER_SERVICE_ACCOUNT, loadTesterIdentityYaml, writeLoadTesterKubeconfig } from './loadtester.ts'

const run = promisify(execFile)
const root = resolve(import.meta.dirname, '../..')
export const SLUICE_NAMESPACE = 'sluice-system'
export const SLUICE_SERVICE_ACCOUNT = 'sluice'
export const SLUICE_USERNAME = `system:serviceaccount:${SLUICE_NAMESPACE}:${SLUICE_SERVICE_ACCOUNT}`

async function kubectl(state: ClusterState, args: string[]): Promise<string> {
  try {
    const { stdout } = await run(join(state.binDir, 'kubectl'), ['--kubeconfig', state.kubeconfig, ...args], { maxBuffer: 16 << 20 })
    return stdout
  } catch (e) {
    const err = e as { stderr?: string; message: string }
    throw new Error(`kubectl ${args.join(' ')}: ${err.stderr ?? err.message}`, { cause: e })
  }
}

export async function installSluice(state: ClusterState): Promise<{ kubeconfig: string; username: string }> {
  await kubectl(state, ['apply', '--server-side', '--force-conflicts', '-f', join(root, 'manifests/crds')])
  await kubectl(state, ['wait', '--for=condition=Established', '--timeout=60s', '-f', join(root, 'manifests/crds')])
  await kubectl(state, ['apply', '--server-side', '--force-conflicts', '-f', join(root, 'manifests/rbac.yaml')])
  const token = (await kubectl(state, ['create', 'token', SLUICE_SERVICE_ACCOUNT, '-n', SLUICE_NAMESPACE, '--duration=48h'])).trim()
  const kubeconfig = join(state.dir, 'sluice.kubeconfig')
  writeFileSync(kubeconfig, kubeconfigYaml(`https://127.0.0.1:${state.apiPort}`, state.caPem, token, SLUICE_SERVICE_ACCOUNT), { mode: 0o600 })
  return { kubeconfig, username: SLUICE_USERNAME }
}

/** The load tester's identity and gate ConfigMap in sluice's namespace, and a kubeconfig with its token. */
export async function installLoadTester(state: ClusterState): Promise<{ kubeconfig: string }> {
  const manifest = join(state.dir, 'loadtester-identity.yaml')
  writeFileSync(manifest, loadTesterIdentityYaml(SLUICE_NAMESPACE))
  await kubectl(state, ['apply', '--server-side', '--force-conflicts', '-f', manifest])
  const token = (await kubectl(state, ['create', 'token', LOADTESTER_SERVICE_ACCOUNT, '-n', SLUICE_NAMESPACE, '--duration=48h'])).trim()
  const kubeconfig = join(state.dir, 'loadtester.kubeconfig')
  writeLoadTesterKubeconfig(state, token, kubeconfig)
  return { kubeconfig }
}
