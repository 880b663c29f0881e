// Session affinity (analysis.sessionAffinity), the engine's part: which cookies a release uses, decided in the
// status that is written before any router acts on it, so that a restart never changes a cookie mid-release.
// A release gets a new canary cookie (and primary cookie) when the canary first gets traffic; once it has
// none again (promoted, rolled back, restarted), the cookie becomes the previous one, which routers expire.
// How the cookies are routed is each router's business (src/router/cookies.ts hands them out).
import type { CanaryStatus } from '../../api/types.ts'
import { expectedRoute, type Ctx } from './context.ts'

const nameOf = (cookie: string | undefined): string | undefined => cookie?.split('=')[0]

/** The cookie named `name` the status already holds, or a new one; undefined without a name (or a value to use). */
function cookieNamed(name: string | undefined, held: string | undefined, value: string | undefined): string | undefined {
  if (name === undefined) return undefined
  // Kept as long as its name is still the one asked for; a renamed cookie starts afresh.
  if (held !== undefined && nameOf(held) === name) return held
  return value && `${name}=${value}`
}

/** The status with the cookies the split it stands for needs; unchanged without sessionAffinity. */
export function withSessionCookies(ctx: Ctx, status: CanaryStatus): CanaryStatus {
  const affinity = ctx.analysis.sessionAffinity
  const route = expectedRoute(ctx, status)
  if (!affinity || route === undefined) return status
  const { sessionAffinityCookie: cookie, primarySessionAffinityCookie: primary, ...rest } = status
  if (route.canary > 0) {
    const current = cookieNamed(affinity.cookieName, cookie, ctx.seen.cookieValue)
    if (!current) return status
    const primaryCookie = cookieNamed(affinity.primaryCookieName, primary, ctx.seen.cookieValue)
    const previous = cookie !== undefined && cookie !== current ? { previousSessionAffinityCookie: cookie } : {}
    return { ...rest, ...previous, sessionAffinityCookie: current, ...(primaryCookie && { primarySessionAffinityCookie: primaryCookie }) }
  }
  if (cookie === undefined) return primary === undefined ? status : rest
  return { ...rest, previousSessionAffinityCookie: cookie }
}
