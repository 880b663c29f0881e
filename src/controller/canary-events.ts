// Events of a release: each is logged, handed to the event webhooks, and recorded on the Canary; the
// Deployment gets the warnings and the milestones, which keeps `kubectl describe deploy` readable and halves
// the Event writes of a running analysis. With step Events off (`--step-events=off`), a step's announcement
// is logged and handed to the webhooks but not written as an Event: a third of a step's API writes. The
// notice of a wait that goes on is decided on every look (each status change of a Deployment while its pods
// start) and recorded when the wait begins, then at most once in its `onceEvery`.
import type { V1Deployment } from '@kubernetes/client-node'
import type { Logger } from 'pino'
import { GROUP, VERSION, type Canary } from '../api/types.ts'
import { setNewest } from '../util/bounded-map.ts'
import { STEP_REASON } from './machine/context.ts'
import type { Hooks, ObjectReference, Recorder } from './ports.ts'

const MILESTONES: ReadonlySet<string> = new Set(['Initialized', 'NewRevision', 'Retry', 'Promoted', 'Terminated', 'Alert'])

export type RecordEvent = (
  c: Canary, target: V1Deployment | undefined, type: 'Normal' | 'Warning', reason: string, message: string, onceEvery?: number,
) => Promise<void>

/** How many waits are remembered; forgetting one costs one early repeat of its notice. */
export const WAIT_MEMORY = 4096

export function canaryRef(c: Canary): ObjectReference {
  return {
    apiVersion: `${GROUP}/${VERSION}`, kind: 'Canary', name: c.metadata.name ?? '', namespace: c.metadata.namespace ?? '',
    ...(c.metadata.uid && { uid: c.metadata.uid }),
  }
}

function targetRef(c: Canary, target: V1Deployment): ObjectReference {
  return {
    apiVersion: 'apps/v1', kind: 'Deployment', name: target.metadata?.name ?? '', namespace: c.metadata.namespace ?? '',
    ...(target.metadata?.uid && { uid: target.metadata.uid }),
  }
}

/** Whether an Event of this kind is also recorded on the target Deployment. */
export function onTarget(type: 'Normal' | 'Warning', reason: string): boolean {
  return type === 'Warning' || MILESTONES.has(reason)
}

export interface CanaryEventDeps {
  readonly recorder: Recorder
  readonly hooks: Pick<Hooks, 'event'>
  readonly log: Logger
  /** Whether each step is also written as a Kubernetes Event (default true, as Flagger). */
  readonly stepEvents?: boolean
  readonly now?: () => Date
}

/** Whether a wait's notice is due: its first, or the first since `onceEvery` ms passed (remembered when due). */
export function waitNoticeGate(now: () => number, capacity = WAIT_MEMORY): (key: string, onceEvery: number) => boolean {
  // Insertion order is the order of the last notices: the first entry is the oldest.
  const last = new Map<string, number>()
  return (key, onceEvery) => {
    const at = now()
    const before = last.get(key)
    if (before !== undefined && at - before < onceEvery) return false
    setNewest(last, key, at, capacity)
    return true
  }
}

export function createCanaryEvents(d: CanaryEventDeps): RecordEvent {
  const written = d.stepEvents === false ? (reason: string): boolean => reason !== STEP_REASON : (): boolean => true
  const now = d.now ?? ((): Date => new Date())
  const waitDue = waitNoticeGate(() => now().getTime())
  return async (c, target, type, reason, message, onceEvery) => {
    const canary = `${c.metadata.namespace}/${c.metadata.name}`
    if (onceEvery !== undefined && !waitDue(`${canary}\u0000${reason}`, onceEvery)) {
      d.log.debug({ canary, type, reason }, message)
      return
    }
    d.log.info({ canary, type, reason }, message)
    d.hooks.event(c, type, reason, message)
    if (!written(reason)) return
    const alsoTarget = target && onTarget(type, reason) ? d.recorder.record(targetRef(c, target), type, reason, message) : undefined
    await Promise.all([d.recorder.record(canaryRef(c), type, reason, message), alsoTarget])
  }
}
