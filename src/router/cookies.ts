// Cookies as routers match and set them: the cookie a request carries (A/B's "always" cookie, the session
// cookies), and the session-affinity cookies the engine decided for a release (kept in the Canary's status,
// see controller/machine/affinity.ts) as the Set-Cookie values and matches a router writes.
import { DEFAULTS, intervalMs } from '../api/defaults.ts'
import type { Canary } from '../api/types.ts'

export function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}

/**
 * A Cookie header that carries `name=value` among its cookies, matched in full (as Envoy matches RE2, and as
 * ECMAScript does with these anchors). Without a value, the cookie named is "always", the rule nginx's
 * canary-by-cookie uses.
 */
export function cookieRegex(name: string, value = 'always'): string {
  return `^(.*?;\\s*)?${escapeRegex(name)}=${escapeRegex(value)}(;.*)?$`
}

/** One session cookie as a router writes it. */
export interface StickyCookie {
  /** `name=value`, as status keeps it. */
  readonly cookie: string
  /** The Set-Cookie header value of the responses that hand it out (or expire it). */
  readonly setCookie: string
  /** cookieRegex for a Cookie header that carries it. */
  readonly match: string
}

/**
 * The cookies of the release as the status holds them: while the canary gets traffic, `canary` (and `primary`
 * with primaryCookieName); once it has none, `expired`, the last release's canary cookie, which clients that
 * still send it are told to delete. Undefined without sessionAffinity.
 */
export interface SessionCookies {
  readonly canary?: StickyCookie
  readonly primary?: StickyCookie
  readonly expired?: StickyCookie
}

function sticky(cookie: string, maxAge: number): StickyCookie {
  const at = cookie.indexOf('=')
  const name = at < 0 ? cookie : cookie.slice(0, at)
  const value = at < 0 ? '' : cookie.slice(at + 1)
  // Path=/: the cookie goes with every path of the app, not only below the one that handed it out.
  return { cookie, setCookie: `${cookie}; Max-Age=${maxAge}; Path=/`, match: cookieRegex(name, value) }
}

export function sessionCookies(c: Canary): SessionCookies | undefined {
  const affinity = c.spec.analysis?.sessionAffinity
  if (!affinity) return undefined
  const s = c.status ?? {}
  if (s.sessionAffinityCookie) {
    const primary = affinity.primaryCookieName && s.primarySessionAffinityCookie
    // As Flagger does: the primary's cookie lasts one analysis interval, so a user it holds on the primary
    // meets the next step's weight afresh.
    const interval = Math.max(1, Math.round(intervalMs(c.spec.analysis) / 1000))
    return {
      canary: sticky(s.sessionAffinityCookie, affinity.maxAge ?? DEFAULTS.sessionAffinityMaxAge),
      ...(primary && { primary: sticky(primary, interval) }),
    }
  }
  // Max-Age=-1, as Flagger writes it: any value up to 0 deletes the cookie (RFC 6265, 5.2.2).
  return s.previousSessionAffinityCookie ? { expired: sticky(s.previousSessionAffinityCookie, -1) } : {}
}
