// A generic JSON webhook, for receivers of one's own (an incident tool, a chat bridge): the alert as plain
// fields, with a kind so that a receiver shared with other senders can recognise it.
import type { ProviderContext } from './provider.ts'
import type { JsonPoster } from './transport.ts'
import type { Alert, AlertField, Notifier } from './types.ts'

export interface WebhookAlertDocument {
  readonly kind: 'sluice.dev/alert'
  readonly canary: string
  readonly namespace: string
  readonly severity: Alert['severity']
  readonly message: string
  readonly phase?: string
  /** Target, Failed checks threshold, Progress deadline, Traffic routing (Flagger's alert fields). */
  readonly fields: readonly AlertField[]
  /** RFC 3339 time of sending. */
  readonly timestamp: string
}

export function webhookPayload(alert: Alert, now: Date = new Date()): WebhookAlertDocument {
  return {
    kind: 'sluice.dev/alert',
    canary: alert.canary,
    namespace: alert.namespace,
    severity: alert.severity,
    message: alert.message,
    ...(alert.phase && { phase: alert.phase }),
    fields: alert.fields ?? [],
    timestamp: now.toISOString(),
  }
}

class WebhookNotifier implements Notifier {
  readonly #poster: JsonPoster

  constructor(c: ProviderContext) {
    this.#poster = c.poster
  }

  async post(alert: Alert): Promise<void> {
    await this.#poster.postOk('the webhook', webhookPayload(alert))
  }
}

export const webhookNotifier = (c: ProviderContext): Notifier => new WebhookNotifier(c)
