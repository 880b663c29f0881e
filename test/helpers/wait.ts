// Waits poll with a timeout and name what they waited for; they never sleep a fixed time.
import { waitFor } from '../cluster/process.ts'

/** Polls `read` until `accept` holds for its value; returns that value. */
export async function until<T>(read: () => Promise<T>, accept: (v: T) => boolean, what: string, timeoutMs = 60_000): Promise<T> {
  let seen: T | undefined
  let got = false
  try {
    await waitFor(async () => {
      seen = await read()
      got = true
      return accept(seen)
    }, { timeoutMs, what })
  } catch (e) {
    const last = got ? ` (last seen: ${JSON.stringify(seen)})` : ''
    throw new Error(`${(e as Error).message}${last}`, { cause: e })
  }
  return seen as T
}
