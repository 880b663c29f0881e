// A Secret as its readers use it: the API gives `data` base64-encoded, they want the text.

/** A Secret's `data`, base64-decoded (metric credentials, webhook and alert addresses). */
export function decodeSecretData(data: Readonly<Record<string, string>> | undefined): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(data ?? {})) out[k] = Buffer.from(v, 'base64').toString('utf8')
  return out
}
