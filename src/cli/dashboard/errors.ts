// What the dashboard answers when it cannot do what was asked: the CLI's own message (one set of words for a
// refusal), with the HTTP status of its exit code.
import { CliError, EXIT } from '../exit.ts'

export class HttpError extends Error {
  readonly status: number
  constructor(status: number, message: string) {
    super(message)
    this.status = status
  }
}

const STATUS: Readonly<Record<number, number>> = {
  [EXIT.failed]: 409, [EXIT.usage]: 400, [EXIT.notFound]: 404, [EXIT.forbidden]: 403, [EXIT.unavailable]: 502,
}

export function httpError(e: unknown): HttpError {
  if (e instanceof HttpError) return e
  if (e instanceof CliError) return new HttpError(STATUS[e.code] ?? 500, e.message)
  return new HttpError(500, e instanceof Error ? e.message : String(e))
}
