// What the operator commands read from the API server, as the user of the kubeconfig: Canaries, the
// Deployments of a release, its Events; and the "no such Canary" answer that says where it looked.
import { AppsV1Api, CoreV1Api, CustomObjectsApi, type CoreV1Event, type V1Deployment } from '@kubernetes/client-node'
import { normalizeCanary } from '../api/compat.ts'
import { GROUP, VERSION, type Canary } from '../api/types.ts'
import { primaryName } from '../deployer/primary.ts'
import { isNotFound, readApiError } from '../kube/errors.ts'
import type { Cluster } from './cluster.ts'
import { apiFailure, CliError, EXIT } from './exit.ts'

/** A release as the commands show it: the Canary, its two Deployments, its recent Events (oldest first). */
export interface Release {
  readonly canary: Canary
  readonly target?: V1Deployment
  readonly primary?: V1Deployment
  readonly events: readonly CoreV1Event[]
}

/** "namespace/name" of a Canary, as messages name it. */
export function canaryName(c: Canary): string {
  return `${c.metadata.namespace ?? ''}/${c.metadata.name ?? ''}`
}

function canaryPath(namespace: string) {
  return { group: GROUP, version: VERSION, namespace, plural: 'canaries' }
}

/** Canaries of a namespace, or of every namespace (`namespace` undefined). */
export async function listCanaries(cluster: Cluster, namespace: string | undefined): Promise<Canary[]> {
  const custom = cluster.kc.makeApiClient(CustomObjectsApi)
  try {
    const list = (namespace === undefined
      ? await custom.listClusterCustomObject({ group: GROUP, version: VERSION, plural: 'canaries' })
      : await custom.listNamespacedCustomObject(canaryPath(namespace))) as { items: Canary[] }
    return list.items.map(normalizeCanary).sort((a, b) => canaryName(a).localeCompare(canaryName(b)))
  } catch (e) {
    throw apiFailure(e, `list Canaries ${namespace === undefined ? 'in all namespaces' : `in namespace ${namespace}`}`, cluster.server)
  }
}

async function notFound(cluster: Cluster, namespace: string, name: string): Promise<CliError> {
  const searched = `no Canary "${name}" in namespace "${namespace}"`
  let there: string
  try {
    const names = (await listCanaries(cluster, namespace)).map(c => c.metadata.name ?? '')
    there = names.length === 0 ? `namespace ${namespace} has no Canaries` : `Canaries in ${namespace}: ${names.join(', ')}`
  } catch (e) {
    there = `listing the Canaries of ${namespace} failed too (${(e as Error).message})`
  }
  return new CliError(EXIT.notFound, `${searched}; ${there} (another namespace: -n NS, or -A to search them all)`)
}

export async function getCanary(cluster: Cluster, namespace: string, name: string): Promise<Canary> {
  const custom = cluster.kc.makeApiClient(CustomObjectsApi)
  try {
    return normalizeCanary(await custom.getNamespacedCustomObject({ ...canaryPath(namespace), name }) as Canary)
  } catch (e) {
    if (isNotFound(e)) throw await notFound(cluster, namespace, name)
    throw apiFailure(e, `get Canary ${namespace}/${name}`, cluster.server)
  }
}

/** A Canary by name in every namespace (-A): exactly one must match. */
export async function findCanary(cluster: Cluster, name: string): Promise<Canary> {
  const found = (await listCanaries(cluster, undefined)).filter(c => c.metadata.name === name)
  if (found.length === 1) return found[0]!
  if (found.length === 0) throw new CliError(EXIT.notFound, `no Canary "${name}" in any namespace you may list`)
  throw new CliError(EXIT.usage, `Canaries named "${name}" are in several namespaces (${found.map(c => c.metadata.namespace).join(', ')}); choose one with -n`)
}

// Parts of the view the user may not be allowed to read (Events, Deployments) are left out, not fatal.
async function optional<T>(read: () => Promise<T>): Promise<T | undefined> {
  try {
    return await read()
  } catch (e) {
    const code = readApiError(e)?.code
    if (code === 404 || code === 403) return undefined
    throw e
  }
}

/** When an Event last happened, for ordering (the API server and watch events give strings or Dates). */
export function eventTime(e: CoreV1Event): number {
  const t = e.lastTimestamp ?? e.eventTime ?? e.firstTimestamp ?? e.metadata.creationTimestamp
  return t === undefined ? 0 : new Date(t).getTime()
}

export async function readEvents(cluster: Cluster, c: Canary): Promise<CoreV1Event[]> {
  const core = cluster.kc.makeApiClient(CoreV1Api)
  const fieldSelector = `involvedObject.kind=Canary,involvedObject.name=${c.metadata.name ?? ''}`
  const list = await optional(() => core.listNamespacedEvent({ namespace: c.metadata.namespace ?? '', fieldSelector }))
  return (list?.items ?? []).sort((a, b) => eventTime(a) - eventTime(b))
}

export async function readDeployment(cluster: Cluster, namespace: string, name: string): Promise<V1Deployment | undefined> {
  const apps = cluster.kc.makeApiClient(AppsV1Api)
  return optional(() => apps.readNamespacedDeployment({ namespace, name }))
}

/** The Canary's Deployments and Events, read now. */
export async function readRelease(cluster: Cluster, canary: Canary): Promise<Release> {
  const ns = canary.metadata.namespace ?? ''
  const target = canary.spec.targetRef.name
  try {
    const [t, p, events] = await Promise.all([
      readDeployment(cluster, ns, target), readDeployment(cluster, ns, primaryName(target)), readEvents(cluster, canary),
    ])
    return { canary, ...(t && { target: t }), ...(p && { primary: p }), events }
  } catch (e) {
    throw apiFailure(e, `read the Deployments and Events of Canary ${canaryName(canary)}`, cluster.server)
  }
}
