// The webhook's decisions over objects read from files, for `sluice plan` and `sluice lint`: each object goes
// through reviewDeployment or reviewResource as a CREATE would, with caches made of the other objects of the
// same input (DeliveryPolicies, MetricTemplates, AlertProviders, Namespaces' labels) instead of informers.
import { normalizeCanary } from '../api/compat.ts'
import { strategyOf } from '../api/defaults.ts'
import type { Finding } from '../api/lint.ts'
import type { Resolution } from '../api/resolve.ts'
import { planText } from '../api/timing.ts'
import { API_VERSION, type CanarySpec, type DeliveryPolicy, type Strategy } from '../api/types.ts'
import type { RefLookup } from '../api/validate.ts'
import { isRecord } from '../util/records.ts'
import { reviewDeployment, type DeploymentContext } from './deployments.ts'
import { reviewResource, type ResourcesContext } from './resources.ts'
import type { AdmissionRequest, AdmissionVerdict, KubeObject } from './review.ts'

export const OFFLINE_KINDS = ['Deployment', 'Canary', 'MetricTemplate', 'AlertProvider', 'DeliveryPolicy'] as const
export type OfflineKind = typeof OFFLINE_KINDS[number]

export interface OfflineOptions {
  /** The namespace of objects that name none (kubectl's current namespace). */
  readonly namespace: string
  readonly minIntervalMs?: number
}

/** An offline finding: `unresolved` when it names an object the input lacks but the cluster may hold. */
export interface OfflineFinding extends Finding {
  readonly unresolved?: boolean
}

export interface OfflineReview {
  readonly kind: OfflineKind
  readonly name: string
  /** Absent for the cluster-scoped DeliveryPolicy. */
  readonly namespace?: string
  /** The webhook's answer, references outside the input taken to exist. */
  readonly verdict: AdmissionVerdict
  readonly findings: readonly OfflineFinding[]
  /** A Deployment's resolution: which annotation or policy supplied each field. */
  readonly resolution?: Resolution
  /** The effective spec and plan of an opted-in Deployment or a Canary. */
  readonly spec?: CanarySpec
  readonly strategy?: Strategy
  readonly plan?: string
}

// Offline, sluice's own identity never writes: any name that is not a user's will do.
const SLUICE = 'system:serviceaccount:sluice-system:sluice'
const USER = 'sluice-offline'
const EVERYTHING: RefLookup = { metricTemplate: () => true, alertProvider: () => true }

/** Which of sluice's kinds an object is, by apiVersion and kind; undefined for anything else. */
export function offlineKind(object: KubeObject): OfflineKind | undefined {
  if (object.apiVersion === 'apps/v1' && object.kind === 'Deployment') return 'Deployment'
  if (object.apiVersion !== API_VERSION) return undefined
  return OFFLINE_KINDS.find(k => k !== 'Deployment' && k === object.kind)
}

function withNamespace(object: KubeObject, kind: OfflineKind, namespace: string): KubeObject {
  if (kind === 'DeliveryPolicy' || object.metadata?.namespace) return object
  return { ...object, metadata: { ...object.metadata, namespace } }
}

interface Input {
  readonly kind: OfflineKind
  readonly object: KubeObject
}

function refsOf(inputs: readonly Input[]): RefLookup {
  const keys = (kind: OfflineKind): Set<string> =>
    new Set(inputs.filter(i => i.kind === kind).map(i => `${i.object.metadata?.namespace ?? ''}/${i.object.metadata?.name ?? ''}`))
  const templates = keys('MetricTemplate')
  const providers = keys('AlertProvider')
  return {
    metricTemplate: (ns, name) => templates.has(`${ns}/${name}`),
    alertProvider: (ns, name) => providers.has(`${ns}/${name}`),
  }
}

function namespaceLabels(objects: readonly KubeObject[]): (ns: string) => Readonly<Record<string, string>> | undefined {
  const labels = new Map(objects.filter(o => o.apiVersion === 'v1' && o.kind === 'Namespace')
    .map(o => [o.metadata?.name ?? '', o.metadata?.labels ?? {}] as const))
  return ns => labels.get(ns)
}

function request(input: Input): AdmissionRequest {
  const meta = input.object.metadata ?? {}
  const group = input.kind === 'Deployment' ? 'apps' : 'sluice.dev'
  const version = input.kind === 'Deployment' ? 'v1' : 'v1beta1'
  return {
    uid: 'offline', operation: 'CREATE', userInfo: { username: USER }, object: input.object,
    kind: { group, version, kind: input.kind },
    resource: { group, version, resource: `${input.kind.toLowerCase()}s` },
    ...(meta.name !== undefined && { name: meta.name }),
    ...(meta.namespace !== undefined && { namespace: meta.namespace }),
  }
}

type Review = { verdict: AdmissionVerdict; findings: readonly Finding[]; resolution?: Resolution }
type Reviewer = (input: Input, refs: RefLookup) => Review

function reviewer(inputs: readonly Input[], objects: readonly KubeObject[], o: OfflineOptions): Reviewer {
  const policies = inputs.filter(i => i.kind === 'DeliveryPolicy').map(i => i.object as unknown as DeliveryPolicy)
  const labelsOf = namespaceLabels(objects)
  const interval = o.minIntervalMs !== undefined ? { minIntervalMs: o.minIntervalMs } : {}
  return (input, refs) => {
    if (input.kind === 'Deployment') {
      const ctx: DeploymentContext = { sluiceUsername: SLUICE, policies: () => policies, namespaceLabels: labelsOf, refs, ...interval }
      const { verdict, report } = reviewDeployment(request(input), ctx)
      return { verdict, findings: report?.findings ?? [], ...(report && { resolution: report.resolution }) }
    }
    const ctx: ResourcesContext = { sluiceUsername: SLUICE, refs, ...interval }
    return reviewResource(request(input), ctx)
  }
}

// References to objects outside the input are taken to exist (the cluster may hold them); what the webhook
// would say about them if the cluster did not is kept as an `unresolved` warning.
function unresolved(lenient: Review, strict: Review): OfflineFinding[] {
  const known = new Set(lenient.findings.map(f => f.text))
  return strict.findings.filter(f => !known.has(f.text)).map(f => ({ ...f, rejects: false, unresolved: true }))
}

function planOfInput(input: Input, review: Review): Pick<OfflineReview, 'spec' | 'strategy' | 'plan'> {
  const meta = input.object.metadata ?? {}
  const target = { namespace: meta.namespace ?? '', name: meta.name ?? '' }
  if (input.kind === 'Deployment') {
    const r = review.resolution
    if (!r?.optedIn) return {}
    return { spec: r.spec, ...(r.strategy && { strategy: r.strategy }), plan: planText(target, r.spec, r.strategy) }
  }
  if (input.kind !== 'Canary' || !isRecord(input.object.spec)) return {}
  const spec = normalizeCanary({ spec: input.object.spec as unknown as CanarySpec }).spec
  const strategy = strategyOf(spec)
  return { spec, strategy, plan: planText(target, spec, strategy) }
}

/** The review of every object of sluice's kinds, in input order; undefined for objects of other kinds. */
export function reviewOffline(objects: readonly KubeObject[], o: OfflineOptions): (OfflineReview | undefined)[] {
  const typed = objects.map(object => {
    const kind = offlineKind(object)
    return kind && { kind, object: withNamespace(object, kind, o.namespace) }
  })
  const inputs = typed.filter((i): i is Input => i !== undefined)
  const review = reviewer(inputs, objects, o)
  const fileRefs = refsOf(inputs)
  return typed.map(input => {
    if (!input) return undefined
    const lenient = review(input, EVERYTHING)
    const meta = input.object.metadata ?? {}
    return {
      kind: input.kind,
      name: meta.name ?? '',
      ...(input.kind !== 'DeliveryPolicy' && { namespace: meta.namespace ?? o.namespace }),
      verdict: lenient.verdict,
      findings: [...lenient.findings, ...unresolved(lenient, review(input, fileRefs))],
      ...(lenient.resolution && { resolution: lenient.resolution }),
      ...planOfInput(input, lenient),
    }
  })
}
