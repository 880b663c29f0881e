// Google Chat: an incoming webhook of a space (https://chat.googleapis.com/v1/spaces/…/messages?key=…&token=…)
// with a card (cardsV2, as Flagger's legacy `cards`): the release as the header, the message and then the
// fields as widgets. Card text is a subset of HTML, so the quoted text is escaped. A `text` line goes with
// it for the notification, which shows no card.
import type { AlertSeverity } from '../api/types.ts'
import type { ProviderContext } from './provider.ts'
import { escapeHtml, truncate } from './text.ts'
import type { JsonPoster } from './transport.ts'
import { alertFacts, alertTitle } from './types.ts'
import type { Alert, Notifier } from './types.ts'

/** Google Chat refuses a message over 32,000 bytes; the message is cut so that, escaped, it stays well under. */
export const GCHAT_TEXT_LIMIT = 4000

const COLOURS: Readonly<Record<AlertSeverity, string>> = { info: '#188038', warn: '#e37400', error: '#d93025' }

export function gchatPayload(alert: Alert): object {
  const title = alertTitle(alert)
  return {
    text: `${title}: ${alert.severity}${alert.phase ? `, ${alert.phase}` : ''}`,
    cardsV2: [{
      cardId: 'sluice-alert',
      card: {
        header: { title, subtitle: 'sluice' },
        sections: [
          { widgets: [{ textParagraph: { text: `<font color="${COLOURS[alert.severity]}"><b>${escapeHtml(truncate(alert.message, GCHAT_TEXT_LIMIT))}</b></font>` } }] },
          { widgets: alertFacts(alert).map(f => ({ decoratedText: { topLabel: escapeHtml(f.name), text: escapeHtml(f.value) } })) },
        ],
      },
    }],
  }
}

class GChatNotifier implements Notifier {
  readonly #poster: JsonPoster

  constructor(c: ProviderContext) {
    this.#poster = c.poster
  }

  async post(alert: Alert): Promise<void> {
    await this.#poster.postOk('Google Chat', gchatPayload(alert))
  }
}

export const gchatNotifier = (c: ProviderContext): Notifier => new GChatNotifier(c)
