// `sluice pause NAME`: freeze a release where it stands (spec.suspend).
import { nameArgument, parseCommand } from './args.ts'
import { getCanary } from './canaries.ts'
import { CLUSTER_FLAGS, CLUSTER_HELP, connect } from './cluster.ts'
import { EXIT } from './exit.ts'
import { waitMs } from './flags.ts'
import { WAIT_FLAG, WAIT_HELP } from './request.ts'
import type { Subcommand } from './subcommand.ts'
import { setSuspend } from './suspend.ts'

const FLAGS = { ...CLUSTER_FLAGS, ...WAIT_FLAG } as const

const HELP = `Usage: sluice pause NAME [options]

Freezes a release where it stands: no step, no check, no promotion or rollback until it is resumed
(spec.suspend, as Flagger's). A Canary written by hand gets spec.suspend: true; a generated one gets it
through its Deployment's sluice.dev/spec annotation (your RBAC needs patch on deployments), since sluice
rewrites the Canary from those annotations. A new revision applied meanwhile waits too.

Options:
${WAIT_HELP}${CLUSTER_HELP}
Exit codes: 0 paused (or recorded, when the Canary does not show it within --wait; or already
paused), 2 usage, 3 no such Canary, 4 forbidden, 6 API server unreachable.
`

export const pauseCommand: Subcommand = {
  options: FLAGS,
  async run(args) {
    const parsed = parseCommand('pause', args, FLAGS, HELP)
    if (!parsed) return EXIT.ok
    const name = nameArgument('pause', parsed.positionals)
    const wait = waitMs(parsed.values)
    const cluster = connect(parsed.values)
    return setSuspend(cluster, await getCanary(cluster, cluster.namespace, name), true, wait)
  },
}
