// `sluice dashboard`: the releases in a browser, live, with the operator's buttons (src/cli/dashboard/).
import { parseCommand } from './args.ts'
import { ALL_NAMESPACES_FLAG, ALL_NAMESPACES_HELP, CLUSTER_FLAGS, CLUSTER_HELP, connect } from './cluster.ts'
import { LOCAL_ACCESS, reviewedAccess } from './dashboard/access.ts'
import { startDashboard } from './dashboard/server.ts'
import { startStore } from './dashboard/store.ts'
import { CliError, EXIT } from './exit.ts'
import { hostPort, str } from './flags.ts'
import type { Subcommand } from './subcommand.ts'

const FLAGS = {
  ...CLUSTER_FLAGS, ...ALL_NAMESPACES_FLAG,
  port: { type: 'string', short: 'p' }, address: { type: 'string' }, authenticate: { type: 'boolean' },
} as const

export const DEFAULT_PORT = 3100

const HELP = `Usage: sluice dashboard [options]

Serves a live web dashboard of the releases: the list (phase, weight, step, failed checks), and for each
release its plan with the current step, charts of the weight and of each metric against its passing range,
the check log, hooks and gates, Events, and the promote / abort / retry / pause / resume buttons (each
after a confirmation). Updates come from watches, as they happen.

By default it serves on 127.0.0.1 only, as the user of your kubeconfig: what you see and may do is what
your RBAC allows, and an action refused by the API server is shown with its reason. Requests whose Host
or Origin is not the address served are refused, so a page of another site cannot press a button.

Options:
  -p, --port N             port (default ${DEFAULT_PORT}; 0: any free port)
  --address ADDR           address to listen on (default 127.0.0.1)
  --authenticate           in-cluster mode: every request needs a bearer token (checked with a TokenReview),
                           and each read and action is authorised for its user with a SubjectAccessReview
                           before the dashboard acts with its own credentials (manifests/dashboard-rbac.yaml)
${CLUSTER_HELP}${ALL_NAMESPACES_HELP}
Exit codes: 0 stopped (Ctrl-C), 2 usage, 4 forbidden (you may not list or watch the Canaries), 6 API
server unreachable.
`

function port(text: string | undefined): number {
  if (text === undefined) return DEFAULT_PORT
  try {
    return hostPort('port', `x:${text}`, 'a port (0 to 65535)').port
  } catch {
    throw new CliError(EXIT.usage, `--port: "${text}" is not a port (0 to 65535)`)
  }
}

const untilStopped = (): Promise<void> => new Promise(resolve => {
  process.once('SIGINT', () => resolve())
  process.once('SIGTERM', () => resolve())
})

export const dashboardCommand: Subcommand = {
  options: FLAGS,
  async run(args) {
    const parsed = parseCommand('dashboard', args, FLAGS, HELP)
    if (!parsed) return EXIT.ok
    const { values } = parsed
    if (parsed.positionals.length > 0) throw new CliError(EXIT.usage, `takes no arguments (got ${parsed.positionals.join(' ')}); see sluice dashboard --help`)
    const authenticate = values.authenticate === true
    const listen = { address: str(values, 'address') ?? '127.0.0.1', port: port(str(values, 'port')) }
    const cluster = connect(values)
    const namespace = values['all-namespaces'] === true ? undefined : cluster.namespace
    const scope = namespace === undefined ? 'all namespaces' : `namespace ${namespace}`
    const store = await startStore(cluster, namespace)
    const dashboard = await startDashboard({
      cluster, store, scope, access: authenticate ? reviewedAccess(cluster.kc) : LOCAL_ACCESS,
      ...listen, checkHost: !authenticate,
    }).catch((e: unknown) => {
      store.stop()
      throw new CliError(EXIT.usage, `cannot serve: ${(e as Error).message}`)
    })
    const who = authenticate ? 'each caller authenticated and authorised (--authenticate)' : `as the user of context ${cluster.kc.getCurrentContext()}`
    process.stdout.write(`sluice dashboard: serving ${dashboard.url} (${scope}, ${who}); Ctrl-C to stop\n`)
    await untilStopped()
    await dashboard.close()
    store.stop()
    return EXIT.ok
  },
}
