// `sluice retry NAME`: run a failed release again with the same template (annotation sluice.dev/retry).
import { REQUEST_ANNOTATIONS } from '../api/annotations.ts'
import { nameArgument, parseCommand } from './args.ts'
import { getCanary } from './canaries.ts'
import { CLUSTER_FLAGS, CLUSTER_HELP, connect } from './cluster.ts'
import { EXIT } from './exit.ts'
import { waitMs } from './flags.ts'
import { sendRequest, WAIT_FLAG, WAIT_HELP, type RequestKind } from './request.ts'
import type { Subcommand } from './subcommand.ts'

const FLAGS = { ...CLUSTER_FLAGS, ...WAIT_FLAG } as const

const HELP = `Usage: sluice retry NAME [options]

Runs a Failed release again with the same template, from the first step (failed checks reset). Writes the
annotation sluice.dev/retry on the Canary (your RBAC needs patch on canaries.sluice.dev), then waits
until the controller has started the run.

Options:
${WAIT_HELP}${CLUSTER_HELP}
Exit codes: 0 started (or recorded, when the controller has not acted within --wait), 1 the release has
not failed, 2 usage, 3 no such Canary, 4 forbidden, 6 API server unreachable.
`

export const RETRY: RequestKind = {
  annotation: REQUEST_ANNOTATIONS.retry,
  phases: new Set(['Failed']),
  leadsTo: new Set(['Progressing', 'Waiting']),
  notNow: c => `Canary ${c.metadata.name ?? ''} is ${c.status?.phase ?? 'Initializing'}: only a Failed release can be retried`,
  done: c => `retrying: Canary ${c.metadata.namespace ?? ''}/${c.metadata.name ?? ''} is ${c.status?.phase ?? ''} again with revision ${c.status?.lastAppliedSpec ?? ''}` +
    (c.status?.phase === 'Waiting' ? ' (waiting for the confirm-rollout gate)' : ''),
}

export const retryCommand: Subcommand = {
  options: FLAGS,
  async run(args) {
    const parsed = parseCommand('retry', args, FLAGS, HELP)
    if (!parsed) return EXIT.ok
    const name = nameArgument('retry', parsed.positionals)
    const cluster = connect(parsed.values)
    return sendRequest(cluster, await getCanary(cluster, cluster.namespace, name), RETRY, waitMs(parsed.values))
  },
}
