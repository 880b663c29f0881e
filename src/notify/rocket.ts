// Rocket.Chat: an incoming webhook integration (https://<server>/hooks/<id>/<token>), whose body is a
// Rocket.Chat message: `alias` (the name shown instead of the integration's user), `channel` (overrides
// the integration's channel only when set: `#channel`, `@user` or a room id), and one attachment coloured
// by severity with the message and the fields. Rocket.Chat renders attachment text as Markdown and
// parses no mentions there.
import type { AlertSeverity } from '../api/types.ts'
import { DEFAULT_USERNAME, type ProviderContext } from './provider.ts'
import { truncate } from './text.ts'
import { refusal, type JsonPoster } from './transport.ts'
import { alertFacts, alertTitle, NotifyError } from './types.ts'
import type { Alert, Notifier } from './types.ts'

/** Rocket.Chat's default Message_MaxAllowedSize. */
export const ROCKET_TEXT_LIMIT = 5000

const COLOURS: Readonly<Record<AlertSeverity, string>> = { info: '#2eb886', warn: '#daa038', error: '#a30200' }

export interface RocketPayload {
  readonly alias: string
  readonly channel?: string
  readonly attachments: readonly {
    readonly title: string
    readonly text: string
    readonly color: string
    readonly fields: readonly { readonly short: boolean; readonly title: string; readonly value: string }[]
  }[]
}

export function rocketPayload(alert: Alert, options: { alias: string; channel?: string }): RocketPayload {
  return {
    alias: options.alias,
    ...(options.channel && { channel: options.channel }),
    attachments: [{
      title: alertTitle(alert),
      text: truncate(alert.message, ROCKET_TEXT_LIMIT),
      color: COLOURS[alert.severity],
      fields: alertFacts(alert).map(f => ({ short: true, title: f.name, value: f.value })),
    }],
  }
}

class RocketNotifier implements Notifier {
  readonly #poster: JsonPoster
  readonly #options: { alias: string; channel?: string }

  constructor(c: ProviderContext) {
    this.#poster = c.poster
    this.#options = { alias: c.spec.username || DEFAULT_USERNAME, ...(c.spec.channel && { channel: c.spec.channel }) }
  }

  async post(alert: Alert): Promise<void> {
    const reply = await this.#poster.postOk('Rocket.Chat', rocketPayload(alert, this.#options))
    const refused = refusal(reply.snippet, 'success')
    if (refused !== undefined) throw new NotifyError(`${this.#poster.what}: Rocket.Chat refused the message: ${refused}`)
  }
}

export const rocketNotifier = (c: ProviderContext): Notifier => new RocketNotifier(c)
