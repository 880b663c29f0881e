// The Notifier seam (Flagger's pkg/notifier): one implementation per AlertProvider type.
import type { AlertSeverity } from '../api/types.ts'

/** One fact about the release, shown beside the message (Flagger's alert fields). */
export interface AlertField {
  readonly name: string
  readonly value: string
}

export interface Alert {
  /** The Canary's name. */
  readonly canary: string
  readonly namespace: string
  readonly severity: AlertSeverity
  readonly message: string
  readonly phase?: string
  /** Target, Failed checks threshold, Progress deadline, Traffic routing: the fields Flagger sends. */
  readonly fields?: readonly AlertField[]
}

export interface Notifier {
  /** Resolves once the service accepted the alert; rejects with a NotifyError otherwise. */
  post(alert: Alert): Promise<void>
}

/** A failed construction or post. The message names the provider and the failure, never its address. */
export class NotifyError extends Error {
  override readonly name = 'NotifyError'
}

/** What is shown of an alert in every format: its severity, its phase, then the release's fields. */
export function alertFacts(alert: Alert): AlertField[] {
  return [
    { name: 'Severity', value: alert.severity },
    ...(alert.phase ? [{ name: 'Phase', value: alert.phase }] : []),
    ...(alert.fields ?? []),
  ]
}

/** The title every format uses for the release: Flagger's `<name>.<namespace>`. */
export function alertTitle(alert: Alert): string {
  return `${alert.canary}.${alert.namespace}`
}
