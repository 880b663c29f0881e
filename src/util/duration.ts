// Durations as Flagger writes them (Go's time.ParseDuration subset: integer amounts of h, m, s, ms).
// In util/: used by the CLI flags, hooks, notifiers and metrics as much as by the API.
import { setNewest } from './bounded-map.ts'

export const DURATION_PATTERN = '^([0-9]+(ms|s|m|h))+$'

const UNIT_MS: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1 }
const DURATION_RE = new RegExp(DURATION_PATTERN)
const PART_RE = /([0-9]+)(ms|s|m|h)/g

// The controller parses each Canary's few durations on every look: the texts are few, so their values are kept.
// Only short texts: the webhook parses annotations before the API server checks their size.
const PARSED_CAPACITY = 256
const PARSED_MAX_TEXT = 32
const parsed = new Map<string, number | undefined>()

/** Milliseconds, or undefined when the text is not a duration such as "30s", "1m30s" or "500ms". */
export function parseDuration(text: string): number | undefined {
  if (parsed.has(text)) return parsed.get(text)
  let total: number | undefined
  if (DURATION_RE.test(text)) {
    total = 0
    for (const [, amount, unit] of text.matchAll(PART_RE)) total += Number(amount) * (UNIT_MS[unit ?? ''] ?? 0)
  }
  if (text.length <= PARSED_MAX_TEXT) setNewest(parsed, text, total, PARSED_CAPACITY)
  return total
}

/** The shortest readable form: 90000 → "1m30s", 3600000 → "1h", 500 → "500ms", 0 → "0s". */
export function formatDuration(ms: number): string {
  if (ms <= 0) return '0s'
  let rest = Math.round(ms)
  let text = ''
  for (const unit of ['h', 'm', 's', 'ms']) {
    const size = UNIT_MS[unit] ?? 1
    const amount = Math.floor(rest / size)
    if (amount > 0) text += `${amount}${unit}`
    rest -= amount * size
  }
  return text
}
