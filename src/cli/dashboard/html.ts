// HTML text for the dashboard's pages: escaping, and tables from the same rows the CLI prints as columns.

const ESCAPES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', '\'': '&#39;' }

/** Text safe inside an element or a quoted attribute. */
export function esc(text: string | number | undefined): string {
  return String(text ?? '').replace(/[&<>"']/g, ch => ESCAPES[ch] ?? ch)
}

/** A table; cells are text (escaped) unless `raw` says which columns already hold HTML. */
export function table(header: readonly string[], rows: readonly (readonly string[])[], raw: ReadonlySet<number> = new Set()): string {
  const head = header.map(h => `<th>${esc(h)}</th>`).join('')
  const body = rows.map(r => `<tr>${r.map((cell, i) => `<td>${raw.has(i) ? cell : esc(cell)}</td>`).join('')}</tr>`).join('\n')
  return `<table><thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table>`
}

/** A link to one release's page. */
export function releasePath(namespace: string, name: string): string {
  return `/r/${encodeURIComponent(namespace)}/${encodeURIComponent(name)}`
}
