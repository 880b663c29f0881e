// What `sluice uninstall` does, decided from what it read (pure, so that each case is a unit test): which apps
// it reverts and how, whether it may (the controller must be there to do it), then which of sluice's objects
// go. The command (uninstall.ts) reads the cluster into a Snapshot and carries the Plan out.
//
// Reverting is the controller's opt-out path, not something the CLI does to the app itself: only the
// controller scales the Deployment back up and waits for it to be ready before the apex Service selects it
// again (the CLI restores replicas only where no Canary exists to do it: a Deployment the webhook held at 0). A generated Canary is reverted by removing the sluice.dev/ annotations from its Deployment
// (deleting the Canary would not do: the guard refuses it, and the controller would generate it again from
// the annotations); once they are gone nothing re-creates it. A hand-written Canary is deleted, with
// revertOnDeletion set to true first, since false would hand the apex Service back to a target at 0 replicas.
import type { V1Deployment } from '@kubernetes/client-node'
import { isStateKey, isUserKey, STATE_ANNOTATIONS } from '../api/annotations.ts'
import { resolve } from '../api/resolve.ts'
import type { Canary, DeliveryPolicy } from '../api/types.ts'
import { CONFIGURATION_NAME } from '../admission/registration.ts'
import { INSTALL_NAMESPACE } from '../admission/manifests.ts'
import { isGenerated } from '../controller/generate.ts'
import { isGeneratedObject } from '../controller/triggers.ts'

/** A cluster-scoped object of the install, as `kubectl delete KIND NAME` would name it. */
export interface InstallObject {
  readonly kind: 'MutatingWebhookConfiguration' | 'ValidatingWebhookConfiguration' | 'ClusterRoleBinding' | 'ClusterRole' | 'Namespace' | 'CustomResourceDefinition'
  readonly name: string
}

export const WEBHOOK_OBJECTS: readonly InstallObject[] = [
  { kind: 'MutatingWebhookConfiguration', name: CONFIGURATION_NAME },
  { kind: 'ValidatingWebhookConfiguration', name: CONFIGURATION_NAME },
]

/**
 * The rest of manifests/ (and manifests/optional/): everything namespaced lives in sluice-system and goes with
 * it. A unit test keeps this list equal to the cluster-scoped objects of the manifests.
 */
export const INSTALL_OBJECTS: readonly InstallObject[] = [
  { kind: 'ClusterRoleBinding', name: 'sluice' },
  { kind: 'ClusterRole', name: 'sluice' },
  { kind: 'ClusterRoleBinding', name: 'sluice-dashboard' },
  { kind: 'ClusterRole', name: 'sluice-dashboard' },
  { kind: 'Namespace', name: INSTALL_NAMESPACE },
]

export const CRD_OBJECTS: readonly InstallObject[] = ['canaries', 'deliverypolicies', 'metrictemplates', 'alertproviders']
  .map(plural => ({ kind: 'CustomResourceDefinition', name: `${plural}.sluice.dev` }))

/** The controller's leader-election Lease, as read. */
export interface LeaseView {
  readonly name: string
  readonly holder?: string
  readonly renewTime?: Date
  readonly leaseDurationSeconds?: number
}

export interface Snapshot {
  /** The namespace of -n, or undefined for every namespace. */
  readonly namespace?: string
  /** The Canaries in scope (none when the CRD is not installed). */
  readonly canaries: readonly Canary[]
  /** The Deployments in scope. */
  readonly deployments: readonly V1Deployment[]
  readonly policies: readonly DeliveryPolicy[]
  readonly namespaceLabels: ReadonlyMap<string, Readonly<Record<string, string>>>
  /** With -n: Canaries and annotated Deployments in other namespaces ("ns/name"), which keep the webhooks needed. */
  readonly elsewhere: readonly string[]
  /** The controller's Lease ("ns/name"), and what it holds: undefined when it does not exist. */
  readonly leaseName: string
  readonly lease?: LeaseView
  /** The objects of WEBHOOK_OBJECTS, INSTALL_OBJECTS and CRD_OBJECTS that exist. */
  readonly present: readonly InstallObject[]
  readonly now: Date
}

export interface Options {
  /** Remove only the apps' configuration and the webhooks; the install is left to helm uninstall / kubectl delete -k. */
  readonly keepInstall: boolean
  readonly crds: boolean
}

export type Revert =
  /** Remove the annotations `keys`; `replicas` set when no Canary is there to give the Deployment its replicas back. */
  | { readonly kind: 'opt-out'; readonly namespace: string; readonly deployment: string; readonly canary?: string; readonly keys: readonly string[]; readonly replicas?: number }
  | { readonly kind: 'delete'; readonly namespace: string; readonly canary: string; readonly target: string; readonly setRevertOnDeletion: boolean }

export interface Plan {
  /** Enforce-mode DeliveryPolicies to delete first: they would keep (or put) Deployments opted in. */
  readonly policies: readonly string[]
  readonly reverts: readonly Revert[]
  /** Canaries ("ns/name") to see gone before the webhooks go. */
  readonly waitFor: readonly string[]
  /** Why the plan cannot be carried out; nothing is done when there is one. */
  readonly blockers: readonly string[]
  /** Objects to delete, in order; `kept` says why the webhooks or the install stay. */
  readonly remove: readonly InstallObject[]
  readonly kept: readonly string[]
}

const key = (namespace: string | undefined, name: string | undefined): string => `${namespace ?? ''}/${name ?? ''}`

/** The annotations that opted the Deployment in (user keys), plus sluice's own when nothing else removes them. */
function annotationKeys(d: V1Deployment, withState: boolean): string[] {
  return Object.keys(d.metadata?.annotations ?? {}).filter(k => isUserKey(k) || (withState && isStateKey(k))).sort()
}

/** The replica count the webhook recorded for a Deployment it held at 0 and no Canary will scale back up. */
function heldReplicas(d: V1Deployment): number | undefined {
  const recorded = Number(d.metadata?.annotations?.[STATE_ANNOTATIONS.desiredReplicas])
  return d.spec?.replicas === 0 && Number.isInteger(recorded) && recorded > 0 ? recorded : undefined
}

/** Enforce policies that keep `d` opted in once its annotations are gone. */
function enforcing(d: V1Deployment, s: Snapshot): string[] {
  const stripped: V1Deployment = { ...d, metadata: { ...d.metadata, annotations: {} } }
  const r = resolve(stripped, { policies: s.policies, namespaceLabels: s.namespaceLabels.get(d.metadata?.namespace ?? '') ?? {} })
  return r.optedIn ? r.constraining.filter(p => p.spec.mode === 'enforce').map(p => p.metadata.name ?? '') : []
}

function deletion(c: Canary): Revert {
  return { kind: 'delete', namespace: c.metadata.namespace ?? '', canary: c.metadata.name ?? '', target: c.spec.targetRef.name, setRevertOnDeletion: c.spec.revertOnDeletion === false }
}

/** The opt-out of an annotated Deployment, `c` its Canary if it has one; undefined when nothing is on it. */
function optOut(d: V1Deployment, c: Canary | undefined): Revert | undefined {
  const keys = annotationKeys(d, c === undefined)
  if (keys.length === 0) return undefined
  const replicas = c === undefined ? heldReplicas(d) : undefined
  return {
    kind: 'opt-out', namespace: d.metadata?.namespace ?? '', deployment: d.metadata?.name ?? '', keys,
    ...(c && { canary: c.metadata.name ?? '' }), ...(replicas !== undefined && { replicas }),
  }
}

function reverts(s: Snapshot): Revert[] {
  const canaryOf = new Map(s.canaries.map(c => [key(c.metadata.namespace, c.spec.targetRef.name), c]))
  const optOuts = s.deployments.filter(d => !isGeneratedObject(d)).map(d => optOut(d, canaryOf.get(key(d.metadata?.namespace, d.metadata?.name))))
  return [...s.canaries.filter(c => !isGenerated(c)).map(deletion), ...optOuts.filter(r => r !== undefined)]
}

/** Whether the Lease shows a controller renewing it now; a minute of slack for clocks that disagree. */
export function controllerRunning(lease: LeaseView | undefined, now: Date): boolean {
  if (!lease?.holder || !lease.renewTime) return false
  return now.getTime() - lease.renewTime.getTime() < ((lease.leaseDurationSeconds ?? 15) + 60) * 1000
}

function controllerBlocker(s: Snapshot): string {
  const lease = s.lease
  const seen = !lease ? `its Lease ${s.leaseName} does not exist` : !lease.holder ? `its Lease ${lease.name} has no holder`
    : `its Lease ${lease.name} was last renewed by ${lease.holder} at ${lease.renewTime?.toISOString() ?? 'no time'}`
  return `the controller is not running (${seen}), and only the controller can give the apps back without losing their endpoints ` +
    '(it scales each Deployment up and waits until it is ready before the Service selects it again). Start it first: ' +
    `kubectl -n ${INSTALL_NAMESPACE} rollout restart deployment/sluice, or run \`sluice controller --kubeconfig FILE\` from your machine ` +
    'while this runs; then run sluice uninstall again'
}

function blockers(s: Snapshot, plan: { policies: readonly string[]; reverts: readonly Revert[] }, policyOwners: ReadonlyMap<string, string[]>): string[] {
  const out: string[] = []
  // A Deployment without a Canary needs no controller: its annotations go and its replicas come back from the CLI.
  const needsController = s.canaries.length > 0
  if (needsController && !controllerRunning(s.lease, s.now)) out.push(controllerBlocker(s))
  if (s.namespace !== undefined && plan.policies.length > 0) {
    const which = plan.policies.map(p => `${p} (${(policyOwners.get(p) ?? []).join(', ')})`).join('; ')
    out.push(`DeliveryPolicy ${which} enforces sluice on Deployments of namespace ${s.namespace}; deleting it would revert the apps of every namespace it selects, ` +
      'so sluice uninstall -n does not: change its selector or mode, or run sluice uninstall without -n')
  }
  return out
}

function removals(s: Snapshot, o: Options): { remove: InstallObject[]; kept: string[] } {
  const has = (x: InstallObject): boolean => s.present.some(p => p.kind === x.kind && p.name === x.name)
  if (s.elsewhere.length > 0) {
    const list = s.elsewhere.slice(0, 5).join(', ') + (s.elsewhere.length > 5 ? `, and ${s.elsewhere.length - 5} more` : '')
    return { remove: [], kept: [`the webhooks and the install stay: apps in other namespaces are still opted in (${list}); run sluice uninstall without -n to remove sluice`] }
  }
  const kept: string[] = []
  const remove = WEBHOOK_OBJECTS.filter(has)
  if (o.keepInstall) kept.push('the install stays (--keep-install): remove it with helm uninstall, or kubectl delete -k manifests/ (which also deletes the CRDs, and with them every DeliveryPolicy, MetricTemplate and AlertProvider)')
  else remove.push(...INSTALL_OBJECTS.filter(has))
  if (o.crds && !o.keepInstall) remove.push(...CRD_OBJECTS.filter(has))
  else if (CRD_OBJECTS.some(has) && !o.keepInstall) kept.push('the CRDs stay, with your DeliveryPolicies, MetricTemplates and AlertProviders (--crds deletes them all)')
  return { remove, kept }
}

export function planUninstall(s: Snapshot, o: Options): Plan {
  const policyOwners = new Map<string, string[]>()
  const apps = [...s.canaries.filter(isGenerated).map(c => s.deployments.find(d => d.metadata?.namespace === c.metadata.namespace && d.metadata?.name === c.spec.targetRef.name)), ...s.deployments]
  for (const d of apps) {
    if (!d) continue
    for (const p of enforcing(d, s)) policyOwners.set(p, [...new Set([...(policyOwners.get(p) ?? []), key(d.metadata?.namespace, d.metadata?.name)])])
  }
  const policies = [...policyOwners.keys()].sort()
  const r = reverts(s)
  const { remove, kept } = removals(s, o)
  return {
    policies, reverts: r, waitFor: s.canaries.map(c => key(c.metadata.namespace, c.metadata.name)),
    blockers: blockers(s, { policies, reverts: r }, policyOwners), remove, kept,
  }
}

function revertLine(r: Revert): string {
  if (r.kind === 'delete') {
    const first = r.setRevertOnDeletion ? 'set spec.revertOnDeletion to true, then ' : ''
    return `Canary ${r.namespace}/${r.canary} (written by hand): ${first}delete it; the controller gives Deployment ${r.target} its replicas back before it lets the Canary go`
  }
  const what = `Deployment ${r.namespace}/${r.deployment}: remove ${r.keys.join(', ')}`
  if (r.canary !== undefined) return `${what}; the controller reverts Canary ${r.canary} (replicas back and ready, then the Service, then the generated objects go) and deletes it`
  return `${what} (no Canary)${r.replicas !== undefined ? `; spec.replicas back to the ${r.replicas} the webhook recorded` : ''}`
}

/** The plan in words: what --dry-run prints and the confirmation shows. */
export function renderPlan(p: Plan): string {
  const lines: string[] = []
  lines.push('1. Revert the opted-in apps (the controller\'s opt-out path):')
  for (const name of p.policies) lines.push(`   - delete DeliveryPolicy ${name} (mode enforce: it would opt the Deployments it selects in again)`)
  for (const r of p.reverts) lines.push(`   - ${revertLine(r)}`)
  if (p.policies.length === 0 && p.reverts.length === 0) lines.push('   nothing is opted in')
  const webhooks = p.remove.filter(o => WEBHOOK_OBJECTS.some(w => w.kind === o.kind))
  const rest = p.remove.filter(o => !webhooks.includes(o))
  lines.push('2. Remove the webhook configurations (nothing intercepts Deployment writes any more):')
  lines.push(...(webhooks.length > 0 ? webhooks.map(o => `   - delete ${o.kind} ${o.name}`) : ['   none to remove']))
  lines.push('3. Remove the rest of the install:')
  lines.push(...rest.map(o => `   - delete ${o.kind} ${o.name}${o.kind === 'Namespace' ? ' (the controller, webhook, load tester, their Service, Secrets and Lease)' : ''}${o.kind === 'CustomResourceDefinition' ? ' (and every object of the kind)' : ''}`))
  if (rest.length === 0 && p.kept.length === 0) lines.push('   nothing left to remove')
  lines.push(...p.kept.map(k => `   ${k}`))
  return lines.join('\n') + '\n'
}
