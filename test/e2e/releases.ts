// podinfo through nginx, opted in and released, for the e2e files (each in its own namespace).
import type { TestLike } from '../helpers/kube.ts'
import { until } from '../helpers/wait.ts'
import { apply, deploymentYaml, ingressYaml, IMAGE_V2 } from './apps.ts'
import { canary, phase, testNamespace } from './env.ts'

/** podinfo behind the nginx Ingress, opted in with `annotations`, once its Canary is Initialized. */
export async function initializedApp(ns: string, annotations: Record<string, string>): Promise<void> {
  await apply(ingressYaml(ns))
  await apply(deploymentYaml({ ns, sluice: annotations }))
  await phase(ns, 'podinfo', 'Initialized')
}

/** A release of podinfo through nginx, Initialized, then (after `prepare`) a new version applied. */
export interface NewVersion {
  readonly pod?: Record<string, string>
  readonly prepare?: (ns: string) => Promise<unknown>
}

export async function releasing(t: TestLike, metricsServer: string, annotations: Record<string, string>, v2: NewVersion = {}): Promise<string> {
  const { ns } = await testNamespace(t, { metricsServer })
  await initializedApp(ns, annotations)
  await v2.prepare?.(ns)
  await apply(deploymentYaml({ ns, image: IMAGE_V2, sluice: annotations, ...(v2.pod && { pod: v2.pod }) }))
  return ns
}

export async function weightAtLeast(ns: string, weight: number): Promise<number> {
  const c = await until(() => canary(ns, 'podinfo'), c => (c?.status?.canaryWeight ?? 0) >= weight, `canary weight ${weight}`, 120_000)
  return c?.status?.canaryWeight ?? 0
}
