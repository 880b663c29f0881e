// Text helpers of the renderers: aligned columns, ages as kubectl writes them, and times.

/** Rows as left-aligned columns two spaces apart (kubectl's table style); trailing spaces trimmed. */
export function columns(rows: readonly (readonly string[])[], indent = ''): string[] {
  const widths: number[] = []
  for (const row of rows) row.forEach((cell, i) => { widths[i] = Math.max(widths[i] ?? 0, cell.length) })
  return rows.map(row => (indent + row.map((cell, i) => i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)).join('  ')).trimEnd())
}

/** An age as kubectl's HumanDuration writes it: 45s, 5m3s, 42m, 5h, 3d. */
export function age(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000))
  if (s < 120) return `${s}s`
  const m = Math.floor(s / 60)
  if (m < 10) return s % 60 === 0 ? `${m}m` : `${m}m${s % 60}s`
  if (m < 180) return `${m}m`
  const h = Math.floor(m / 60)
  if (h < 48) return `${h}h`
  return `${Math.floor(h / 24)}d`
}

/** The age of an API timestamp at `now`; '-' when absent. */
export function since(time: string | Date | undefined, now: Date): string {
  if (time === undefined) return '-'
  const at = new Date(time).getTime()
  return Number.isNaN(at) ? '-' : age(now.getTime() - at)
}

/** "in 7s", or "now" when due. */
export function inTime(due: Date, now: Date): string {
  const ms = due.getTime() - now.getTime()
  return ms <= 500 ? 'now' : `in ${age(ms + 999)}`
}

/** A timestamp for plain-line output: ISO 8601 to the second, UTC. */
export function stamp(now: Date): string {
  return now.toISOString().replace(/\.\d+Z$/, 'Z')
}
