// Discord: the Execute Webhook JSON (https://discord.com/api/webhooks/<id>/<token>), Discord's own format
// rather than its Slack-compatible endpoint: one embed coloured by severity, the message as its
// description, the fields as embed fields, `username` overriding the webhook's name. `allowed_mentions`
// is empty so that an @everyone quoted in a message pings nobody. `wait=true` makes Discord answer only
// once the message is saved (and say so when it is not), instead of 204 before.
import type { AlertSeverity } from '../api/types.ts'
import { DEFAULT_USERNAME, type ProviderContext } from './provider.ts'
import { truncate } from './text.ts'
import type { JsonPoster } from './transport.ts'
import { alertFacts, alertTitle } from './types.ts'
import type { Alert, Notifier } from './types.ts'

/** Discord's limits on a webhook message and its embeds (Execute Webhook, Embed Limits). */
export const DISCORD_LIMITS = {
  username: 80, title: 256, description: 4096, fields: 25, fieldName: 256, fieldValue: 1024,
  /** title, description, field names and values, footer and author of all embeds together. */
  total: 6000,
} as const

// Embed colours are integers: green, amber, red.
const COLOURS: Readonly<Record<AlertSeverity, number>> = { info: 0x2eb886, warn: 0xdaa038, error: 0xa30200 }

export interface DiscordPayload {
  readonly username: string
  readonly embeds: readonly {
    readonly title: string
    readonly description: string
    readonly color: number
    readonly fields: readonly { readonly name: string; readonly value: string; readonly inline: boolean }[]
    readonly timestamp: string
  }[]
  readonly allowed_mentions: { readonly parse: readonly string[] }
}

export function discordPayload(alert: Alert, username: string, now: Date = new Date()): DiscordPayload {
  const L = DISCORD_LIMITS
  const title = truncate(alertTitle(alert), L.title)
  // The message comes first; the fields get what it leaves of the total, in order, and stop at the first that does not fit.
  const description = truncate(alert.message, Math.min(L.description, L.total - title.length))
  let left = L.total - title.length - description.length
  const fields: { name: string; value: string; inline: boolean }[] = []
  for (const f of alertFacts(alert).slice(0, L.fields)) {
    // A field's name and value may not be empty.
    const field = { name: truncate(f.name || '-', L.fieldName), value: truncate(f.value || '-', L.fieldValue), inline: true }
    left -= field.name.length + field.value.length
    if (left < 0) break
    fields.push(field)
  }
  return {
    username: truncate(username, L.username),
    embeds: [{ title, description, color: COLOURS[alert.severity], fields, timestamp: now.toISOString() }],
    allowed_mentions: { parse: [] },
  }
}

class DiscordNotifier implements Notifier {
  readonly #poster: JsonPoster
  readonly #username: string

  constructor(c: ProviderContext) {
    this.#poster = c.poster
    this.#username = c.spec.username || DEFAULT_USERNAME
    c.poster.rewrite(url => {
      // An address written for Flagger may end in /slack, Discord's Slack-compatible endpoint: the native
      // payload goes to the webhook itself.
      url.pathname = url.pathname.replace(/\/slack\/?$/, '')
      url.searchParams.set('wait', 'true')
    })
  }

  async post(alert: Alert): Promise<void> {
    await this.#poster.postOk('Discord', discordPayload(alert, this.#username))
  }
}

export const discordNotifier = (c: ProviderContext): Notifier => new DiscordNotifier(c)
