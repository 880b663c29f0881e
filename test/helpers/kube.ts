// Test access to the run's cluster: the admin KubeConfig, kubectl (the one built with the cluster), and
// a fresh namespace per test, deleted when the test ends.
import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node'
import { isNotFound } from '../../src/kube/errors.ts'
import { until } from './wait.ts'

export interface TestLike {
  readonly name: string
  teardown(fn: () => unknown): void
}

export function kubeconfigPath(): string {
  const p = process.env.KUBECONFIG
  if (!p) throw new Error('KUBECONFIG is not set: run integration tests through `make test-integration`')
  return p
}

export function kubeConfig(): KubeConfig {
  const kc = new KubeConfig()
  kc.loadFromFile(kubeconfigPath())
  return kc
}

/** sluice's own identity (a token of its ServiceAccount), written by the harness, for tests that act as sluice. */
export function sluiceKubeconfigPath(): string {
  const p = process.env.SLUICE_KUBECONFIG
  if (!p) throw new Error('SLUICE_KUBECONFIG is not set: run through test/cluster/with-cluster.ts')
  return p
}

export function sluiceKubeConfig(): KubeConfig {
  const kc = new KubeConfig()
  kc.loadFromFile(sluiceKubeconfigPath())
  return kc
}

export function kubectlPath(): string {
  const dir = process.env.SLUICE_K8S_BIN_DIR
  return dir ? join(dir, 'kubectl') : 'kubectl'
}

export interface KubectlResult { code: number; stdout: string; stderr: string }

/** Runs the real kubectl with argument arrays (no shell); `input` goes to stdin. */
export async function kubectl(args: readonly string[], input?: string, kubeconfig = kubeconfigPath()): Promise<KubectlResult> {
  return new Promise(resolveRun => {
    const child = execFile(kubectlPath(), [...args], { env: { ...process.env, KUBECONFIG: kubeconfig }, maxBuffer: 64 << 20 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0
        resolveRun({ code, stdout, stderr })
      })
    child.stdin?.end(input ?? '')
  })
}

/** kubectl that must succeed; its stderr is in the error otherwise. */
export async function kubectlOk(args: readonly string[], input?: string, kubeconfig = kubeconfigPath()): Promise<string> {
  const r = await kubectl(args, input, kubeconfig)
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed (${r.code}): ${r.stderr}`)
  return r.stdout
}

function slug(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 40)
}

/** A namespace for one test, deleted (without waiting) at teardown. */
export async function namespace(t: TestLike): Promise<string> {
  const name = `${slug(t.name) || 't'}-${randomBytes(3).toString('hex')}`
  const core = kubeConfig().makeApiClient(CoreV1Api)
  await core.createNamespace({ body: { metadata: { name, labels: { 'sluice.dev/test': 'true' } } } })
  t.teardown(async () => { await core.deleteNamespace({ name }).catch(() => undefined) })
  return name
}

/** Whether the object `read` reads is absent (404); any other error is thrown. */
export async function absent(read: () => Promise<unknown>): Promise<boolean> {
  try {
    await read()
    return false
  } catch (e) {
    if (isNotFound(e)) return true
    throw e
  }
}

/** Waits until the object is deleted (by a garbage collector, say), then reads it once more: the answer is what the test asserts. */
export async function gone(read: () => Promise<unknown>, what: string): Promise<boolean> {
  await until(() => absent(read), a => a, `${what} deleted`, 30_000)
  return absent(read)
}
