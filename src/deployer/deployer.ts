// The deployer's I/O: `<target>-primary` created and promoted by server-side apply, the target scaled
// through its scale subresource, tracked configs copied, `<hpa>-primary` kept in step, and all of it
// removed on revert. Reads come from the informer caches the controller passes in.
import { AppsV1Api, CoreV1Api, type KubeConfig, type V1Deployment, type V2HorizontalPodAutoscaler } from '@kubernetes/client-node'
import { isNotFound } from '../kube/errors.ts'
import type { KubeObject, ApplyClient } from '../kube/apply.ts'
import { canonicalJson } from '../kube/revision.ts'
import type { Canary } from '../api/types.ts'
import { configKey, primaryConfigName, type ConfigRef } from './configs.ts'
import { primaryAutoscaler, primaryConfig, primaryDeployment, primaryName } from './primary.ts'

export interface Deployer {
  /** Creates the primary at `revision`, or brings an existing one to it; copies the tracked configs first. */
  ensurePrimary(canary: Canary, target: V1Deployment, revision: string, replicas: number, tracked: readonly ConfigRef[]): Promise<void>
  /** Copies the target's template to the primary (configs first, so new pods find their copies). */
  promote(canary: Canary, target: V1Deployment, revision: string, replicas: number, tracked: readonly ConfigRef[]): Promise<void>
  scale(namespace: string, name: string, replicas: number): Promise<void>
  /** `<hpa>-primary` from the target's autoscaler (written only when `existing` differs); undefined `hpa` deletes it. */
  syncAutoscaler(canary: Canary, hpa: V2HorizontalPodAutoscaler | undefined, existing: V2HorizontalPodAutoscaler | undefined): Promise<void>
  /** Deletes the primary, its config copies and its autoscaler. */
  removeGenerated(canary: Canary, trackedKeys: readonly string[]): Promise<void>
}

export function createDeployer(kc: KubeConfig, kube: ApplyClient): Deployer {
  const apps = kc.makeApiClient(AppsV1Api)
  const core = kc.makeApiClient(CoreV1Api)

  async function copyConfigs(canary: Canary, tracked: readonly ConfigRef[]): Promise<void> {
    const namespace = canary.metadata.namespace ?? ''
    for (const ref of tracked) {
      // Read from the API, not a cache: the controller caches only hashes of config data, never Secrets' contents.
      const source = ref.kind === 'configmap'
        ? await core.readNamespacedConfigMap({ name: ref.name, namespace }).catch(ignoreNotFound)
        : await core.readNamespacedSecret({ name: ref.name, namespace }).catch(ignoreNotFound)
      if (source) await kube.apply(primaryConfig(canary, source, ref.kind) as unknown as KubeObject)
    }
  }

  async function applyPrimary(canary: Canary, target: V1Deployment, revision: string, replicas: number, tracked: readonly ConfigRef[]): Promise<void> {
    await copyConfigs(canary, tracked)
    const keys = new Set(tracked.map(configKey))
    await kube.apply(primaryDeployment({ canary, target, revision, replicas, tracked: keys }) as unknown as KubeObject)
  }

  return {
    ensurePrimary: applyPrimary,
    promote: applyPrimary,
    async scale(namespace, name, replicas) {
      await apps.replaceNamespacedDeploymentScale({ name, namespace, body: { metadata: { name, namespace }, spec: { replicas } } })
    },
    async syncAutoscaler(canary, hpa, existing) {
      const ref = canary.spec.autoscalerRef
      const namespace = canary.metadata.namespace ?? ''
      if (!ref) return
      if (!hpa) {
        await kube.delete({ apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', namespace, name: primaryName(ref.name) })
        return
      }
      const desired = primaryAutoscaler(canary, hpa)
      // Called on every reconcile: write only when the cached copy differs in what sluice sets.
      if (existing && canonicalJson(pick(existing.spec, desired.spec)) === canonicalJson(desired.spec)) return
      await kube.apply(desired as unknown as KubeObject)
    },
    async removeGenerated(canary, trackedKeys) {
      const namespace = canary.metadata.namespace ?? ''
      const ref = canary.spec.autoscalerRef
      if (ref) await kube.delete({ apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', namespace, name: primaryName(ref.name) })
      await kube.delete({ apiVersion: 'apps/v1', kind: 'Deployment', namespace, name: primaryName(canary.spec.targetRef.name) })
      for (const key of trackedKeys) {
        const [kind, name] = key.split('/') as [string, string]
        await kube.delete({ apiVersion: 'v1', kind: kind === 'secret' ? 'Secret' : 'ConfigMap', namespace, name: primaryConfigName(name) })
      }
    },
  }
}

/** The fields of `actual` that `wanted` sets, so that server defaults elsewhere do not count as a difference. */
function pick(actual: unknown, wanted: unknown): unknown {
  if (typeof wanted !== 'object' || wanted === null || Array.isArray(wanted) || typeof actual !== 'object' || actual === null) return actual
  return Object.fromEntries(Object.keys(wanted).map(k => [k, pick((actual as Record<string, unknown>)[k], (wanted as Record<string, unknown>)[k])]))
}

function ignoreNotFound(err: unknown): undefined {
  if (isNotFound(err)) return undefined
  throw err
}
