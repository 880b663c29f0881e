// The Notifier seam (Flagger's pkg/notifier): one implementation per AlertProvider type.
import type { AlertSeverity } from '../api/types.ts'

export interface Alert {
  /** The Canary's name. */
  readonly canary: string
  readonly namespace: string
  readonly severity: AlertSeverity
  readonly message: string
  readonly phase?: string
}

export interface Notifier {
  /** Resolves once the service accepted the alert; rejects with a NotifyError otherwise. */
  post(alert: Alert): Promise<void>
}

/** A failed construction or post. The message names the provider and the failure, never its address. */
export class NotifyError extends Error {
  override readonly name = 'NotifyError'
}
