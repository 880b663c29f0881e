// Which Notifier sends for an AlertProvider's type. Apart from provider.ts (the seam every provider
// imports), so that the providers do not import the file that imports them.
import { alertProviderUnavailable, isImplementedAlertProvider, type ImplementedAlertProvider } from '../api/capabilities.ts'
import type { AlertProviderSpec } from '../api/types.ts'
import { discordNotifier } from './discord.ts'
import { gchatNotifier } from './gchat.ts'
import { teamsNotifier } from './msteams.ts'
import type { NotifierFactory, ProviderContext } from './provider.ts'
import { rocketNotifier } from './rocket.ts'
import { slackNotifier } from './slack.ts'
import { NotifyError, type Notifier } from './types.ts'
import { webhookNotifier } from './webhook.ts'

// One line per provider type; the key type makes this registry and the capability table list the same types.
const NOTIFIERS: Readonly<Record<ImplementedAlertProvider, NotifierFactory>> = {
  slack: slackNotifier,
  msteams: teamsNotifier,
  discord: discordNotifier,
  rocket: rocketNotifier,
  gchat: gchatNotifier,
  webhook: webhookNotifier,
}

export const ALERT_PROVIDER_NOTIFIERS = Object.keys(NOTIFIERS) as ImplementedAlertProvider[]

/** The Notifier of an implemented type; a NotifyError for any other (validation refuses them at apply). */
export function notifierFor(spec: AlertProviderSpec, context: Omit<ProviderContext, 'spec'>): Notifier {
  const type: unknown = spec.type
  if (!isImplementedAlertProvider(type)) throw new NotifyError(`${context.poster.what}: spec.type ${alertProviderUnavailable(String(type))}`)
  return NOTIFIERS[type]({ ...context, spec })
}
