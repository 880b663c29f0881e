// Reading parsed flags: the helpers every subcommand shares, so that durations and addresses are read and
// refused the same way everywhere.
import { isImplementedProvider, providerUnavailable } from '../api/capabilities.ts'
import { setDefaultProvider } from '../api/defaults.ts'
import { parseDuration } from '../util/duration.ts'
import { CliError, EXIT } from './exit.ts'
import type { Provider } from '../api/types.ts'

/** What node:util parseArgs returns as `values`. */
export type Values = Partial<Record<string, string | boolean | string[] | undefined>>

export const str = (v: Values, k: string): string | undefined => typeof v[k] === 'string' ? v[k] : undefined
export const list = (v: Values, k: string): string[] => Array.isArray(v[k]) ? v[k] : []

/** A duration flag in milliseconds, `fallbackMs` when absent. */
export function durationMs(flag: string, value: string | undefined, fallbackMs: number): number {
  if (value === undefined) return fallbackMs
  const ms = parseDuration(value)
  if (ms === undefined) throw new Error(`--${flag}: "${value}" is not a duration (e.g. 1s, 90s, 10m, 24h)`)
  return ms
}

/** HOST:PORT; `expected` names what else the flag accepts, for the error. */
export function hostPort(flag: string, text: string, expected = 'HOST:PORT'): { host: string; port: number } {
  const i = text.lastIndexOf(':')
  const port = Number(text.slice(i + 1))
  if (i < 0 || !Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--${flag}: "${text}" is not ${expected}`)
  return { host: text.slice(0, i), port }
}

/** `--telemetry-listen`: HOST:PORT, or "off" for no telemetry server. */
export function telemetryAddress(text: string): { host: string; port: number } | undefined {
  return text === 'off' ? undefined : hostPort('telemetry-listen', text, 'HOST:PORT or off')
}

/** An on/off flag, `fallback` when absent. */
export function onOff(flag: string, value: string | undefined, fallback: boolean): boolean {
  if (value === undefined) return fallback
  if (value === 'on' || value === 'off') return value === 'on'
  throw new Error(`--${flag}: "${value}" is neither on nor off`)
}

/** The router of Canaries without spec.provider (Flagger's -mesh-provider); refused at start if sluice has no router for it. */
export function defaultProvider(value: string | undefined): Provider {
  if (value === undefined) return 'kubernetes'
  if (!isImplementedProvider(value)) throw new Error(`--default-provider: ${providerUnavailable(value)}`)
  return value
}

/** Reads --default-provider and makes it the process's default, for the webhook and the controller alike. */
export function applyDefaultProvider(values: Values): Provider {
  const provider = defaultProvider(str(values, 'default-provider'))
  setDefaultProvider(provider)
  return provider
}

/** --wait: a duration, or 0 for not at all; 30s by default. */
export function waitMs(values: Values): number {
  const text = str(values, 'wait')
  try {
    return text === '0' ? 0 : durationMs('wait', text, 30_000)
  } catch (e) {
    throw new CliError(EXIT.usage, (e as Error).message)
  }
}
