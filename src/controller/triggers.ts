// Which watch events call for which work. Keys are `c:<ns>/<name>` for a Canary's reconcile and
// `d:<ns>/<name>` for the Canary generated from an annotated Deployment.
import type { V1Deployment } from '@kubernetes/client-node'
import { configKey, configRefs } from '../deployer/configs.ts'
import { primaryName } from '../deployer/primary.ts'
import { isGenerated } from './generate.ts'
import { MANAGED_BY_LABEL, MANAGED_BY_VALUE } from '../api/resolve.ts'
import { isStateKey, isUserKey } from '../api/annotations.ts'
import type { Canary } from '../api/types.ts'
import type { Caches } from './caches.ts'
import type { Lane } from './queue.ts'

interface Triggers {
  readonly generation?: number
  readonly annotations: string
  readonly deleting: boolean
  readonly finalizers: string
}

// A Canary's own status writes come back as watch events; only changes a user (or GC) makes need a reconcile.
function triggersOf(c: Canary): Triggers {
  return {
    ...(c.metadata.generation !== undefined && { generation: c.metadata.generation }),
    annotations: JSON.stringify(c.metadata.annotations ?? {}),
    deleting: c.metadata.deletionTimestamp !== undefined,
    finalizers: JSON.stringify(c.metadata.finalizers ?? []),
  }
}

function sameTriggers(a: Triggers | undefined, b: Triggers): boolean {
  return a !== undefined && a.generation === b.generation && a.annotations === b.annotations && a.deleting === b.deleting && a.finalizers === b.finalizers
}

const annotationsWhere = (d: V1Deployment, keep: (key: string) => boolean): [string, string][] =>
  Object.entries(d.metadata?.annotations ?? {}).filter(([k]) => keep(k))

/**
 * What the generator reads of a Deployment (resolve() takes its sluice.dev annotations and labels, never its spec
 * or status): the status updates of a rollout, most of a Deployment's events, need no new look at its Canary, nor
 * do the annotations others write on every rollout (the deployment controller's revision, kubectl's last applied).
 */
export function generatorInputs(d: V1Deployment): string {
  const m = d.metadata ?? {}
  return JSON.stringify([m.uid ?? '', annotationsWhere(d, isUserKey), m.labels ?? {}, m.deletionTimestamp !== undefined])
}

export const keyOf = (kind: 'c' | 'd', namespace: string | undefined, name: string | undefined): string => `${kind}:${namespace ?? ''}/${name ?? ''}`

export function splitKey(key: string): { kind: string; namespace: string; name: string } {
  const [kind, rest] = [key.slice(0, 1), key.slice(2)]
  const slash = rest.indexOf('/')
  return { kind, namespace: rest.slice(0, slash), name: rest.slice(slash + 1) }
}

export const isGeneratedObject = (d: V1Deployment): boolean => d.metadata?.labels?.[MANAGED_BY_LABEL] === MANAGED_BY_VALUE

/** Every key that needs work on a fresh start: each user Deployment and each Canary. */
export function allKeys(caches: Caches): string[] {
  const deployments = caches.deployments.list().filter(d => !isGeneratedObject(d)).map(d => keyOf('d', d.metadata?.namespace, d.metadata?.name))
  return [...deployments, ...caches.canaries.list().map(c => keyOf('c', c.metadata.namespace, c.metadata.name))]
}

/**
 * The Canaries of each Deployment (target or primary), by "namespace/name": a Deployment's watch event, the
 * busiest, finds its Canaries without a scan of every Canary in the namespace.
 */
function deploymentIndex(): { set(canary: string, deployments: readonly string[]): void; canariesOf(deployment: string): Iterable<string> } {
  const canaries = new Map<string, Set<string>>()
  const deploymentsOf = new Map<string, readonly string[]>()
  return {
    set(canary, deployments) {
      for (const d of deploymentsOf.get(canary) ?? []) {
        const set = canaries.get(d)
        set?.delete(canary)
        if (set?.size === 0) canaries.delete(d)
      }
      if (deployments.length === 0) deploymentsOf.delete(canary)
      else deploymentsOf.set(canary, deployments)
      for (const d of deployments) canaries.set(d, (canaries.get(d) ?? new Set()).add(canary))
    },
    canariesOf: deployment => canaries.get(deployment) ?? [],
  }
}

/** What the triggers remember of each Deployment, to tell what its next event changed. */
interface SpecSignal {
  /** generatorInputs: a change wakes the generator. */
  readonly inputs: string
  /** The webhook's record of the revision and the held replicas (status.sluice.dev/ annotations). */
  readonly state: string
  readonly generation?: number
  readonly replicas?: number
}

function specSignal(d: V1Deployment): SpecSignal {
  return {
    inputs: generatorInputs(d),
    state: JSON.stringify(annotationsWhere(d, isStateKey)),
    ...(d.metadata?.generation !== undefined && { generation: d.metadata.generation }),
    ...(d.spec?.replicas !== undefined && { replicas: d.spec.replicas }),
  }
}

/**
 * A Deployment's event is urgent for its Canaries when it brings a new revision or a user's change: new metadata
 * (the webhook records each new template's revision there), or a new generation that is not only a new replica
 * count (sluice scales the target and the primary itself). The rest, status updates while its pods come up and
 * sluice's own scaling, only move a Canary on: routine, behind new revisions.
 */
function isUrgent(before: SpecSignal | undefined, now: SpecSignal): boolean {
  if (before === undefined || before.inputs !== now.inputs || before.state !== now.state) return true
  return before.generation !== now.generation && before.replicas === now.replicas
}

/** Feeds `enqueue` from the caches' watch events, in the urgent lane unless `lane` says routine. */
export function wireTriggers(caches: Caches, enqueue: (key: string, lane?: Lane) => void, watchNamespace: string | undefined): void {
  const enqueueCanaries = (namespace: string | undefined, match: (canary: Canary) => boolean): void => {
    for (const c of caches.canaries.list(namespace).filter(match)) enqueue(keyOf('c', c.metadata.namespace, c.metadata.name))
  }
  const seen = new Map<string, Triggers>()
  const byDeployment = deploymentIndex()
  caches.canaries.on((c, event) => {
    const key = keyOf('c', c.metadata.namespace, c.metadata.name)
    const triggers = triggersOf(c)
    if (event === 'delete') seen.delete(key)
    else if (event === 'update' && sameTriggers(seen.get(key), triggers)) return
    else seen.set(key, triggers)
    byDeployment.set(key, event === 'delete' ? [] : [c.spec.targetRef.name, primaryName(c.spec.targetRef.name)].map(n => `${c.metadata.namespace ?? ''}/${n}`))
    enqueue(key)
    // A generated Canary edited or deleted by hand is put back as the annotations say, at once.
    if (event === 'delete' || isGenerated(c)) enqueue(keyOf('d', c.metadata.namespace, c.spec.targetRef.name))
  })
  const signals = new Map<string, SpecSignal>()
  caches.deployments.on((d, event) => {
    const namespace = d.metadata?.namespace
    const name = d.metadata?.name ?? ''
    const key = keyOf('d', namespace, name)
    const before = signals.get(key)
    const now = event === 'delete' ? undefined : specSignal(d)
    if (now === undefined) signals.delete(key)
    else {
      signals.set(key, now)
      if (!isGeneratedObject(d) && before?.inputs !== now.inputs) enqueue(key)
    }
    const lane: Lane = now === undefined || isUrgent(before, now) ? 'urgent' : 'routine'
    // Readiness of either side moves a waiting Canary on at once; a new spec goes ahead of the ticks.
    for (const canary of byDeployment.canariesOf(`${namespace ?? ''}/${name}`)) enqueue(canary, lane)
  })
  const onConfig = (kind: 'configmap' | 'secret') => (obj: { metadata?: { namespace?: string; name?: string } }): void => {
    const key = configKey({ kind, name: obj.metadata?.name ?? '' })
    const namespace = obj.metadata?.namespace
    enqueueCanaries(namespace, c => {
      const target = caches.deployments.get(c.spec.targetRef.name, namespace)
      return configRefs(target?.spec?.template.spec).some(r => configKey(r) === key)
    })
  }
  caches.configMaps.on(onConfig('configmap'))
  caches.secrets.on(onConfig('secret'))
  caches.autoscalers.on(h => { enqueueCanaries(h.metadata?.namespace, c => c.spec.autoscalerRef?.name === h.metadata?.name) })
  const enqueueDeployments = (namespace: string | undefined): void => {
    for (const d of caches.deployments.list(namespace)) enqueue(keyOf('d', d.metadata?.namespace, d.metadata?.name))
  }
  caches.policies.on(() => { enqueueDeployments(watchNamespace) })
  // Policies select by namespace labels too.
  caches.namespaces.on(ns => { if (watchNamespace === undefined || ns.metadata?.name === watchNamespace) enqueueDeployments(ns.metadata?.name) })
}
