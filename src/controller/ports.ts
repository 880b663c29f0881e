// The seams the reconcile acts through, implemented by adapters (Events, telemetry, webhooks and alerts),
// so that it knows none of their transports.
import type { AlertSeverity, Canary, CanaryPhase, HookType } from '../api/types.ts'
import type { HookOutcome } from './machine/types.ts'

export interface ObjectReference {
  readonly apiVersion: string
  readonly kind: string
  readonly name: string
  readonly namespace: string
  readonly uid?: string
}

export interface Recorder {
  record(object: ObjectReference, type: 'Normal' | 'Warning', reason: string, message: string): Promise<void>
}

/** The parts of the telemetry the reconcile feeds. */
export interface Telemetry {
  /** `deadlineAtMs`: when a running analysis is past its progress deadline (last progress + progressDeadlineSeconds). */
  observePhase(name: string, namespace: string, phase: CanaryPhase, deadlineAtMs?: number): void
  observeWeights(namespace: string, primary: string, canary: string, primaryWeight: number, canaryWeight: number): void
  observeMetric(name: string, namespace: string, metric: string, value: number): void
  runFinished(name: string, namespace: string, outcome: 'succeeded' | 'failed', seconds: number): void
  forget(name: string, namespace: string): void
}

/** Webhooks and alerts, behind a seam so that the reconcile does not know their transports. */
export interface Hooks {
  run(canary: Canary, type: HookType, phase: string): Promise<HookOutcome[]>
  event(canary: Canary, type: 'Normal' | 'Warning', reason: string, message: string): void
  /** Sends in the background; resolves, never rejects, with a line per alert not delivered (no address in it). */
  alert(canary: Canary, severity: AlertSeverity, message: string): Promise<readonly string[]>
}
