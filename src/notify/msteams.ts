// Microsoft Teams: an Adaptive Card in a message envelope. Flagger sent a legacy MessageCard, which only the
// retired Office 365 connectors accept; Workflows (Power Automate) webhooks, their replacement, require an
// Adaptive Card, and the remaining connectors accept one too.
import type { AlertSeverity } from '../api/types.ts'
import type { JsonPoster } from './transport.ts'
import type { Alert, Notifier } from './types.ts'

const COLOURS: Readonly<Record<AlertSeverity, string>> = { info: 'Good', warn: 'Warning', error: 'Attention' }

export function teamsPayload(alert: Alert): object {
  const facts: { title: string; value: string }[] = [{ title: 'Severity', value: alert.severity }]
  if (alert.phase) facts.push({ title: 'Phase', value: alert.phase })
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
          { type: 'TextBlock', text: `${alert.canary}.${alert.namespace}`, weight: 'Bolder', size: 'Medium', color: COLOURS[alert.severity] },
          { type: 'TextBlock', text: alert.message, wrap: true },
          { type: 'FactSet', facts },
        ],
      },
    }],
  }
}

export class TeamsNotifier implements Notifier {
  readonly #poster: JsonPoster

  constructor(poster: JsonPoster) {
    this.#poster = poster
  }

  async post(alert: Alert): Promise<void> {
    await this.#poster.postOk('Microsoft Teams', teamsPayload(alert))
  }
}
