// Slack: an incoming webhook (https://hooks.slack.com/services/…) or, with a bot token in the Secret,
// chat.postMessage. One attachment per alert coloured by severity, with the fields as Flagger sends them;
// Slack's control characters (& < >) are escaped, so that a quoted `<!channel>` notifies nobody.
import type { AlertSeverity } from '../api/types.ts'
import { DEFAULT_CHANNEL, DEFAULT_USERNAME, type ProviderContext } from './provider.ts'
import { escapeSlack, truncate } from './text.ts'
import { refusal, type JsonPoster } from './transport.ts'
import { alertFacts, alertTitle, NotifyError } from './types.ts'
import type { Alert, Notifier } from './types.ts'

export interface SlackField {
  readonly title: string
  readonly value: string
  readonly short: boolean
}

export interface SlackPayload {
  readonly channel: string
  readonly username: string
  readonly attachments: readonly {
    readonly color: string
    readonly fallback: string
    readonly author_name: string
    readonly text: string
    readonly mrkdwn_in: readonly string[]
    readonly fields: readonly SlackField[]
  }[]
}

/**
 * Slack truncates a message past 40,000 characters; the message is cut well before, so that it stays whole
 * even with every character escaped (5 for one).
 */
export const SLACK_TEXT_LIMIT = 8000

const COLOURS: Readonly<Record<AlertSeverity, string>> = { info: 'good', warn: 'warning', error: 'danger' }

export function slackPayload(alert: Alert, options: { channel: string; username: string }): SlackPayload {
  const author = escapeSlack(alertTitle(alert))
  const text = escapeSlack(truncate(alert.message, SLACK_TEXT_LIMIT))
  return {
    channel: options.channel,
    username: options.username,
    attachments: [{
      color: COLOURS[alert.severity], fallback: `${author}: ${text}`, author_name: author, text, mrkdwn_in: ['text'],
      fields: alertFacts(alert).map(f => ({ title: escapeSlack(f.name), value: escapeSlack(f.value), short: true })),
    }],
  }
}

class SlackNotifier implements Notifier {
  readonly #poster: JsonPoster
  readonly #options: { channel: string; username: string }
  readonly #headers: Record<string, string>

  constructor(c: ProviderContext) {
    this.#poster = c.poster
    this.#options = { channel: c.spec.channel || DEFAULT_CHANNEL, username: c.spec.username || DEFAULT_USERNAME }
    // A bot token (Secret key `token`) is sent as a Bearer header, for chat.postMessage.
    const token = c.secret?.token?.trim()
    this.#headers = token ? { Authorization: `Bearer ${token}` } : {}
  }

  async post(alert: Alert): Promise<void> {
    const reply = await this.#poster.postOk('Slack', slackPayload(alert, this.#options), this.#headers)
    // chat.postMessage answers 200 {"ok":false,"error":"channel_not_found"} when it refuses a message.
    const refused = refusal(reply.snippet, 'ok')
    if (refused !== undefined) throw new NotifyError(`${this.#poster.what}: Slack refused the message: ${refused}`)
  }
}

export const slackNotifier = (c: ProviderContext): Notifier => new SlackNotifier(c)
