// The exit codes of the operator commands, one meaning each, so that a script can tell the outcomes apart
// (the README's table lists them), and the one error type that carries its code up to main().
import { readApiError } from '../kube/errors.ts'

export const EXIT = {
  /** Done: the request was written (and acted on, or recorded), the release Succeeded, no lint errors. */
  ok: 0,
  /** The release Failed, lint or plan found errors, or the request does not apply to the release's phase. */
  failed: 1,
  /** A flag, argument or kubeconfig context is wrong; or a confirmation was needed and not given. */
  usage: 2,
  /** No such Canary (or file). */
  notFound: 3,
  /** The API server refused the user of the kubeconfig (RBAC, or credentials). */
  forbidden: 4,
  /** `status --timeout` passed before the release ended. */
  timeout: 5,
  /** The API server could not be reached, or answered with another error. */
  unavailable: 6,
} as const

export class CliError extends Error {
  readonly code: number
  constructor(code: number, message: string) {
    super(message)
    this.code = code
  }
}

function transportMessage(err: unknown): string | undefined {
  if (!(err instanceof Error)) return undefined
  const cause = (err as { cause?: { code?: unknown; message?: unknown } }).cause
  const code = typeof cause?.code === 'string' ? cause.code : (err as { code?: unknown }).code
  if (typeof code === 'string' && /^E[A-Z_]+$/.test(code)) return `${code}${typeof cause?.message === 'string' ? ` (${cause.message})` : ''}`
  return err.name === 'TypeError' && err.message === 'fetch failed' ? 'fetch failed' : undefined
}

/**
 * An API failure as a CliError: `doing` says what was attempted ("patch Canary shop/podinfo"), the API
 * server's own message says who was refused what.
 */
export function apiFailure(err: unknown, doing: string, server?: string): CliError {
  if (err instanceof CliError) return err
  const api = readApiError(err)
  if (api?.code === 403) return new CliError(EXIT.forbidden, `cannot ${doing}: forbidden by the cluster's RBAC for the user of your kubeconfig: ${api.message}`)
  if (api?.code === 401) return new CliError(EXIT.forbidden, `cannot ${doing}: the API server did not accept the credentials of your kubeconfig (${api.message})`)
  if (api?.code === 404) return new CliError(EXIT.notFound, `cannot ${doing}: not found: ${api.message}`)
  if (api) return new CliError(EXIT.unavailable, `cannot ${doing}: ${api.code} ${api.reason}: ${api.message}`)
  const transport = transportMessage(err)
  if (transport) return new CliError(EXIT.unavailable, `cannot ${doing}: the API server${server ? ` at ${server}` : ''} cannot be reached: ${transport}`)
  return new CliError(EXIT.unavailable, `cannot ${doing}: ${err instanceof Error ? err.message : String(err)}`)
}
