// Alerts (flagger-semantics §11): each of a Canary's analysis.alerts whose severity admits the message gets it
// through its AlertProvider. Sending never throws and never holds up the rollout beyond the post timeout; a
// failure is logged with the provider's name, never its address (a Slack or Teams URL is a credential).
import { DEFAULTS } from '../api/defaults.ts'
import type { AlertProvider, AlertSeverity, Canary, CanaryAlert } from '../api/types.ts'
import { GChatNotifier } from './gchat.ts'
import { TeamsNotifier } from './msteams.ts'
import { SlackNotifier } from './slack.ts'
import { JsonPoster } from './transport.ts'
import { NotifyError } from './types.ts'
import type { Alert, Notifier } from './types.ts'
import { WebhookNotifier } from './webhook.ts'

export type { Alert, Notifier } from './types.ts'
export { NotifyError } from './types.ts'

export interface NotifierOptions {
  readonly fetch?: typeof fetch
  /** Per post; default 5s, as Flagger. */
  readonly timeoutMs?: number
}

export interface AlertDeps extends NotifierOptions {
  getProvider(namespace: string, name: string): AlertProvider | undefined
  /** The Secret's data, decoded (string values, as in stringData); undefined when it does not exist. */
  getSecret(namespace: string, name: string): Promise<Record<string, string> | undefined>
  logger?: { warn(obj: object, msg: string): void }
}

export const DEFAULT_CHANNEL = 'general'
export const DEFAULT_USERNAME = 'sluice'

const RANK: Readonly<Record<string, number>> = { info: 0, warn: 1, error: 2 }

/**
 * Whether an alert entry of severity `wanted` receives a message of severity `severity`: info receives
 * everything, warn receives warn and error, error only error. A missing severity means info (Flagger's
 * documented default; its code sent nothing), and so does an unknown one, so that no alert is lost silently.
 */
export function admits(wanted: AlertSeverity | '' | undefined, severity: AlertSeverity): boolean {
  const floor = RANK[wanted || DEFAULTS.alertSeverity] ?? 0
  return (RANK[severity] ?? 0) >= floor
}

function providerName(provider: AlertProvider): string {
  return `AlertProvider ${provider.metadata.namespace ?? ''}/${provider.metadata.name ?? ''}`
}

/** The Secret's `address` key wins over spec.address, as in Flagger. Throws NotifyError, never quoting it. */
export function alertAddress(provider: AlertProvider, secret: Readonly<Record<string, string>> | undefined): string {
  const fromSecret = secret?.address?.trim()
  if (fromSecret) return fromSecret
  const fromSpec = provider.spec.address?.trim()
  if (fromSpec) return fromSpec
  const ref = provider.spec.secretRef
  const where = ref ? `spec.address, or the address key of Secret ${provider.metadata.namespace ?? ''}/${ref.name}` : 'spec.address, or spec.secretRef to a Secret with an address key'
  throw new NotifyError(`${providerName(provider)} has no address; set ${where}`)
}

/**
 * A Notifier for one AlertProvider. `secret` is the decoded data of its secretRef (keys address, token,
 * proxy), read by the caller. Throws NotifyError for a missing or non-http(s) address or proxy.
 */
export function createNotifier(provider: AlertProvider, secret: Readonly<Record<string, string>> | undefined, options: NotifierOptions = {}): Notifier {
  const what = providerName(provider)
  const proxy = secret?.proxy?.trim() || provider.spec.proxy
  const poster = new JsonPoster(alertAddress(provider, secret), what, { ...options, ...(proxy && { proxy }) })
  return notifierFor(provider, poster, secret?.token?.trim())
}

function notifierFor(provider: AlertProvider, poster: JsonPoster, token: string | undefined): Notifier {
  const type = provider.spec.type
  switch (type) {
    case 'slack':
    case 'rocket':
    case 'discord':
      return new SlackNotifier(type, poster, {
        channel: provider.spec.channel || DEFAULT_CHANNEL, username: provider.spec.username || DEFAULT_USERNAME, ...(token && { token }),
      })
    case 'msteams':
      return new TeamsNotifier(poster)
    case 'gchat':
      return new GChatNotifier(poster)
    case 'webhook':
      return new WebhookNotifier(poster)
    default:
      throw new NotifyError(`${poster.what}: spec.type ${JSON.stringify(type)} is not one of slack, msteams, discord, rocket, gchat, webhook`)
  }
}

async function readSecret(provider: AlertProvider, namespace: string, deps: AlertDeps): Promise<Record<string, string> | undefined> {
  const ref = provider.spec.secretRef
  if (!ref) return undefined
  const ns = provider.metadata.namespace ?? namespace
  let secret: Record<string, string> | undefined
  try {
    secret = await deps.getSecret(ns, ref.name)
  } catch {
    throw new NotifyError(`${providerName(provider)}: could not read Secret ${ns}/${ref.name}`)
  }
  if (!secret) throw new NotifyError(`${providerName(provider)}: Secret ${ns}/${ref.name} (spec.secretRef) does not exist; create it or fix the name`)
  return secret
}

async function sendOne(canary: Canary, entry: CanaryAlert, alert: Alert, deps: AlertDeps): Promise<void> {
  const namespace = entry.providerRef.namespace ?? canary.metadata.namespace ?? 'default'
  const name = `${namespace}/${entry.providerRef.name}`
  try {
    const provider = deps.getProvider(namespace, entry.providerRef.name)
    if (!provider) throw new NotifyError(`AlertProvider ${name} does not exist`)
    const secret = await readSecret(provider, namespace, deps)
    await createNotifier(provider, secret, deps).post(alert)
  } catch (e) {
    // Only our own messages are logged: they are built never to contain an address or a token.
    const error = e instanceof NotifyError ? e.message : `AlertProvider ${name}: unexpected ${e instanceof Error ? e.name : 'error'}`
    try {
      deps.logger?.warn({ canary: `${alert.namespace}/${alert.canary}`, alert: entry.name, provider: name, error }, 'alert not delivered')
    } catch {
      // A failing logger must not make sendAlerts throw.
    }
  }
}

/** Sends `message` to every alert of the Canary that admits `severity`, in parallel. Never throws. */
export async function sendAlerts(canary: Canary, severity: AlertSeverity, message: string, deps: AlertDeps): Promise<void> {
  try {
    const alert: Alert = {
      canary: canary.metadata.name ?? '', namespace: canary.metadata.namespace ?? '', severity, message,
      ...(canary.status?.phase && { phase: canary.status.phase }),
    }
    const entries = (canary.spec.analysis?.alerts ?? []).filter(a => admits(a.severity, severity))
    await Promise.all(entries.map(a => sendOne(canary, a, alert, deps)))
  } catch {
    // Only a malformed Canary gets here; alerts are best effort by design.
  }
}
