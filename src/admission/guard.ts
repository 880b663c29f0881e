// The guard: objects sluice generated (labelled app.kubernetes.io/managed-by: sluice) are written only
// by sluice itself; anyone else is told what to change instead.
import { REQUEST_ANNOTATIONS } from '../api/annotations.ts'
import { MANAGED_BY_LABEL, MANAGED_BY_VALUE } from '../api/resolve.ts'
import { canonicalJson } from '../kube/revision.ts'
import type { AdmissionHandler } from './handle.ts'
import { allow, deny, type AdmissionRequest, type AdmissionVerdict, type KubeObject } from './review.ts'

export interface GuardContext {
  readonly sluiceUsername: string
  /**
   * Whether the webhook's cache holds namespace/name as a Deployment sluice generated. A scale request
   * carries a Scale, which has no labels, so the Deployment's label is read from the cache instead.
   */
  generatedDeployment(namespace: string, name: string): boolean
}

// The garbage collector and namespace controller remove generated objects with their owners; the
// collector also writes them (UPDATE) to drop finalizers and owner references in foreground and orphan deletion.
const SYSTEM_CONTROLLERS = /^system:serviceaccount:kube-system:[a-z0-9-]+$|^system:kube-controller-manager$/

// The horizontal-pod-autoscaler controller scales `<target>-primary` through its `<hpa>-primary`: under
// its own ServiceAccount when kube-controller-manager runs with --use-service-account-credentials, as
// the controller-manager itself otherwise. No other kube-system identity writes scale.
export const AUTOSCALER_USERNAMES: readonly string[] = [
  'system:serviceaccount:kube-system:horizontal-pod-autoscaler',
  'system:kube-controller-manager',
]

function systemCleanup(request: AdmissionRequest, username: string): boolean {
  return (request.operation === 'DELETE' || request.operation === 'UPDATE') && SYSTEM_CONTROLLERS.test(username)
}

function managed(o: KubeObject | undefined): boolean {
  return o?.metadata?.labels?.[MANAGED_BY_LABEL] === MANAGED_BY_VALUE
}

function instead(kind: string, name: string): string {
  if (kind === 'Deployment' && name.endsWith('-primary')) {
    return `change the Deployment ${name.slice(0, -'-primary'.length)} instead: sluice promotes its template to ${name} after analysis, and its replicas reach ${name} at once`
  }
  if (kind === 'Canary') {
    return 'change the sluice.dev/ annotations of its Deployment instead: sluice regenerates this Canary from them ' +
      '(the annotations sluice.dev/retry, sluice.dev/promote and sluice.dev/abort may be set on it)'
  }
  if (kind === 'HorizontalPodAutoscaler') return `change the autoscaler it is copied from instead: sluice keeps ${name} in step with it`
  if (kind === 'ConfigMap' || kind === 'Secret') return `change the ${kind} it is copied from instead: the change is rolled out as a canary`
  return 'change the Deployment\'s sluice.dev/ annotations instead (service, provider, analysis): sluice regenerates it from them; to stop, remove sluice.dev/strategy'
}

const REQUEST_KEYS: ReadonlySet<string> = new Set(Object.values(REQUEST_ANNOTATIONS))

function annotationsJson(annotations: Record<string, string> | undefined, requests: boolean): string {
  return canonicalJson(Object.fromEntries(Object.entries(annotations ?? {}).filter(([k]) => REQUEST_KEYS.has(k) === requests)))
}

/** An UPDATE of a Canary that changes nothing but the operator request annotations (retry, promote, abort). */
function operatorRequest(request: AdmissionRequest): boolean {
  const { object: now, oldObject: before } = request
  if (request.operation !== 'UPDATE' || request.kind.kind !== 'Canary' || request.subResource || !now || !before) return false
  const same = (f: (o: KubeObject) => unknown): boolean => canonicalJson(f(now)) === canonicalJson(f(before))
  return same(o => o.spec) && same(o => o.metadata?.labels) && same(o => o.metadata?.ownerReferences) &&
    same(o => o.metadata?.finalizers) && !same(o => annotationsJson(o.metadata?.annotations, true)) &&
    same(o => annotationsJson(o.metadata?.annotations, false))
}

/** A write of a Deployment's scale subresource: the API server sends an autoscaling/v1 Scale, without labels. */
export function isDeploymentScale(request: AdmissionRequest): boolean {
  return request.subResource === 'scale' && request.resource.group === 'apps' && request.resource.resource === 'deployments'
}

// The Scale says nothing about who generated the Deployment; the cache of generated Deployments does.
// A Deployment the cache does not hold is not generated as far as the guard knows, and is admitted. The
// cache holds generated Deployments only (label-selected, to stay small), so a miss cannot tell a user's
// own `x-primary` from one sluice created a moment ago: refusing misses would make the users' own
// `*-primary` Deployments unscalable. The cache is listed before the webhook reports ready, and sluice's
// creates reach it through the watch, so what is admitted wrongly is a scale within the watch's lag.
function decideScale(request: AdmissionRequest, ctx: GuardContext, username: string): AdmissionVerdict {
  if (request.operation !== 'UPDATE' || AUTOSCALER_USERNAMES.includes(username)) return allow()
  if (!ctx.generatedDeployment(request.namespace ?? '', request.name ?? '')) return allow()
  return refusal(request, username, 'Deployment')
}

export function decideGuard(request: AdmissionRequest, ctx: GuardContext): AdmissionVerdict {
  const username = request.userInfo.username ?? ''
  if (username === ctx.sluiceUsername) return allow()
  if (isDeploymentScale(request)) return decideScale(request, ctx, username)
  // Both sides are checked: removing the label is a write to a generated object too.
  if (!managed(request.object) && !managed(request.oldObject)) return allow()
  if (systemCleanup(request, username) || operatorRequest(request)) return allow()
  return refusal(request, username)
}

// `kind` names the object guarded: for a subresource it is the parent (Deployment), not the Scale sent.
function refusal(request: AdmissionRequest, username: string, kind: string = request.kind.kind): AdmissionVerdict {
  const name = request.name ?? request.object?.metadata?.name ?? request.oldObject?.metadata?.name ?? ''
  const target = `${kind} ${request.namespace ? `${request.namespace}/` : ''}${name}`
  const what = request.subResource ? `${request.operation} of ${request.subResource}` : request.operation
  return deny(`${target} is generated by sluice (label ${MANAGED_BY_LABEL}=${MANAGED_BY_VALUE}); ${what} by ${username || 'an unknown user'} is not allowed: ${instead(kind, name)}`,
    { code: 403, reason: 'Forbidden' })
}

export function guardHandler(ctx: GuardContext): AdmissionHandler {
  return request => decideGuard(request, ctx)
}
