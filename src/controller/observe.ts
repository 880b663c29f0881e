// What the controller observes for one Canary: everything the phase machine reads, from the informer
// caches, plus the router's weights read back from the stored objects.
import type { V1Deployment } from '@kubernetes/client-node'
import { createHash } from 'node:crypto'
import { configKey, configRefs, CONFIG_TRACKING_ANNOTATION, type ConfigRef } from '../deployer/configs.ts'
import { primaryName } from '../deployer/primary.ts'
import { serviceName } from '../router/services.ts'
import type { Router } from '../router/router.ts'
import type { ApplyClient } from '../kube/apply.ts'
import { apexSide } from '../router/services.ts'
import { selectorLabel } from '../api/selector.ts'
import { REQUEST_ANNOTATIONS, STATE_ANNOTATIONS } from '../api/annotations.ts'
import { isOptedIn, MANAGED_BY_LABEL, type ResolveContext } from '../api/resolve.ts'
import { templateRevision } from '../kube/revision.ts'
import type { Canary } from '../api/types.ts'
import type { Caches, ConfigSummary } from './caches.ts'
import type { OperatorRequests, TrafficSplit } from './machine/types.ts'
import { isGenerated } from './generate.ts'

export { REQUEST_ANNOTATIONS }

export interface Tracked {
  readonly refs: readonly ConfigRef[]
  /** configKey → hash, as status.trackedConfigs records it. */
  readonly hashes: Record<string, string>
}

/** The configs the target's pods use that exist and are not opted out of tracking. */
export function trackedConfigs(caches: Caches, target: V1Deployment): Tracked {
  const namespace = target.metadata?.namespace
  const refs: ConfigRef[] = []
  const hashes: Record<string, string> = {}
  for (const ref of configRefs(target.spec?.template.spec)) {
    const cached: ConfigSummary | undefined = (ref.kind === 'configmap' ? caches.configMaps : caches.secrets).get(ref.name, namespace)
    if (!cached || cached.metadata?.annotations?.[CONFIG_TRACKING_ANNOTATION] === 'disabled') continue
    refs.push(ref)
    hashes[configKey(ref)] = cached.hash
  }
  return { refs, hashes }
}

// A cached Deployment is a new object on every change and never edited in place: a tick on an unchanged
// target reuses the hash of its template instead of hashing it again.
const templateRevisions = new WeakMap<object, string>()

function cachedTemplateRevision(template: object | undefined): string {
  if (template === undefined) return templateRevision(template)
  let revision = templateRevisions.get(template)
  if (revision === undefined) {
    revision = templateRevision(template)
    templateRevisions.set(template, revision)
  }
  return revision
}

/** The pod template's revision, folded with the hashes of the configs it tracks. */
export function revisionOf(target: V1Deployment, tracked: Tracked): string {
  const template = cachedTemplateRevision(target.spec?.template)
  const keys = Object.keys(tracked.hashes).sort()
  if (keys.length === 0) return template
  const hash = createHash('sha256').update(template)
  for (const key of keys) hash.update(`\n${key}=${tracked.hashes[key]}`)
  return hash.digest('hex').slice(0, template.length)
}

/** The user's replica count: recorded by the webhook, else what the target or the primary runs. */
export function desiredReplicas(target: V1Deployment, primary: V1Deployment | undefined): number {
  const text = target.metadata?.annotations?.[STATE_ANNOTATIONS.desiredReplicas]
  if (text !== undefined && /^[0-9]+$/.test(text)) return Number(text)
  const live = target.spec?.replicas ?? 1
  return live > 0 || !primary ? live : primary.spec?.replicas ?? 1
}

// Date alone also reads '1' (as 2001-01-01) and zone-less times (as local time): a request silently too
// old to count, or misdated. Only an RFC 3339 date-time is a request; anything else is reported.
const RFC_3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/

export function requestsOf(c: Canary): { requests: OperatorRequests; invalid: string[] } {
  const requests: { retry?: Date; promote?: Date; abort?: Date } = {}
  const invalid: string[] = []
  for (const [name, key] of Object.entries(REQUEST_ANNOTATIONS) as [keyof OperatorRequests, string][]) {
    const text = c.metadata.annotations?.[key]
    if (text === undefined) continue
    const time = RFC_3339.test(text.trim()) ? new Date(text.trim()) : undefined
    if (!time || Number.isNaN(time.getTime())) invalid.push(`${key}: "${text}" is not a time; set it with $(date -u +%Y-%m-%dT%H:%M:%SZ)`)
    else requests[name] = time
  }
  return { requests, invalid }
}

export function isOptedOut(c: Canary, target: V1Deployment | undefined, context: ResolveContext): boolean {
  if (!isGenerated(c)) return false
  return !target || !isOptedIn(target, context)
}

export function primaryOf(caches: Caches, c: Canary): V1Deployment | undefined {
  return caches.deployments.get(primaryName(c.spec.targetRef.name), c.metadata.namespace)
}

/**
 * The split as stored: undefined until the apex Service selects sluice's pods and the provider's objects
 * exist (then the phase machine routes), never a guess from memory.
 */
export async function readWeights(kube: ApplyClient, router: Router, c: Canary, target: V1Deployment, mirrorWeight: number): Promise<TrafficSplit | undefined> {
  const sel = selectorLabel(target.spec?.selector.matchLabels)
  if (!sel) return undefined
  const apex = await kube.get({ apiVersion: 'v1', kind: 'Service', namespace: c.metadata.namespace ?? '', name: serviceName(c) })
  const selector = (apex?.spec as { selector?: Record<string, string> } | undefined)?.selector
  // An apex without the managed-by label is still the user's (opt-in of a live app): nothing routed yet.
  if (!apex?.metadata?.labels?.[MANAGED_BY_LABEL] || apexSide(selector, sel) === undefined) return undefined
  try {
    const w = await router.getRoutes(c)
    return { primary: w.primary, canary: w.canary, ...(w.mirror === true && { mirror: mirrorWeight }) }
  } catch {
    // The provider's objects are missing (or unreadable): the machine re-applies the route it expects.
    return undefined
  }
}
