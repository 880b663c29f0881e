// Who may read and act. Locally the dashboard is the user of the kubeconfig and the API server applies their
// RBAC to every call. In-cluster (--authenticate) it acts with its own ServiceAccount, so it first asks the
// API server who the caller's bearer token belongs to (TokenReview) and whether that user may do this read or
// action (SubjectAccessReview), the questions the API server would ask itself.
import { createHash } from 'node:crypto'
import { AuthenticationV1Api, AuthorizationV1Api, type KubeConfig, type V1UserInfo } from '@kubernetes/client-node'
import { apiFailure } from '../exit.ts'
import { HttpError } from './errors.ts'

export interface Caller {
  readonly username: string
  readonly uid?: string
  readonly groups?: string[]
  readonly extra?: Record<string, string[]>
}

export interface Attributes {
  readonly verb: string
  readonly resource: string
  readonly group: string
  readonly namespace?: string
  readonly name?: string
}

export interface Access {
  /** The caller of a request; throws HttpError 401 without valid credentials. Undefined: the kubeconfig's user. */
  caller(authorization: string | undefined): Promise<Caller | undefined>
  /** Throws HttpError 403 naming the verb and resource when the caller may not. */
  check(caller: Caller | undefined, a: Attributes): Promise<void>
  /** The same question, answered. */
  allowed(caller: Caller | undefined, a: Attributes): Promise<boolean>
}

/** The kubeconfig's user: the API server decides on each call. */
export const LOCAL_ACCESS: Access = { caller: () => Promise.resolve(undefined), check: () => Promise.resolve(), allowed: () => Promise.resolve(true) }

const CACHE_MS = 10_000

function resourceText(a: Attributes): string {
  const where = a.namespace ? ` in the namespace "${a.namespace}"` : ' at the cluster scope'
  return `${a.verb} resource "${a.resource}"${a.group ? ` in API group "${a.group}"` : ''}${where}`
}

/** What a refusal says: the API server's own phrasing of a forbidden request. */
export function refusalText(c: Caller, a: Attributes, reason?: string): string {
  const what = a.name ? `${a.resource}${a.group ? `.${a.group}` : ''} "${a.name}"` : `${a.resource}${a.group ? `.${a.group}` : ''}`
  return `${what} is forbidden: User "${c.username}" cannot ${resourceText(a)}${reason ? ` (${reason})` : ''}`
}

function callerOf(u: V1UserInfo): Caller {
  return { username: u.username ?? '', ...(u.uid && { uid: u.uid }), ...(u.groups && { groups: u.groups }), ...(u.extra && { extra: u.extra }) }
}

/** In-cluster: every request must carry a bearer token the API server accepts, and each read and action is authorised for its user. */
export function reviewedAccess(kc: KubeConfig): Access {
  const authn = kc.makeApiClient(AuthenticationV1Api)
  const authz = kc.makeApiClient(AuthorizationV1Api)
  const users = new Map<string, { at: number; caller: Caller }>()
  const answers = new Map<string, { at: number; allowed: boolean; reason?: string }>()
  const fresh = (at: number): boolean => Date.now() - at < CACHE_MS

  async function review(c: Caller, a: Attributes): Promise<{ allowed: boolean; reason?: string }> {
    const key = JSON.stringify([c, a])
    const known = answers.get(key)
    if (known && fresh(known.at)) return known
    const spec = { user: c.username, ...(c.uid && { uid: c.uid }), ...(c.groups && { groups: c.groups }), ...(c.extra && { extra: c.extra }),
      resourceAttributes: { verb: a.verb, resource: a.resource, group: a.group, ...(a.namespace && { namespace: a.namespace }), ...(a.name && { name: a.name }) } }
    let status
    try {
      status = (await authz.createSubjectAccessReview({ body: { spec } })).status
    } catch (e) {
      throw apiFailure(e, 'create a SubjectAccessReview (the dashboard\'s ServiceAccount needs create on subjectaccessreviews)')
    }
    const answer = { at: Date.now(), allowed: status?.allowed === true, ...(status?.reason && { reason: status.reason }) }
    answers.set(key, answer)
    return answer
  }

  return {
    async caller(authorization) {
      const token = /^Bearer\s+(\S+)$/i.exec(authorization ?? '')?.[1]
      if (!token) throw new HttpError(401, 'no bearer token: this dashboard runs with --authenticate; send Authorization: Bearer <token> (kubectl create token, or an authenticating proxy in front)')
      const key = createHash('sha256').update(token).digest('hex')
      const known = users.get(key)
      if (known && fresh(known.at)) return known.caller
      let status
      try {
        status = (await authn.createTokenReview({ body: { spec: { token } } })).status
      } catch (e) {
        throw apiFailure(e, 'create a TokenReview (the dashboard\'s ServiceAccount needs create on tokenreviews)')
      }
      if (status?.authenticated !== true || !status.user?.username) throw new HttpError(401, `the API server did not accept the bearer token${status?.error ? ` (${status.error})` : ''}`)
      const caller = callerOf(status.user)
      users.set(key, { at: Date.now(), caller })
      return caller
    },
    async check(c, a) {
      if (!c) return
      const answer = await review(c, a)
      if (!answer.allowed) throw new HttpError(403, refusalText(c, a, answer.reason))
    },
    async allowed(c, a) {
      return !c || (await review(c, a)).allowed
    },
  }
}
