// Text helpers of the alert formats: each service's length limit and its markup's control characters.
// An alert's message and fields are sluice's words, but they quote user input (metric names, hook names,
// answers of webhooks), so they are escaped wherever the service would read markup or mentions in them.

const MARK = '…'

/**
 * Cuts `text` to at most `max` UTF-16 code units (the most conservative way services count characters),
 * ending with an ellipsis when cut, never splitting a surrogate pair.
 */
export function truncate(text: string, max: number): string {
  if (text.length <= max) return text
  if (max <= MARK.length) return MARK.slice(0, Math.max(0, max))
  let end = max - MARK.length
  const last = text.charCodeAt(end - 1)
  // A high surrogate at the cut would be left without its pair.
  if (last >= 0xd800 && last <= 0xdbff) end--
  return text.slice(0, end) + MARK
}

/** Slack's and Rocket.Chat's control characters (a `<!channel>` would notify everyone). */
export function escapeSlack(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
}

/** Google Chat card text is a subset of HTML. */
export function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')
}
