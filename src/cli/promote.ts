// `sluice promote NAME [--full]`: skip the rest of a running release (annotation sluice.dev/promote). The
// controller promotes on the request whatever the checks say; the CLI asks for --full (and a confirmation)
// before it sends one for a release whose analysis is failing or cannot run.
import { REQUEST_ANNOTATIONS } from '../api/annotations.ts'
import type { Canary, CheckRecord } from '../api/types.ts'
import { nameArgument, parseCommand } from './args.ts'
import { getCanary } from './canaries.ts'
import { CLUSTER_FLAGS, CLUSTER_HELP, connect } from './cluster.ts'
import { requireConfirmation } from './confirm.ts'
import { CliError, EXIT } from './exit.ts'
import { waitMs } from './flags.ts'
import { sendRequest, WAIT_FLAG, WAIT_HELP, type RequestKind } from './request.ts'
import type { Subcommand } from './subcommand.ts'

const FLAGS = { ...CLUSTER_FLAGS, ...WAIT_FLAG, full: { type: 'boolean' }, yes: { type: 'boolean', short: 'y' } } as const

const HELP = `Usage: sluice promote NAME [--full] [options]

Promotes a running release now, skipping its remaining steps: the canary's template goes to the primary,
then all traffic returns to it. Writes the annotation sluice.dev/promote on the Canary (your RBAC needs
patch on canaries.sluice.dev), then waits until the controller has started the promotion (it does once
the canary is ready).

Without --full the release's analysis must be passing so far: no failed checks, and the latest result of
every metric and hook of this run a pass (a closed gate does not count: promoting past a gate is what
this is for). --full promotes whatever the checks say (failing, no data, a metrics server down): it
asks for a confirmation on a terminal, and needs --yes anywhere else.

Options:
  --full                   promote even though the analysis fails or cannot run
  -y, --yes                do not ask for a confirmation
${WAIT_HELP}${CLUSTER_HELP}
Exit codes: 0 promoting (or recorded, when the controller has not acted within --wait), 1 no release is
running or its analysis is not passing (without --full), 2 usage or no confirmation, 3 no such Canary,
4 forbidden, 6 API server unreachable.
`

export const PROMOTE: RequestKind = {
  annotation: REQUEST_ANNOTATIONS.promote,
  phases: new Set(['Progressing', 'WaitingPromotion']),
  leadsTo: new Set(['Promoting', 'Finalising', 'Succeeded']),
  notNow: c => {
    const phase = c.status?.phase ?? 'Initializing'
    if (phase === 'Waiting') return `Canary ${c.metadata.name ?? ''} is Waiting: its run has not started (confirm-rollout is closed); open the gate first`
    if (phase === 'Promoting' || phase === 'Finalising') return `Canary ${c.metadata.name ?? ''} is ${phase}: it is being promoted already`
    return `Canary ${c.metadata.name ?? ''} is ${phase}: no release is running, nothing to promote`
  },
  done: c => `promoting: Canary ${c.metadata.namespace ?? ''}/${c.metadata.name ?? ''} is ${c.status?.phase ?? ''}: the canary's template goes to ${c.spec.targetRef.name}-primary, then all traffic returns to it`,
}

const isGate = (r: CheckRecord): boolean => r.name.startsWith('confirm-')

/** Why the analysis of this run is not passing, or undefined when it is. */
export function notPassing(c: Canary): string | undefined {
  const status = c.status ?? {}
  const started = Date.parse(status.lastTransitionTime ?? '')
  const latest = new Map<string, CheckRecord>()
  for (const r of status.checks ?? []) {
    if (!isGate(r) && !(Date.parse(r.time) < started)) latest.set(r.name, r)
  }
  const bad = [...latest.values()].filter(r => r.verdict !== 'pass')
  const failed = status.failedChecks ?? 0
  if (failed === 0 && bad.length === 0) return undefined
  const counted = failed > 0 ? [`${failed} failed check${failed === 1 ? '' : 's'}`] : []
  return [...counted, ...bad.map(r => r.message ?? `${r.name} ${r.verdict}`)].join('; ')
}

/** The refusal of a promotion without --full while the analysis is not passing. */
export function promoteRefusal(c: Canary, full: string): CliError | undefined {
  const why = notPassing(c)
  return why ? new CliError(EXIT.failed, `the analysis of Canary ${c.metadata.name ?? ''} is not passing (${why}); ${full} promotes it anyway`) : undefined
}

async function checkAnalysis(c: Canary, full: boolean, yes: boolean): Promise<void> {
  const why = notPassing(c)
  if (!full) {
    const refusal = promoteRefusal(c, 'sluice promote --full')
    if (refusal) throw refusal
    return
  }
  const what = why ? ` although its analysis is not passing (${why})` : ''
  await requireConfirmation(`Promote ${c.metadata.namespace ?? ''}/${c.metadata.name ?? ''} now${what}, skipping the remaining steps and checks?`, yes, '--full')
}

export const promoteCommand: Subcommand = {
  options: FLAGS,
  async run(args) {
    const parsed = parseCommand('promote', args, FLAGS, HELP)
    if (!parsed) return EXIT.ok
    const name = nameArgument('promote', parsed.positionals)
    const wait = waitMs(parsed.values)
    const cluster = connect(parsed.values)
    const canary = await getCanary(cluster, cluster.namespace, name)
    if (PROMOTE.phases.has(canary.status?.phase ?? 'Initializing')) await checkAnalysis(canary, parsed.values.full === true, parsed.values.yes === true)
    return sendRequest(cluster, canary, PROMOTE, wait)
  },
}
