// Releases for the operator-command e2e files: podinfo through nginx in a namespace with its own controller,
// and a user who may only read Canaries.
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { KubeConfig } from '@kubernetes/client-node'
import { kubeconfigYaml } from '../cluster/cluster.ts'
import { kubeConfig, kubectlOk, type TestLike } from '../helpers/kube.ts'
import { until } from '../helpers/wait.ts'
import { apply, deploymentYaml, ingressYaml, IMAGE_V2 } from './apps.ts'
import { canary, phase, testNamespace } from './env.ts'

/** A release of podinfo through nginx, Initialized, then (after `prepare`) a new version applied. */
export interface NewVersion {
  readonly pod?: Record<string, string>
  readonly prepare?: (ns: string) => Promise<unknown>
}

export async function releasing(t: TestLike, metricsServer: string, annotations: Record<string, string>, v2: NewVersion = {}): Promise<string> {
  const { ns } = await testNamespace(t, { metricsServer })
  await apply(ingressYaml(ns))
  await apply(deploymentYaml({ ns, sluice: annotations }))
  await phase(ns, 'podinfo', 'Initialized')
  await v2.prepare?.(ns)
  await apply(deploymentYaml({ ns, image: IMAGE_V2, sluice: annotations, ...(v2.pod && { pod: v2.pod }) }))
  return ns
}

export async function weightAtLeast(ns: string, weight: number): Promise<number> {
  const c = await until(() => canary(ns, 'podinfo'), c => (c?.status?.canaryWeight ?? 0) >= weight, `canary weight ${weight}`, 120_000)
  return c?.status?.canaryWeight ?? 0
}

/** A ServiceAccount that may only get Canaries, and a kubeconfig with its token. */
export async function viewer(ns: string): Promise<string> {
  await kubectlOk(['-n', ns, 'create', 'serviceaccount', 'viewer'])
  await kubectlOk(['-n', ns, 'create', 'role', 'canary-reader', '--verb=get', '--resource=canaries.sluice.dev'])
  await kubectlOk(['-n', ns, 'create', 'rolebinding', 'viewer', '--role=canary-reader', `--serviceaccount=${ns}:viewer`])
  const token = (await kubectlOk(['-n', ns, 'create', 'token', 'viewer'])).trim()
  const admin: KubeConfig = kubeConfig()
  const cluster = admin.getCurrentCluster()
  const ca = Buffer.from(cluster?.caData ?? '', 'base64').toString()
  const path = join(process.env.SLUICE_CLUSTER_DIR ?? '/tmp', `viewer-${ns}.kubeconfig`)
  writeFileSync(path, kubeconfigYaml(cluster?.server ?? '', ca, token, 'viewer'), { mode: 0o600 })
  return path
}
