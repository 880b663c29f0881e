// The buttons of a release: the same requests the CLI writes (makeRequest with the commands' RequestKinds,
// writeSuspend for pause and resume), refused for the same reasons, with the RBAC each one needs.
import { GROUP, type Canary } from '../../api/types.ts'
import { ABORT } from '../abort.ts'
import { canaryName } from '../canaries.ts'
import type { Cluster } from '../cluster.ts'
import { PROMOTE, promoteRefusal } from '../promote.ts'
import { makeRequest, type RequestKind } from '../request.ts'
import { RETRY } from '../retry.ts'
import { writeSuspend } from '../suspend.ts'
import { isGenerated } from '../../controller/generate.ts'
import type { Attributes } from './access.ts'

export const ACTIONS = ['promote', 'promote-full', 'abort', 'retry', 'pause', 'resume'] as const
export type Action = typeof ACTIONS[number]

export const isAction = (text: string): text is Action => (ACTIONS as readonly string[]).includes(text)

const KINDS: Readonly<Record<'promote' | 'promote-full' | 'abort' | 'retry', RequestKind>> = {
  promote: PROMOTE, 'promote-full': PROMOTE, abort: ABORT, retry: RETRY,
}

/** The object an action patches, as a SubjectAccessReview asks about it. */
export function actionAttributes(c: Canary, action: Action): Attributes {
  const namespace = c.metadata.namespace ?? ''
  // pause and resume of a generated Canary go through its Deployment's annotation (as sluice pause does).
  if ((action === 'pause' || action === 'resume') && isGenerated(c)) {
    return { verb: 'patch', resource: 'deployments', group: 'apps', namespace, name: c.spec.targetRef.name }
  }
  return { verb: 'patch', resource: 'canaries', group: GROUP, namespace, name: c.metadata.name ?? '' }
}

/** Why the button is off for this release (the CLI's words), or undefined when it applies. */
export function unavailable(c: Canary, action: Action): string | undefined {
  if (action === 'pause') return c.spec.suspend === true ? `Canary ${c.metadata.name ?? ''} is already paused` : undefined
  if (action === 'resume') return c.spec.suspend === true ? undefined : `Canary ${c.metadata.name ?? ''} is not paused`
  const kind = KINDS[action]
  if (!kind.phases.has(c.status?.phase ?? 'Initializing')) return kind.notNow(c)
  return action === 'promote' ? promoteRefusal(c, 'promote (skip the analysis)')?.message : undefined
}

/** Writes the action's request as `cluster`'s user; what was written, in words. Throws a CliError when refused. */
export async function runAction(cluster: Cluster, c: Canary, action: Action): Promise<string> {
  if (action === 'pause' || action === 'resume') return (await writeSuspend(cluster, c, action === 'pause')).text
  if (action === 'promote') {
    const refusal = PROMOTE.phases.has(c.status?.phase ?? 'Initializing') ? promoteRefusal(c, 'promote (skip the analysis)') : undefined
    if (refusal) throw refusal
  }
  const kind = KINDS[action]
  const at = await makeRequest(cluster, c, kind)
  return `Canary ${canaryName(c)}: ${kind.annotation}=${at.toISOString()} written; the controller acts on it at its next look`
}
