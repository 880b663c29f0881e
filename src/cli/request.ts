// The operator requests the controller already understands (src/controller/observe.ts requestsOf): an
// annotation sluice.dev/promote|abort|retry on the Canary holding an RFC 3339 time, which counts once, when
// newer than status.lastTransitionTime. Written as the user of the kubeconfig (the guard lets exactly this
// change through on a generated Canary), then followed through a watch until the controller acted on it.
import { CustomObjectsApi, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node'
import { GROUP, VERSION, type Canary, type CanaryPhase } from '../api/types.ts'
import { canaryName, type Release } from './canaries.ts'
import type { Cluster } from './cluster.ts'
import { apiFailure, CliError, EXIT } from './exit.ts'
import { formatDuration } from '../util/duration.ts'
import { whatNext } from './render/next.ts'
import { followRelease } from './watch.ts'

export interface RequestKind {
  readonly annotation: string
  /** The phases in which the controller acts on it. */
  readonly phases: ReadonlySet<CanaryPhase>
  /** Why it would not be acted on now, e.g. "podinfo is Succeeded: no release is running". */
  readonly notNow: (c: Canary) => string
  /** The phases it leads to, and what to say once the Canary is in one of them. */
  readonly leadsTo: ReadonlySet<CanaryPhase>
  readonly done: (c: Canary) => string
}

export const WAIT_FLAG = { wait: { type: 'string' } } as const
export const WAIT_HELP = '  --wait D                 how long to wait for the controller to act (default 30s; 0: do not wait)\n'

/**
 * The time to write: now, or just after the last transition when the local clock is behind the
 * controller's, so that the request counts against the state the operator saw.
 */
export function requestTime(c: Canary, now: Date): Date {
  const last = Date.parse(c.status?.lastTransitionTime ?? '')
  return Number.isNaN(last) || now.getTime() > last ? now : new Date(last + 1)
}

/** The merge patch that sets one request annotation. */
export function requestPatch(annotation: string, at: Date): object {
  return { metadata: { annotations: { [annotation]: at.toISOString() } } }
}

export async function writeRequest(cluster: Cluster, c: Canary, annotation: string, at: Date): Promise<void> {
  const custom = cluster.kc.makeApiClient(CustomObjectsApi)
  const params = {
    group: GROUP, version: VERSION, plural: 'canaries', namespace: c.metadata.namespace ?? '', name: c.metadata.name ?? '',
    body: requestPatch(annotation, at),
  }
  try {
    await custom.patchNamespacedCustomObject(params, setHeaderOptions('Content-Type', PatchStrategy.MergePatch))
  } catch (e) {
    throw apiFailure(e, `patch Canary ${canaryName(c)} (annotation ${annotation})`, cluster.server)
  }
}

export type Outcome = { readonly kind: 'done' | 'moved'; readonly canary: Canary } | { readonly kind: 'waiting'; readonly release?: Release }

/** What a view of the release says about a request made at `at`. */
export function outcomeOf(kind: RequestKind, c: Canary, at: Date): Outcome | undefined {
  const since = Date.parse(c.status?.lastTransitionTime ?? '')
  if (Number.isNaN(since) || since < at.getTime()) return undefined
  return { kind: kind.leadsTo.has(c.status?.phase ?? 'Initializing') ? 'done' : 'moved', canary: c }
}

function follow(cluster: Cluster, c: Canary, kind: RequestKind, at: Date, waitMs: number): Promise<Outcome> {
  let last: Release | undefined
  return followRelease<Outcome>(cluster, c, r => {
    if (r) last = r
    return r && outcomeOf(kind, r.canary, at)
  }, waitMs, () => ({ kind: 'waiting', ...(last && { release: last }) }))
}

function waitingText(c: Canary, release: Release | undefined, waitMs: number): string {
  const seen = release?.canary ?? c
  const event = release?.events.at(-1)
  const latest = event ? `; latest Event: ${event.reason ?? ''}: ${event.message ?? ''}` : ''
  return `recorded; the controller has not acted on it within ${formatDuration(waitMs)} (phase ${seen.status?.phase ?? 'unknown'}). ` +
    `It acts at its next look: ${whatNext(seen, new Date())}${latest}`
}

/** Writes the request when the release's phase is one the controller acts on it in; the time written. */
export async function makeRequest(cluster: Cluster, c: Canary, kind: RequestKind): Promise<Date> {
  if (!kind.phases.has(c.status?.phase ?? 'Initializing')) throw new CliError(EXIT.failed, kind.notNow(c))
  const at = requestTime(c, new Date())
  await writeRequest(cluster, c, kind.annotation, at)
  return at
}

/** Writes the request, waits up to `waitMs` for the controller, and says what happened. */
export async function sendRequest(cluster: Cluster, c: Canary, kind: RequestKind, waitMs: number): Promise<number> {
  const at = await makeRequest(cluster, c, kind)
  process.stdout.write(`Canary ${canaryName(c)}: ${kind.annotation}=${at.toISOString()} written\n`)
  if (waitMs <= 0) {
    process.stdout.write('not waiting (--wait 0): the controller acts on it at its next look\n')
    return EXIT.ok
  }
  let outcome: Outcome
  try {
    outcome = await follow(cluster, c, kind, at, waitMs)
  } catch (e) {
    process.stdout.write(`recorded; cannot follow the Canary to see the controller act (${(e as Error).message})\n`)
    return EXIT.ok
  }
  if (outcome.kind === 'done') {
    process.stdout.write(`${kind.done(outcome.canary)}\n`)
    return EXIT.ok
  }
  if (outcome.kind === 'waiting') {
    process.stdout.write(`${waitingText(c, outcome.release, waitMs)}\n`)
    return EXIT.ok
  }
  throw new CliError(EXIT.failed, `the release moved to ${outcome.canary.status?.phase ?? 'another phase'} before the controller acted on the request, which no longer counts; run the command again if it is still wanted`)
}
