// Google Chat incoming webhooks: a plain text message, Chat's *bold* marking the canary.
import type { JsonPoster } from './transport.ts'
import type { Alert, Notifier } from './types.ts'

export function gchatPayload(alert: Alert): { text: string } {
  const phase = alert.phase ? `, ${alert.phase}` : ''
  return { text: `*${alert.canary}.${alert.namespace}* (${alert.severity}${phase})\n${alert.message}` }
}

export class GChatNotifier implements Notifier {
  readonly #poster: JsonPoster

  constructor(poster: JsonPoster) {
    this.#poster = poster
  }

  async post(alert: Alert): Promise<void> {
    await this.#poster.postOk('Google Chat', gchatPayload(alert))
  }
}
