// Watches for `get -w` and `status`: the informers of src/kube (list, then watch, restarted on errors) on
// the objects of one release, or on the Canaries of a namespace. Each is listed once first, so that a user
// without list or watch rights gets the API server's refusal instead of an informer retrying forever.
import { AppsV1Api, CoreV1Api, CustomObjectsApi, type CoreV1Event, type KubernetesObject, type V1Deployment } from '@kubernetes/client-node'
import { normalizeCanary } from '../api/compat.ts'
import { GROUP, VERSION, type Canary } from '../api/types.ts'
import { primaryName } from '../deployer/primary.ts'
import { readApiError } from '../kube/errors.ts'
import { createInformer, type Informer } from '../kube/informer.ts'
import { eventTime, type Release } from './canaries.ts'
import type { Cluster } from './cluster.ts'
import { apiFailure } from './exit.ts'

type Listed<T> = { items: T[]; metadata?: { resourceVersion?: string } }

export interface Watching {
  stop(): void
}

/** Changes arriving together (a status write and its Events) make one callback. */
const SETTLE_MS = 100

interface Source<T extends KubernetesObject> {
  readonly what: string
  readonly path: string
  readonly fieldSelector?: string
  readonly list: () => Promise<Listed<T>>
  /** Leave this source out when the user may not read it (Events, Deployments), instead of failing. */
  readonly optional?: boolean
}

async function start<T extends KubernetesObject>(cluster: Cluster, s: Source<T>, onChange: () => void): Promise<Informer<T> | undefined> {
  try {
    await s.list()
  } catch (e) {
    if (s.optional && readApiError(e)?.code === 403) return undefined
    throw apiFailure(e, `list ${s.what}`, cluster.server)
  }
  const informer = createInformer<T>(cluster.kc, { path: s.path, list: s.list, ...(s.fieldSelector && { fieldSelector: s.fieldSelector }) })
  informer.on(onChange)
  await informer.start()
  return informer
}

function debounced(fn: () => void): () => void {
  let timer: NodeJS.Timeout | undefined
  return () => {
    clearTimeout(timer)
    timer = setTimeout(fn, SETTLE_MS)
  }
}

function deploymentSource(cluster: Cluster, namespace: string, name: string): Source<V1Deployment> {
  const apps = cluster.kc.makeApiClient(AppsV1Api)
  const fieldSelector = `metadata.name=${name}`
  return {
    what: `Deployment ${namespace}/${name}`, path: `/apis/apps/v1/namespaces/${namespace}/deployments`, fieldSelector, optional: true,
    list: () => apps.listNamespacedDeployment({ namespace, fieldSelector }),
  }
}

// Custom resources are typed by src/api (timestamps as strings), client-node's objects by its models.
function canarySource(cluster: Cluster, namespace: string | undefined, name?: string): Source<KubernetesObject> {
  const custom = cluster.kc.makeApiClient(CustomObjectsApi)
  const fieldSelector = name === undefined ? undefined : `metadata.name=${name}`
  const scope = namespace === undefined ? '' : `/namespaces/${namespace}`
  return {
    what: `Canaries${namespace === undefined ? ' in all namespaces' : ` in namespace ${namespace}`}`,
    path: `/apis/${GROUP}/${VERSION}${scope}/canaries`,
    ...(fieldSelector && { fieldSelector }),
    list: async () => {
      const params = { group: GROUP, version: VERSION, plural: 'canaries', ...(fieldSelector && { fieldSelector }) }
      const listed: unknown = namespace === undefined ? await custom.listClusterCustomObject(params) : await custom.listNamespacedCustomObject({ ...params, namespace })
      return listed as Listed<KubernetesObject>
    },
  }
}

function eventSource(cluster: Cluster, namespace: string, name: string): Source<CoreV1Event> {
  const core = cluster.kc.makeApiClient(CoreV1Api)
  const fieldSelector = `involvedObject.kind=Canary,involvedObject.name=${name}`
  return {
    what: `Events in namespace ${namespace}`, path: `/api/v1/namespaces/${namespace}/events`, fieldSelector, optional: true,
    list: () => core.listNamespacedEvent({ namespace, fieldSelector }),
  }
}


/** Calls `onChange` with the release as it is now whenever its Canary, Deployments or Events change; undefined once the Canary is gone. */
export async function watchRelease(cluster: Cluster, canary: Canary, onChange: (r: Release | undefined) => void): Promise<Watching> {
  const ns = canary.metadata.namespace ?? ''
  const name = canary.metadata.name ?? ''
  const target = canary.spec.targetRef.name
  let stopped = false
  const holder: { caches?: Caches } = {}
  const emit = debounced(() => {
    const caches = holder.caches
    if (stopped || !caches) return
    const c = caches.canaries?.get(name, ns) as unknown as Canary | undefined
    if (!c) return onChange(undefined)
    const targetNow = caches.target?.get(target, ns)
    const primaryNow = caches.primary?.get(primaryName(target), ns)
    onChange({
      canary: normalizeCanary(c), events: [...caches.events?.list(ns) ?? []].sort((a, b) => eventTime(a) - eventTime(b)),
      ...(targetNow && { target: targetNow }), ...(primaryNow && { primary: primaryNow }),
    })
  })
  const [canaries, events, targets, primaries] = await Promise.all([
    start(cluster, canarySource(cluster, ns, name), emit), start(cluster, eventSource(cluster, ns, name), emit),
    start(cluster, deploymentSource(cluster, ns, target), emit), start(cluster, deploymentSource(cluster, ns, primaryName(target)), emit),
  ])
  holder.caches = { canaries, events, target: targets, primary: primaries }
  emit()
  return { stop() { stopped = true; for (const i of [canaries, events, targets, primaries]) i?.stop() } }
}

interface Caches {
  readonly canaries: Informer<KubernetesObject> | undefined
  readonly events: Informer<CoreV1Event> | undefined
  readonly target: Informer<V1Deployment> | undefined
  readonly primary: Informer<V1Deployment> | undefined
}

/** Calls `onChange` with every Canary of the namespace (or all) whenever one changes. */
export async function watchCanaries(cluster: Cluster, namespace: string | undefined, onChange: (canaries: Canary[]) => void): Promise<Watching> {
  let stopped = false
  const cache: { informer?: Informer<KubernetesObject> } = {}
  const emit = debounced(() => {
    if (stopped || !cache.informer) return
    const key = (c: Canary): string => `${c.metadata.namespace ?? ''}/${c.metadata.name ?? ''}`
    onChange((cache.informer.list(namespace) as unknown as Canary[]).map(normalizeCanary).sort((a, b) => key(a).localeCompare(key(b))))
  })
  const informer = await start(cluster, canarySource(cluster, namespace), emit)
  if (informer) cache.informer = informer
  emit()
  return { stop() { stopped = true; informer?.stop() } }
}

/**
 * Follows a release until `decide` returns a value for a view of it (or for its deletion, undefined), or
 * until `timeoutMs` (0: no limit) passes, when `timedOut` gives the value.
 */
export function followRelease<T>(
  cluster: Cluster, canary: Canary, decide: (r: Release | undefined) => T | undefined, timeoutMs: number, timedOut: () => T,
): Promise<T> {
  return new Promise((resolve, reject) => {
    let watching: Watching | undefined
    let done = false
    const finish = (value: T): void => {
      if (done) return
      done = true
      clearTimeout(timer)
      watching?.stop()
      resolve(value)
    }
    const timer = timeoutMs > 0 ? setTimeout(() => finish(timedOut()), timeoutMs) : undefined
    watchRelease(cluster, canary, r => {
      const value = done ? undefined : decide(r)
      if (value !== undefined) finish(value)
    }).then(w => {
      watching = w
      if (done) w.stop()
    }, (e: unknown) => {
      done = true
      clearTimeout(timer)
      reject(e instanceof Error ? e : new Error(String(e)))
    })
  })
}
