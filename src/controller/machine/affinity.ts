// Session affinity (analysis.sessionAffinity), the engine's part: which cookies a release uses, decided in the
// status that is written before any router acts on it, so that a restart never changes a cookie mid-release.
// A release gets a new canary cookie (and primary cookie) when the canary first gets traffic; once it has
// none again (promoted, rolled back, restarted), the cookie becomes the previous one, which routers expire.
// How the cookies are routed is each router's business (src/router/affinity.ts).
import type { CanaryStatus } from '../../api/types.ts'
import { expectedRoute, type Ctx } from './context.ts'

const nameOf = (cookie: string | undefined): string | undefined => cookie?.split('=')[0]

/** The status with the cookies the split it stands for needs; unchanged without sessionAffinity. */
export function withSessionCookies(ctx: Ctx, status: CanaryStatus): CanaryStatus {
  const affinity = ctx.analysis.sessionAffinity
  const value = ctx.seen.cookieValue
  const route = expectedRoute(ctx, status)
  if (!affinity || route === undefined) return status
  const { sessionAffinityCookie: cookie, primarySessionAffinityCookie: primary, ...rest } = status
  if (route.canary > 0) {
    // Kept as long as its name is still the one asked for; a renamed cookie starts afresh.
    const keep = cookie !== undefined && nameOf(cookie) === affinity.cookieName
    const current = keep ? cookie : value && `${affinity.cookieName}=${value}`
    if (!current) return status
    const primaryName = affinity.primaryCookieName
    const keepPrimary = primary !== undefined && nameOf(primary) === primaryName
    const primaryCookie = primaryName === undefined ? undefined : keepPrimary ? primary : value && `${primaryName}=${value}`
    const previous = !keep && cookie !== undefined ? { previousSessionAffinityCookie: cookie } : {}
    return { ...rest, ...previous, sessionAffinityCookie: current, ...(primaryCookie && { primarySessionAffinityCookie: primaryCookie }) }
  }
  if (cookie === undefined) return primary === undefined ? status : rest
  return { ...rest, previousSessionAffinityCookie: cookie }
}
