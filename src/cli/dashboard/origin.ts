// Locality and CSRF. The local dashboard acts with the user's kubeconfig, so a page of another site must not
// be able to make the browser press "abort": an action is a POST with a JSON body (a cross-site form cannot
// send one without a CORS preflight, which is never answered), its Origin, when sent, must be the page's
// own, and the Host must be the address served (a DNS name rebound to 127.0.0.1 is refused).

export interface RequestHeaders {
  readonly host?: string | undefined
  readonly origin?: string | undefined
  readonly 'sec-fetch-site'?: string | undefined
  readonly 'content-type'?: string | undefined
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1', '[::1]'])

function hostPort(host: string, port: number): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]:${port}` : `${host}:${port}`
}

/** The Host values a browser sends for the served address (the loopback names alike). */
export function servedHosts(address: string, port: number): Set<string> {
  const names = LOOPBACK.has(address) ? ['127.0.0.1', 'localhost', '::1'] : [address]
  return new Set(names.map(h => hostPort(h, port)))
}

/** Why a request is refused by its Host (undefined: accepted); `hosts` undefined accepts any. */
export function hostRefusal(h: RequestHeaders, hosts: ReadonlySet<string> | undefined): string | undefined {
  if (hosts === undefined) return undefined
  if (h.host !== undefined && hosts.has(h.host.toLowerCase())) return undefined
  return `Host "${h.host ?? ''}" is not the address this dashboard serves (${[...hosts].join(', ')})`
}

/** Why an action (a POST) is refused as cross-site (undefined: accepted). */
export function actionRefusal(h: RequestHeaders, hosts: ReadonlySet<string> | undefined): string | undefined {
  const host = hostRefusal(h, hosts)
  if (host) return host
  if (!/^application\/json\b/i.test(h['content-type'] ?? '')) return 'an action is a POST with Content-Type application/json'
  if (h['sec-fetch-site'] !== undefined && !['same-origin', 'none'].includes(h['sec-fetch-site'])) return `a request from another site (Sec-Fetch-Site ${h['sec-fetch-site']}) may not act`
  if (h.origin === undefined) return undefined
  let origin: URL
  try {
    origin = new URL(h.origin)
  } catch {
    return `Origin "${h.origin}" is not a URL`
  }
  if (origin.host.toLowerCase() !== (h.host ?? '').toLowerCase()) return `Origin ${h.origin} is not this dashboard (${h.host ?? 'no Host'})`
  return undefined
}
