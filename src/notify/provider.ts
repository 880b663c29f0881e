// What every alert provider's factory is given (registry.ts calls it): the poster bound to the provider's
// address and proxy, the AlertProvider's spec, and the data of its secretRef. One file per provider type
// builds that service's own documented payload from it.
import type { AlertProviderSpec } from '../api/types.ts'
import type { JsonPoster } from './transport.ts'
import type { Notifier } from './types.ts'

export interface ProviderContext {
  readonly poster: JsonPoster
  readonly spec: AlertProviderSpec
  /** The decoded data of spec.secretRef, when it names one (keys address, proxy, and for Slack token). */
  readonly secret?: Readonly<Record<string, string>>
}

export type NotifierFactory = (context: ProviderContext) => Notifier

/** Flagger's default channel, for the services whose payload names one (Slack). */
export const DEFAULT_CHANNEL = 'general'
/** The name alerts are posted under where the service lets the sender choose it. */
export const DEFAULT_USERNAME = 'sluice'
