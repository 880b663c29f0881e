// Alerts (flagger-semantics §11): each of a Canary's analysis.alerts whose severity admits the message gets it
// through its AlertProvider, in that provider type's own format (one file per type, registry.ts). Sending
// never throws and never holds up the rollout beyond the post timeout; a failure is returned and logged with
// the provider's name, never its address (a Slack, Teams, Discord or Google Chat URL is a credential).
import { DEFAULTS, effectiveMaxWeight } from '../api/defaults.ts'
import type { AlertProvider, AlertSeverity, Canary, CanaryAlert, CanaryAnalysis } from '../api/types.ts'
import { notifierFor } from './registry.ts'
import { JsonPoster } from './transport.ts'
import { NotifyError } from './types.ts'
import type { Alert, AlertField, Notifier } from './types.ts'

export type { Alert, AlertField, Notifier } from './types.ts'
export { NotifyError } from './types.ts'
export { DEFAULT_CHANNEL, DEFAULT_USERNAME } from './provider.ts'

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

/** An alert that did not reach its provider: `message` names the alert entry, the provider and why, never an address. */
export interface AlertFailure {
  readonly alert: string
  readonly provider: string
  readonly message: string
}

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

/** Flagger's "Traffic routing" field: how the release moves traffic, or undefined for none. */
function trafficRouting(analysis: CanaryAnalysis = {}): string | undefined {
  const { stepWeight = 0, stepWeights = [], match = [], iterations = 0, interval = DEFAULTS.interval } = analysis
  const max = effectiveMaxWeight(analysis)
  if (stepWeight > 0) return `Weight step: ${stepWeight} max: ${max} interval: ${interval}`
  if (stepWeights.length > 0) return `Weight steps: ${stepWeights.join(',')} max: ${max} interval: ${interval}`
  if (match.length > 0) return 'A/B Testing'
  return iterations > 0 ? 'Blue/Green' : undefined
}

/** Flagger's alert fields (alertMetadata): what is released, and how, beside every message. */
export function alertFields(canary: Canary): AlertField[] {
  const { targetRef, analysis, progressDeadlineSeconds } = canary.spec
  const routing = trafficRouting(analysis)
  return [
    { name: 'Target', value: `${targetRef.kind ?? 'Deployment'}/${targetRef.name}.${canary.metadata.namespace ?? ''}` },
    { name: 'Failed checks threshold', value: String(analysis?.threshold ?? DEFAULTS.threshold) },
    { name: 'Progress deadline', value: `${progressDeadlineSeconds ?? DEFAULTS.progressDeadlineSeconds}s` },
    ...(routing ? [{ name: 'Traffic routing', value: routing }] : []),
  ]
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

/** The proxy: the Secret's `proxy` key wins over spec.proxy, as the address does. */
export function alertProxy(provider: AlertProvider, secret: Readonly<Record<string, string>> | undefined): string | undefined {
  return secret?.proxy?.trim() || provider.spec.proxy?.trim() || undefined
}

/**
 * A Notifier for one AlertProvider. `secret` is the decoded data of its secretRef (keys address, proxy, and
 * for Slack token), read by the caller. Throws NotifyError for a missing or non-http(s) address or proxy.
 */
export function createNotifier(provider: AlertProvider, secret: Readonly<Record<string, string>> | undefined, options: NotifierOptions = {}): Notifier {
  const proxy = alertProxy(provider, secret)
  const poster = new JsonPoster(alertAddress(provider, secret), providerName(provider), { ...options, ...(proxy && { proxy }) })
  return notifierFor(provider.spec, { poster, ...(secret && { secret }) })
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

async function sendOne(canary: Canary, entry: CanaryAlert, alert: Alert, deps: AlertDeps): Promise<AlertFailure | undefined> {
  const namespace = entry.providerRef.namespace ?? canary.metadata.namespace ?? 'default'
  const name = `${namespace}/${entry.providerRef.name}`
  try {
    const provider = deps.getProvider(namespace, entry.providerRef.name)
    if (!provider) throw new NotifyError(`AlertProvider ${name} does not exist`)
    const secret = await readSecret(provider, namespace, deps)
    await createNotifier(provider, secret, deps).post(alert)
    return undefined
  } catch (e) {
    // Only our own messages are kept: they are built never to contain an address or a token.
    const error = e instanceof NotifyError ? e.message : `AlertProvider ${name}: unexpected ${e instanceof Error ? e.name : 'error'}`
    try {
      deps.logger?.warn({ canary: `${alert.namespace}/${alert.canary}`, alert: entry.name, provider: name, error }, 'alert not delivered')
    } catch {
      // A failing logger must not make sendAlerts throw.
    }
    return { alert: entry.name, provider: name, message: `alert ${JSON.stringify(entry.name)} not delivered: ${error}` }
  }
}

/**
 * Sends `message` to every alert of the Canary that admits `severity`, in parallel. Never throws; resolves
 * with the alerts that were not delivered.
 */
export async function sendAlerts(canary: Canary, severity: AlertSeverity, message: string, deps: AlertDeps): Promise<AlertFailure[]> {
  try {
    const alert: Alert = {
      canary: canary.metadata.name ?? '', namespace: canary.metadata.namespace ?? '', severity, message,
      ...(canary.status?.phase && { phase: canary.status.phase }),
      fields: alertFields(canary),
    }
    const entries = (canary.spec.analysis?.alerts ?? []).filter(a => admits(a.severity, severity))
    const results = await Promise.all(entries.map(a => sendOne(canary, a, alert, deps)))
    return results.filter(r => r !== undefined)
  } catch {
    // Only a malformed Canary gets here; alerts are best effort by design.
    return []
  }
}
