// Microsoft Teams: an Adaptive Card in a message envelope, posted to a Teams Workflows webhook (the
// "Send webhook alerts to a channel" template, Power Automate). Flagger sent a legacy MessageCard, which
// only the Office 365 connectors accepted; Microsoft retired those in favour of Workflows, whose webhook
// requires an Adaptive Card, and the connectors that remain accept one too. Teams renders Adaptive Card
// version 1.4 and below everywhere; 202 Accepted (Workflows) is success.
import type { AlertSeverity } from '../api/types.ts'
import type { ProviderContext } from './provider.ts'
import { truncate } from './text.ts'
import type { JsonPoster } from './transport.ts'
import { alertFacts, alertTitle } from './types.ts'
import type { Alert, Notifier } from './types.ts'

/** Teams refuses a message over about 28 KB: the message is cut so that the card stays well under. */
export const TEAMS_TEXT_LIMIT = 8000

const COLOURS: Readonly<Record<AlertSeverity, string>> = { info: 'Good', warn: 'Warning', error: 'Attention' }

export function teamsPayload(alert: Alert): object {
  return {
    type: 'message',
    attachments: [{
      contentType: 'application/vnd.microsoft.card.adaptive',
      contentUrl: null,
      content: {
        $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
        type: 'AdaptiveCard',
        version: '1.4',
        msteams: { width: 'Full' },
        body: [
          { type: 'TextBlock', text: alertTitle(alert), weight: 'Bolder', size: 'Medium', color: COLOURS[alert.severity], wrap: true },
          { type: 'TextBlock', text: truncate(alert.message, TEAMS_TEXT_LIMIT), wrap: true },
          { type: 'FactSet', facts: alertFacts(alert).map(f => ({ title: f.name, value: f.value })) },
        ],
      },
    }],
  }
}

class TeamsNotifier implements Notifier {
  readonly #poster: JsonPoster

  constructor(c: ProviderContext) {
    this.#poster = c.poster
  }

  async post(alert: Alert): Promise<void> {
    await this.#poster.postOk('Microsoft Teams', teamsPayload(alert))
  }
}

export const teamsNotifier = (c: ProviderContext): Notifier => new TeamsNotifier(c)
