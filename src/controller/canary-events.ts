// Events of a release: each is logged, handed to the event webhooks, and recorded on the Canary; the
// Deployment gets the warnings and the milestones, which keeps `kubectl describe deploy` readable and halves
// the Event writes of a running analysis. With step Events off (`--step-events=off`), a step's announcement
// is logged and handed to the webhooks but not written as an Event: a third of a step's API writes.
import type { V1Deployment } from '@kubernetes/client-node'
import type { Logger } from 'pino'
import { GROUP, VERSION, type Canary } from '../api/types.ts'
import { STEP_REASON } from './machine/context.ts'
import type { Hooks, ObjectReference, Recorder } from './ports.ts'

const MILESTONES: ReadonlySet<string> = new Set(['Initialized', 'NewRevision', 'Retry', 'Promoted', 'Terminated', 'Alert'])

export type RecordEvent = (c: Canary, target: V1Deployment | undefined, type: 'Normal' | 'Warning', reason: string, message: string) => Promise<void>

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
}

export function createCanaryEvents(d: CanaryEventDeps): RecordEvent {
  const written = d.stepEvents === false ? (reason: string): boolean => reason !== STEP_REASON : (): boolean => true
  return async (c, target, type, reason, message) => {
    d.log.info({ canary: `${c.metadata.namespace}/${c.metadata.name}`, type, reason }, message)
    d.hooks.event(c, type, reason, message)
    if (!written(reason)) return
    const alsoTarget = target && onTarget(type, reason) ? d.recorder.record(targetRef(c, target), type, reason, message) : undefined
    await Promise.all([d.recorder.record(canaryRef(c), type, reason, message), alsoTarget])
  }
}
