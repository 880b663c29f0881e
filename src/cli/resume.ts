// `sluice resume NAME`: let a paused release go on.
import { nameArgument, parseCommand } from './args.ts'
import { getCanary } from './canaries.ts'
import { CLUSTER_FLAGS, CLUSTER_HELP, connect } from './cluster.ts'
import { EXIT } from './exit.ts'
import { waitMs } from './flags.ts'
import { WAIT_FLAG, WAIT_HELP } from './request.ts'
import type { Subcommand } from './subcommand.ts'
import { setSuspend } from './suspend.ts'

const FLAGS = { ...CLUSTER_FLAGS, ...WAIT_FLAG } as const

const HELP = `Usage: sluice resume NAME [options]

Lets a paused release go on from where it stood: removes spec.suspend (from the Canary written by hand,
or from its Deployment's sluice.dev/spec annotation when the Canary is generated).

Options:
${WAIT_HELP}${CLUSTER_HELP}
Exit codes: 0 resumed (or recorded, when the Canary does not show it within --wait; or not paused),
2 usage, 3 no such Canary, 4 forbidden, 6 API server unreachable.
`

export const resumeCommand: Subcommand = {
  options: FLAGS,
  async run(args) {
    const parsed = parseCommand('resume', args, FLAGS, HELP)
    if (!parsed) return EXIT.ok
    const name = nameArgument('resume', parsed.positionals)
    const wait = waitMs(parsed.values)
    const cluster = connect(parsed.values)
    return setSuspend(cluster, await getCanary(cluster, cluster.namespace, name), false, wait)
  },
}
