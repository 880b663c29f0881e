// Observes one Canary for the phase machine: the target, the primary, the tracked configs, the router's
// weights as stored, operator requests, and whether the metrics servers answer.
import { randomBytes } from 'node:crypto'
import type { ApplyClient } from '../kube/apply.ts'
import type { AnalysisDeps } from '../metrics/analysis.ts'
import { createHealthCheck } from '../metrics/health.ts'
import { revertRouterFor } from '../router/registry.ts'
import { workloadState } from '../deployer/workload.ts'
import type { Canary } from '../api/types.ts'
import type { Caches } from './caches.ts'
import type { CanaryClient } from './canary-client.ts'
import type { RecordEvent } from './canary-events.ts'
import type { Scene } from './actions.ts'
import type { Observed } from './machine/types.ts'
import { needsMetricsHealth } from './machine/phases.ts'
import { isGenerated } from './generate.ts'
import { desiredReplicas, isOptedOut, primaryOf, readWeights, requestsOf, revisionOf, trackedConfigs } from './observe.ts'

export interface Observation {
  readonly scene: Scene
  readonly observed: Observed
}

export interface ObserverDeps {
  readonly caches: Caches
  readonly kube: ApplyClient
  readonly client: CanaryClient
  readonly record: RecordEvent
  readonly metricDeps: AnalysisDeps
  readonly now: () => Date
}

/** Everything the phase machine reads; undefined when there is nothing to decide (no target). */
export type Observe = (c: Canary) => Promise<Observation | undefined>

/** A fresh value for a session cookie, for a Canary with sessionAffinity; URL-safe, so it needs no quoting in a Cookie header or a route's match. */
function cookieValue(c: Canary): Pick<Observed, 'cookieValue'> {
  return c.spec.analysis?.sessionAffinity ? { cookieValue: randomBytes(9).toString('base64url') } : {}
}

export function createObserver(d: ObserverDeps): Observe {
  const metricsHealth = createHealthCheck()

  /** Whether the Canary's metrics servers answer (Flagger's IsOnline), asked only when the machine may use it. */
  async function metricsOnline(c: Canary): Promise<Pick<Observed, 'metricsOnline' | 'offlineMetricsServers'>> {
    if (c.metadata.deletionTimestamp || !needsMetricsHealth(c, d.now())) return {}
    const health = await metricsHealth.check(c, d.metricDeps)
    if (!health) return {}
    return { metricsOnline: health.online, ...(health.offline.length > 0 && { offlineMetricsServers: health.offline }) }
  }

  // The Deployment is gone: what sluice generated is owned by the Canary and goes with it.
  async function targetGone(c: Canary, deleting: boolean): Promise<void> {
    if (deleting || isGenerated(c)) await d.client.removeFinalizer(c)
    else await d.record(c, undefined, 'Warning', 'TargetNotFound', `Deployment ${c.metadata.namespace ?? ''}/${c.spec.targetRef.name} (spec.targetRef) does not exist; nothing to deliver until it does`)
  }

  return async c => {
    const namespace = c.metadata.namespace ?? ''
    const target = d.caches.deployments.get(c.spec.targetRef.name, namespace)
    const deleting = c.metadata.deletionTimestamp !== undefined
    if (!target) {
      await targetGone(c, deleting)
      return undefined
    }
    if (!deleting) c = await d.client.ensureFinalizer(c)
    const context = { policies: d.caches.policies.list(), namespaceLabels: d.caches.namespaces.get(namespace)?.metadata?.labels ?? {} }
    const optedOut = isOptedOut(c, target, context)
    const primary = primaryOf(d.caches, c)
    const tracked = trackedConfigs(d.caches, target)
    const revision = revisionOf(target, tracked)
    const replicas = desiredReplicas(target, primary)
    // A provider without a router here (a Canary stored before an upgrade, or written by hand) is refused
    // before the machine decides; its revert must still work, so it never depends on that router.
    const router = revertRouterFor(c.spec.provider, d.kube)
    const { requests, invalid } = requestsOf(c)
    for (const problem of invalid) await d.record(c, target, 'Warning', 'InvalidRequest', problem)
    const observed: Observed = {
      now: d.now(),
      revision,
      replicas,
      ...(c.spec.autoscalerRef && { autoscaled: true }),
      canary: workloadState(target),
      primary: workloadState(primary),
      weights: await readWeights(d.kube, router, c, target, c.spec.analysis?.mirrorWeight ?? 100),
      requests,
      ...await metricsOnline(c),
      ...(deleting && { deleting: true }),
      ...(optedOut && { optedOut: true }),
      ...cookieValue(c),
    }
    const copiedBefore = Object.keys(c.status?.trackedConfigs ?? {})
    return { scene: { c, target, router, tracked, revision, replicas, routed: observed.weights !== undefined, copiedBefore, optedOut }, observed }
  }
}
