// The Deployment interception: validate the delivery configuration, hold replicas, record sluice's
// state annotations, and preview the plan. A pure decision over the request and informer caches.
import { ANNOTATIONS, STATE_ANNOTATIONS, hasOptIn } from '../api/annotations.ts'
import { lintDeployment, type DeploymentReport, type LintContext } from '../api/lint.ts'
import { policyApplies } from '../api/policy.ts'
import { jsonEqual } from '../util/json.ts'
import { templateRevision } from '../kube/revision.ts'
import { planText } from '../api/timing.ts'
import type { DeliveryPolicy } from '../api/types.ts'
import type { RefLookup } from '../api/validate.ts'
import type { AdmissionHandler } from './handle.ts'
import { createLintMemo, type LintMemo, type RememberedLint } from './lint-memo.ts'
import { add, replace, setAnnotations, type PatchOperation } from '../kube/json-patch.ts'
import { allow, allowWithPatch, deny, type AdmissionRequest, type AdmissionVerdict, type KubeObject } from './review.ts'

/** What the handler reads; every answer comes from an informer cache. */
export interface DeploymentContext {
  readonly sluiceUsername: string
  policies(): readonly DeliveryPolicy[]
  namespaceLabels(namespace: string): Readonly<Record<string, string>> | undefined
  readonly refs: RefLookup
  readonly minIntervalMs?: number
  /**
   * Moves whenever a cache the lint reads changes (policies, MetricTemplates, AlertProviders, Namespaces). With it,
   * the lint of a Deployment is remembered until the next change; without it (offline, `sluice plan`), never.
   */
  readonly cacheGeneration?: () => number
}

interface DeploymentObject extends KubeObject {
  readonly spec?: { replicas?: number; selector?: { matchLabels?: Record<string, string> }; template?: unknown }
}

function who(d: DeploymentObject, namespace: string | undefined): string {
  return `Deployment ${namespace ?? d.metadata?.namespace ?? ''}/${d.metadata?.name ?? ''}`
}

function lintContext(ctx: DeploymentContext, namespace: string): LintContext {
  return {
    policies: ctx.policies(),
    namespaceLabels: ctx.namespaceLabels(namespace) ?? {},
    refs: ctx.refs,
    ...(ctx.minIntervalMs !== undefined && { minIntervalMs: ctx.minIntervalMs }),
  }
}

function replicasPatch(d: DeploymentObject, value: number): PatchOperation {
  return d.spec?.replicas === undefined ? add(['spec', 'replicas'], value) : replace(['spec', 'replicas'], value)
}

// An opt-out is the removal of sluice.dev/strategy; under an enforcing policy it is refused.
function optOutDenial(request: AdmissionRequest, object: DeploymentObject, ctx: DeploymentContext): AdmissionVerdict | undefined {
  const old = request.oldObject
  if (request.operation !== 'UPDATE' || !old || !hasOptIn(old.metadata?.annotations)) return undefined
  if (hasOptIn(object.metadata?.annotations)) return undefined
  const labels = (object.metadata?.labels ?? {}) as Record<string, string>
  const nsLabels = ctx.namespaceLabels(request.namespace ?? '') ?? {}
  const enforcing = ctx.policies().find(p => p.spec.mode === 'enforce' && policyApplies(p, nsLabels, labels))
  if (!enforcing) return undefined
  return deny(`${who(object, request.namespace)}: annotation ${ANNOTATIONS.strategy} cannot be removed: DeliveryPolicy ` +
    `${enforcing.metadata.name} (enforce) requires progressive delivery here; change the strategy instead, or ask the platform team to exempt this Deployment`,
  { code: 403, reason: 'Forbidden' })
}

/** A Deployment sluice does not deliver: admitted, with a word on the opt-out when it just left. */
function notOptedIn(request: AdmissionRequest, object: DeploymentObject, namespace: string, report: DeploymentReport): AdmissionVerdict {
  const leaving = request.operation === 'UPDATE' && hasOptIn(request.oldObject?.metadata?.annotations)
  const warnings = leaving
    ? [...report.warnings, `${who(object, namespace)}: opted out of sluice; the Deployment is scaled back up and the generated objects are removed once it serves`]
    : report.warnings
  return allow(warnings.length > 0 ? warnings : undefined)
}

/** The verdict on one Deployment write, with the report it was decided from when the spec was linted. */
export interface DeploymentReview {
  readonly verdict: AdmissionVerdict
  readonly report?: DeploymentReport
}

/** Decides one Deployment write; `sluice plan` and `sluice lint` call this too, to read the findings. */
export function reviewDeployment(request: AdmissionRequest, ctx: DeploymentContext): DeploymentReview {
  // sluice's own writes (scaling the target, state annotations) pass unchanged; recognised by identity only.
  if (request.userInfo.username === ctx.sluiceUsername) return { verdict: allow() }
  if (request.operation !== 'CREATE' && request.operation !== 'UPDATE') return { verdict: allow() }
  if (request.subResource) return { verdict: allow() }
  const object = request.object
  if (!object) return { verdict: allow() }
  const namespace = request.namespace ?? object.metadata?.namespace ?? ''
  const optOut = optOutDenial(request, object, ctx)
  if (optOut) return { verdict: optOut }

  const linted = lint(object, ctx, namespace)
  const report = linted.report
  if (!report.resolution.optedIn) return { verdict: notOptedIn(request, object, namespace, report), report }
  if (report.rejections.length > 0) {
    return { verdict: deny(report.rejections.join('; '), { code: 422, reason: 'Invalid' }), report }
  }
  linted.plan ??= planText({ namespace, name: object.metadata?.name ?? '' }, report.resolution.spec, report.resolution.strategy)
  return { verdict: holdAndRecord(request, object, namespace, report, linted.plan), report }
}

const memos = new WeakMap<DeploymentContext, LintMemo>()

function lint(object: DeploymentObject, ctx: DeploymentContext, namespace: string): RememberedLint {
  const run = (): DeploymentReport => lintDeployment(object, lintContext(ctx, namespace))
  if (ctx.cacheGeneration === undefined) return { report: run() }
  let memo = memos.get(ctx)
  if (memo === undefined) memos.set(ctx, memo = createLintMemo())
  return memo.lint(object, namespace, ctx.cacheGeneration(), run)
}

/** Decides one Deployment write. */
export function decideDeployment(request: AdmissionRequest, ctx: DeploymentContext): AdmissionVerdict {
  return reviewDeployment(request, ctx).verdict
}

type Report = DeploymentReport

interface Write {
  readonly object: DeploymentObject
  readonly old: DeploymentObject | undefined
  readonly subject: string
  readonly name: string
  readonly userReplicas: number
  readonly revision: string
  readonly plan: string
}

function annotationsOf(d: DeploymentObject | undefined): Record<string, string> | undefined {
  return d?.metadata?.annotations
}

// A Deployment sluice already manages carries its state annotations (or at least the opt-in).
function isManaged(request: AdmissionRequest, old: DeploymentObject | undefined): boolean {
  if (request.operation !== 'UPDATE' || !old) return false
  return annotationsOf(old)?.[STATE_ANNOTATIONS.revision] !== undefined || hasOptIn(annotationsOf(old))
}

function recordedReplicas(d: DeploymentObject | undefined): number | undefined {
  const text = annotationsOf(d)?.[STATE_ANNOTATIONS.desiredReplicas]
  return text !== undefined && /^[0-9]+$/.test(text) ? Number(text) : undefined
}

// The count the user asked for. A write that carries the held value over (kubectl set image, rollout
// restart, label; or this webhook's own earlier patch when several policy webhooks send one request)
// says nothing about replicas: reading it as the user's would record 0 and empty the primary.
function userReplicasOf(request: AdmissionRequest, object: DeploymentObject, old: DeploymentObject | undefined): number {
  const written = object.spec?.replicas ?? 1
  if (request.operation !== 'CREATE' && !isManaged(request, old)) return written
  const held = request.operation === 'CREATE' ? 0 : old?.spec?.replicas ?? 1
  if (written !== held) return written
  const now = recordedReplicas(object)
  const before = recordedReplicas(old)
  if (now !== undefined && now !== before) return now
  return before ?? written
}

// A managed Deployment keeps its live replicas; a new template gets the plan, a replica change a note.
function updateManaged(w: Write, old: DeploymentObject, ops: PatchOperation[], warnings: string[]): void {
  const live = old.spec?.replicas ?? 1
  if (w.object.spec?.replicas !== live) ops.push(replicasPatch(w.object, live))
  const oldRevision = annotationsOf(old)?.[STATE_ANNOTATIONS.revision] ?? templateRevision(old.spec?.template)
  const recorded = Number(annotationsOf(old)?.[STATE_ANNOTATIONS.desiredReplicas] ?? live)
  if (oldRevision !== w.revision) warnings.push(`${w.subject}: new revision ${w.revision.slice(0, 8)}: ${w.plan}`)
  else if (w.userReplicas !== recorded) {
    warnings.push(`${w.subject}: replicas ${w.userReplicas} go to ${w.name}-primary at once, without analysis`)
  }
}

/**
 * The revision of the written template. A re-apply that leaves the template as stored (a GitOps sync, a label or
 * replica change) keeps the revision recorded for it: comparing is cheaper than canonicalising and hashing.
 */
export function writtenRevision(object: DeploymentObject, old: DeploymentObject | undefined): string {
  const recorded = annotationsOf(old)?.[STATE_ANNOTATIONS.revision]
  if (recorded !== undefined && jsonEqual(old?.spec?.template, object.spec?.template)) return recorded
  return templateRevision(object.spec?.template)
}

function holdAndRecord(request: AdmissionRequest, object: DeploymentObject, namespace: string, report: Report, plan: string): AdmissionVerdict {
  const old = request.oldObject
  const name = object.metadata?.name ?? ''
  const w: Write = {
    object, old, name, plan,
    subject: who(object, namespace),
    userReplicas: userReplicasOf(request, object, old),
    revision: writtenRevision(object, old),
  }
  const ops: PatchOperation[] = setAnnotations(object, {
    [STATE_ANNOTATIONS.desiredReplicas]: String(w.userReplicas),
    [STATE_ANNOTATIONS.revision]: w.revision,
  })
  const warnings = [...report.warnings]
  if (request.operation === 'CREATE') {
    // A new app: the generated primary serves; the target stays at zero.
    if (object.spec?.replicas !== 0) ops.push(replicasPatch(object, 0))
    warnings.push(`${w.subject}: first deployment: ${w.userReplicas} replica(s) go to ${name}-primary without analysis; later revisions: ${w.plan}`)
  } else if (old && isManaged(request, old)) {
    updateManaged(w, old, ops, warnings)
  } else {
    // Opting in a live app: replicas stay until the primary serves (the controller scales down then).
    warnings.push(`${w.subject}: opted in: ${name}-primary takes over the current version before ${name} is scaled down; later revisions: ${w.plan}`)
  }
  return allowWithPatch(ops, warnings.length > 0 ? warnings : undefined)
}

export function deploymentHandler(ctx: DeploymentContext): AdmissionHandler {
  return request => decideDeployment(request, ctx)
}
