// `sluice abort NAME`: roll a running release back now (annotation sluice.dev/abort).
import { REQUEST_ANNOTATIONS } from '../api/annotations.ts'
import type { Canary } from '../api/types.ts'
import { nameArgument, parseCommand } from './args.ts'
import { getCanary } from './canaries.ts'
import { CLUSTER_FLAGS, CLUSTER_HELP, connect } from './cluster.ts'
import { EXIT } from './exit.ts'
import { waitMs } from './flags.ts'
import { sendRequest, WAIT_FLAG, WAIT_HELP, type RequestKind } from './request.ts'
import type { Subcommand } from './subcommand.ts'

const FLAGS = { ...CLUSTER_FLAGS, ...WAIT_FLAG } as const

const HELP = `Usage: sluice abort NAME [options]

Rolls a running release back now: all traffic to the primary, the canary scaled to zero, phase Failed
(with a warn alert). Writes the annotation sluice.dev/abort on the Canary (your RBAC needs patch on
canaries.sluice.dev), then waits until the controller has acted on it.

Options:
${WAIT_HELP}${CLUSTER_HELP}
Exit codes: 0 rolled back (or recorded, when the controller has not acted within --wait), 1 no release is
running, 2 usage, 3 no such Canary, 4 forbidden, 6 API server unreachable.
`

export const ABORT: RequestKind = {
  annotation: REQUEST_ANNOTATIONS.abort,
  phases: new Set(['Progressing', 'WaitingPromotion']),
  leadsTo: new Set(['Failed']),
  notNow: (c: Canary) => {
    const phase = c.status?.phase ?? 'Initializing'
    if (phase === 'Waiting') return `Canary ${c.metadata.name ?? ''} is Waiting: its run has not started (confirm-rollout is closed), so there is nothing to roll back; to drop the new revision, apply the primary's template again`
    if (phase === 'Promoting' || phase === 'Finalising') return `Canary ${c.metadata.name ?? ''} is ${phase}: the analysis passed and the primary already takes the new revision; too late to abort`
    return `Canary ${c.metadata.name ?? ''} is ${phase}: no release is running, nothing to abort`
  },
  done: c => `aborted: Canary ${c.metadata.namespace ?? ''}/${c.metadata.name ?? ''} is Failed: all traffic on the primary (canary weight ${c.status?.canaryWeight ?? 0}%), the canary scaled to zero`,
}

export const abortCommand: Subcommand = {
  options: FLAGS,
  async run(args) {
    const parsed = parseCommand('abort', args, FLAGS, HELP)
    if (!parsed) return EXIT.ok
    const name = nameArgument('abort', parsed.positionals)
    const cluster = connect(parsed.values)
    return sendRequest(cluster, await getCanary(cluster, cluster.namespace, name), ABORT, waitMs(parsed.values))
  },
}
