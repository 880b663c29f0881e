// The reads and writes of `sluice uninstall`, as the user of the kubeconfig: the Snapshot its plan is made
// from, and each change of the plan, every one of them safe to repeat (a 404 on delete is done already).
import {
  AdmissionregistrationV1Api, ApiextensionsV1Api, AppsV1Api, CoordinationV1Api, CoreV1Api, CustomObjectsApi, PatchStrategy,
  RbacAuthorizationV1Api, setHeaderOptions, type V1Deployment,
} from '@kubernetes/client-node'
import { normalizeCanary } from '../api/compat.ts'
import { isUserKey } from '../api/annotations.ts'
import { GROUP, VERSION, type Canary, type DeliveryPolicy } from '../api/types.ts'
import { isConflict, isNotFound } from '../kube/errors.ts'
import { escapeSegment } from '../kube/json-patch.ts'
import { ifUnchanged } from '../kube/precondition.ts'
import { retryOn } from '../kube/retry.ts'
import type { Cluster } from './cluster.ts'
import { apiFailure } from './exit.ts'
import { CRD_OBJECTS, INSTALL_OBJECTS, WEBHOOK_OBJECTS, type InstallObject, type LeaseView, type Revert, type Snapshot } from './uninstall-plan.ts'

interface ObjectApi {
  read(name: string): Promise<unknown>
  delete(name: string): Promise<unknown>
}

function objectApis(cluster: Cluster): Record<InstallObject['kind'], ObjectApi> {
  const admission = cluster.kc.makeApiClient(AdmissionregistrationV1Api)
  const rbac = cluster.kc.makeApiClient(RbacAuthorizationV1Api)
  const core = cluster.kc.makeApiClient(CoreV1Api)
  const ext = cluster.kc.makeApiClient(ApiextensionsV1Api)
  return {
    MutatingWebhookConfiguration: { read: name => admission.readMutatingWebhookConfiguration({ name }), delete: name => admission.deleteMutatingWebhookConfiguration({ name }) },
    ValidatingWebhookConfiguration: { read: name => admission.readValidatingWebhookConfiguration({ name }), delete: name => admission.deleteValidatingWebhookConfiguration({ name }) },
    ClusterRoleBinding: { read: name => rbac.readClusterRoleBinding({ name }), delete: name => rbac.deleteClusterRoleBinding({ name }) },
    ClusterRole: { read: name => rbac.readClusterRole({ name }), delete: name => rbac.deleteClusterRole({ name }) },
    Namespace: { read: name => core.readNamespace({ name }), delete: name => core.deleteNamespace({ name }) },
    CustomResourceDefinition: { read: name => ext.readCustomResourceDefinition({ name }), delete: name => ext.deleteCustomResourceDefinition({ name }) },
  }
}

async function orMissing<T>(read: () => Promise<T>, doing: string, cluster: Cluster): Promise<T | undefined> {
  try {
    return await read()
  } catch (e) {
    if (isNotFound(e)) return undefined
    throw apiFailure(e, doing, cluster.server)
  }
}

/** Whether the object exists (it may be on its way out: a namespace or CRD being deleted still counts). */
export async function exists(cluster: Cluster, o: InstallObject): Promise<boolean> {
  return await orMissing(() => objectApis(cluster)[o.kind].read(o.name), `read ${o.kind} ${o.name}`, cluster) !== undefined
}

export async function deleteObject(cluster: Cluster, o: InstallObject): Promise<void> {
  await orMissing(() => objectApis(cluster)[o.kind].delete(o.name), `delete ${o.kind} ${o.name}`, cluster)
}

// A missing CRD is an install without it (or one whose CRDs are already gone): nothing of the kind to revert.
async function listCustom<T>(cluster: Cluster, plural: string, namespace: string | undefined): Promise<T[]> {
  const custom = cluster.kc.makeApiClient(CustomObjectsApi)
  const where = namespace === undefined ? '' : ` in namespace ${namespace}`
  const list = await orMissing(() => namespace === undefined
    ? custom.listClusterCustomObject({ group: GROUP, version: VERSION, plural })
    : custom.listNamespacedCustomObject({ group: GROUP, version: VERSION, plural, namespace }), `list ${plural}.${GROUP}${where}`, cluster) as { items: T[] } | undefined
  return list?.items ?? []
}

export async function listCanariesIn(cluster: Cluster, namespace: string | undefined): Promise<Canary[]> {
  return (await listCustom<Canary>(cluster, 'canaries', namespace)).map(normalizeCanary)
}

async function listDeployments(cluster: Cluster, namespace: string | undefined): Promise<V1Deployment[]> {
  const apps = cluster.kc.makeApiClient(AppsV1Api)
  try {
    return (namespace === undefined ? await apps.listDeploymentForAllNamespaces() : await apps.listNamespacedDeployment({ namespace })).items
  } catch (e) {
    throw apiFailure(e, `list Deployments${namespace === undefined ? ' in all namespaces' : ` in namespace ${namespace}`}`, cluster.server)
  }
}

const annotated = (d: V1Deployment): boolean => Object.keys(d.metadata?.annotations ?? {}).some(isUserKey)

async function readLease(cluster: Cluster, lease: { namespace: string; name: string }): Promise<LeaseView | undefined> {
  const api = cluster.kc.makeApiClient(CoordinationV1Api)
  const l = await orMissing(() => api.readNamespacedLease(lease), `read Lease ${lease.namespace}/${lease.name}`, cluster)
  if (!l) return undefined
  const renew = l.spec?.renewTime ?? l.spec?.acquireTime
  return {
    name: `${lease.namespace}/${lease.name}`,
    ...(l.spec?.holderIdentity && { holder: l.spec.holderIdentity }),
    ...(renew && { renewTime: new Date(renew) }),
    ...(l.spec?.leaseDurationSeconds !== undefined && { leaseDurationSeconds: l.spec.leaseDurationSeconds }),
  }
}

async function namespaceLabels(cluster: Cluster): Promise<Map<string, Record<string, string>>> {
  const core = cluster.kc.makeApiClient(CoreV1Api)
  try {
    return new Map((await core.listNamespace()).items.map(n => [n.metadata?.name ?? '', n.metadata?.labels ?? {}]))
  } catch (e) {
    throw apiFailure(e, 'list Namespaces (the DeliveryPolicies\' namespaceSelector)', cluster.server)
  }
}

export async function readSnapshot(cluster: Cluster, namespace: string | undefined, lease: { namespace: string; name: string }): Promise<Snapshot> {
  const [allCanaries, allDeployments, policies, labels, leaseView] = await Promise.all([
    listCanariesIn(cluster, undefined), listDeployments(cluster, undefined), listCustom<DeliveryPolicy>(cluster, 'deliverypolicies', undefined),
    namespaceLabels(cluster), readLease(cluster, lease),
  ])
  const inScope = (ns: string | undefined): boolean => namespace === undefined || ns === namespace
  const objects = [...WEBHOOK_OBJECTS, ...INSTALL_OBJECTS, ...CRD_OBJECTS]
  const found = await Promise.all(objects.map(o => exists(cluster, o)))
  const present = objects.filter((_, i) => found[i])
  const elsewhere = [...allCanaries.map(c => c.metadata), ...allDeployments.filter(annotated).map(d => d.metadata ?? {})]
    .filter(m => !inScope(m.namespace)).map(m => `${m.namespace ?? ''}/${m.name ?? ''}`)
  return {
    ...(namespace !== undefined && { namespace }),
    canaries: allCanaries.filter(c => inScope(c.metadata.namespace)),
    deployments: allDeployments.filter(d => inScope(d.metadata?.namespace)),
    policies, namespaceLabels: labels, elsewhere: [...new Set(elsewhere)].sort(), present, leaseName: `${lease.namespace}/${lease.name}`,
    ...(leaseView && { lease: leaseView }),
    now: new Date(),
  }
}

export async function deletePolicy(cluster: Cluster, name: string): Promise<void> {
  const custom = cluster.kc.makeApiClient(CustomObjectsApi)
  await orMissing(() => custom.deleteClusterCustomObject({ group: GROUP, version: VERSION, plural: 'deliverypolicies', name }), `delete DeliveryPolicy ${name}`, cluster)
}

async function deleteCanary(cluster: Cluster, r: Extract<Revert, { kind: 'delete' }>): Promise<void> {
  const custom = cluster.kc.makeApiClient(CustomObjectsApi)
  const path = { group: GROUP, version: VERSION, plural: 'canaries', namespace: r.namespace, name: r.canary }
  if (r.setRevertOnDeletion) {
    await orMissing(() => custom.patchNamespacedCustomObject({ ...path, body: { spec: { revertOnDeletion: true } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch)),
      `patch Canary ${r.namespace}/${r.canary} (spec.revertOnDeletion)`, cluster)
  }
  await orMissing(() => custom.deleteNamespacedCustomObject(path), `delete Canary ${r.namespace}/${r.canary}`, cluster)
}

/** The JSON patch of an opt-out: the keys still there removed, replicas restored; undefined when nothing is left to do. */
export function optOutPatch(d: V1Deployment, r: Extract<Revert, { kind: 'opt-out' }>): object[] | undefined {
  const annotations = d.metadata?.annotations ?? {}
  const ops: { op: 'remove' | 'replace'; path: string; value?: unknown }[] = r.keys.filter(k => k in annotations)
    .map(k => ({ op: 'remove', path: `/metadata/annotations/${escapeSegment(k)}` }))
  if (r.replicas !== undefined && d.spec?.replicas === 0) ops.push({ op: 'replace', path: '/spec/replicas', value: r.replicas })
  return ops.length === 0 ? undefined : ifUnchanged(d.metadata?.resourceVersion, ops)
}

async function optOut(cluster: Cluster, r: Extract<Revert, { kind: 'opt-out' }>): Promise<void> {
  const apps = cluster.kc.makeApiClient(AppsV1Api)
  const doing = `patch Deployment ${r.namespace}/${r.deployment} (remove ${r.keys.join(', ')})`
  try {
    // Conditional on the version read: an annotation changed meanwhile is read again, never overwritten.
    await retryOn(isConflict, async () => {
      const d = await orMissing(() => apps.readNamespacedDeployment({ namespace: r.namespace, name: r.deployment }), `read Deployment ${r.namespace}/${r.deployment}`, cluster)
      const body = d && optOutPatch(d, r)
      if (body) await apps.patchNamespacedDeployment({ namespace: r.namespace, name: r.deployment, body }, setHeaderOptions('Content-Type', PatchStrategy.JsonPatch))
    })
  } catch (e) {
    if (isNotFound(e)) return
    const failure = apiFailure(e, doing, cluster.server)
    // The write of an annotated Deployment goes through sluice's webhook, which runs beside the controller.
    if (/failed calling webhook/.test(failure.message)) failure.message += '; sluice\'s webhook must answer while the apps are reverted: start it again (it runs in the controller\'s pods), then run sluice uninstall again'
    throw failure
  }
}

export async function startRevert(cluster: Cluster, r: Revert): Promise<void> {
  if (r.kind === 'delete') await deleteCanary(cluster, r)
  else await optOut(cluster, r)
}

/** "2/2 ready" of a Deployment, or why it does not serve. */
export async function servingText(cluster: Cluster, namespace: string, name: string): Promise<{ serving: boolean; text: string }> {
  const apps = cluster.kc.makeApiClient(AppsV1Api)
  const d = await orMissing(() => apps.readNamespacedDeployment({ namespace, name }), `read Deployment ${namespace}/${name}`, cluster)
  if (!d) return { serving: false, text: `Deployment ${namespace}/${name} does not exist` }
  const want = d.spec?.replicas ?? 1
  const ready = d.status?.readyReplicas ?? 0
  return { serving: want > 0 && ready >= want, text: `Deployment ${namespace}/${name} ${ready}/${want} ready` }
}
