// Slack, and the services that accept Slack's incoming-webhook format: Rocket.Chat, and Discord at
// <address>/slack. One attachment per alert, coloured by severity, as Flagger's slack notifier sends it.
import type { AlertSeverity } from '../api/types.ts'
import type { JsonPoster } from './transport.ts'
import { NotifyError } from './types.ts'
import type { Alert, Notifier } from './types.ts'

export type SlackFlavour = 'slack' | 'rocket' | 'discord'

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

export interface SlackOptions {
  readonly channel: string
  readonly username: string
  /** A bot token (Secret key `token`): sent as a Bearer header, for chat.postMessage. */
  readonly token?: string
}

const COLOURS: Readonly<Record<AlertSeverity, string>> = { info: 'good', warn: 'warning', error: 'danger' }
const SERVICE: Readonly<Record<SlackFlavour, string>> = { slack: 'Slack', rocket: 'Rocket.Chat', discord: 'Discord' }

export function slackPayload(alert: Alert, options: Pick<SlackOptions, 'channel' | 'username'>): SlackPayload {
  const author = `${alert.canary}.${alert.namespace}`
  const fields: SlackField[] = [{ title: 'Severity', value: alert.severity, short: true }]
  if (alert.phase) fields.push({ title: 'Phase', value: alert.phase, short: true })
  return {
    channel: options.channel,
    username: options.username,
    attachments: [{
      color: COLOURS[alert.severity], fallback: `${author}: ${alert.message}`, author_name: author, text: alert.message,
      mrkdwn_in: ['text'], fields,
    }],
  }
}

// chat.postMessage answers HTTP 200 with {"ok":false,"error":"channel_not_found"} when it refuses a message.
function slackApiError(snippet: string): string | undefined {
  if (!/"ok"\s*:\s*false/.test(snippet)) return undefined
  return /"error"\s*:\s*"([^"]{1,100})"/.exec(snippet)?.[1] ?? 'unknown error'
}

export class SlackNotifier implements Notifier {
  readonly #poster: JsonPoster
  readonly #flavour: SlackFlavour
  readonly #options: SlackOptions

  constructor(flavour: SlackFlavour, poster: JsonPoster, options: SlackOptions) {
    this.#flavour = flavour
    this.#poster = poster
    this.#options = options
    // Discord takes Slack's format only at its /slack endpoint.
    if (flavour === 'discord') poster.withSuffix('/slack')
  }

  async post(alert: Alert): Promise<void> {
    const headers: Record<string, string> = this.#options.token ? { Authorization: `Bearer ${this.#options.token}` } : {}
    const service = SERVICE[this.#flavour]
    const reply = await this.#poster.postOk(service, slackPayload(alert, this.#options), headers)
    const refused = slackApiError(reply.snippet)
    if (refused !== undefined) throw new NotifyError(`${this.#poster.what}: ${service} refused the message: ${refused}`)
  }
}
