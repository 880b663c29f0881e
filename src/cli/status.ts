// `sluice status NAME`: waits until the release ends, for CI pipelines that apply and then wait. Exit 0 on
// Succeeded (or a first deployment Initialized), non-zero on Failed, an invalid spec or a timeout, with a
// one-line reason.
import type { V1Deployment } from '@kubernetes/client-node'
import type { Canary } from '../api/types.ts'
import { revisionOf } from '../controller/observe.ts'
import { nameArgument, parseCommand } from './args.ts'
import { canaryName, getCanary, type Release } from './canaries.ts'
import { CLUSTER_FLAGS, CLUSTER_HELP, connect, type Cluster } from './cluster.ts'
import { CliError, EXIT } from './exit.ts'
import { durationMs, str } from './flags.ts'
import { releaseLines, summaryLine } from './render/watch.ts'
import type { Subcommand } from './subcommand.ts'
import { formatDuration } from '../util/duration.ts'
import { followRelease } from './watch.ts'

const FLAGS = { ...CLUSTER_FLAGS, timeout: { type: 'string' } } as const

const HELP = `Usage: sluice status NAME [--timeout D] [options]

Waits until the release ends and says how, in one line; meanwhile one line per change (phase, weight,
checks, Events). For pipelines that apply and then wait: a release is over when the Canary runs the
Deployment's current template and is Succeeded (or Initialized: a first deployment is not analysed) or
Failed. Right after an apply it waits for the controller to pick the new template up.

Options:
  --timeout D              give up after this long, e.g. 10m (default: wait as long as it takes)
${CLUSTER_HELP}
Exit codes: 0 Succeeded (or Initialized), 1 Failed or the Canary's spec is invalid, 2 usage, 3 no such
Canary, 4 forbidden, 5 --timeout passed, 6 API server unreachable.
`

export type Verdict = { readonly code: number; readonly line: string }

// The Canary's status is about an older template until the controller has seen the one the Deployment holds
// now (the same revision hash it computes, with the config hashes it recorded).
function behind(c: Canary, target: V1Deployment | undefined): boolean {
  if (!target?.spec?.template || c.status?.lastAppliedSpec === undefined) return false
  return revisionOf(target, { refs: [], hashes: c.status.trackedConfigs ?? {} }) !== c.status.lastAppliedSpec
}

function failure(r: Release): string {
  const rolledBack = r.events.findLast(e => e.reason === 'RolledBack')?.message
  const condition = r.canary.status?.conditions?.find(k => k.type === 'Promoted')?.message
  return rolledBack ?? condition ?? 'rolled back'
}

/** Whether the release is over and how; undefined while it runs. */
export function verdictOf(r: Release): Verdict | undefined {
  const c = r.canary
  const name = canaryName(c)
  const invalid = c.status?.conditions?.find(k => k.type === 'InvalidSpec' && k.status === 'True')
  if (invalid) return { code: EXIT.failed, line: `InvalidSpec: Canary ${name} is not acted on: ${invalid.message ?? ''}` }
  if (behind(c, r.target)) return undefined
  switch (c.status?.phase) {
    case 'Succeeded': return { code: EXIT.ok, line: `Succeeded: Canary ${name} promoted revision ${c.status.lastPromotedSpec ?? ''}` }
    case 'Initialized': return { code: EXIT.ok, line: `Initialized: Canary ${name} serves revision ${c.status.lastPromotedSpec ?? ''} (a first deployment is not analysed)` }
    case 'Failed': return { code: EXIT.failed, line: `Failed: Canary ${name}: ${failure(r)}` }
    default: return undefined
  }
}

function waitForEnd(cluster: Cluster, canary: Canary, timeoutMs: number): Promise<Verdict> {
  let previous: Release | undefined
  return followRelease(cluster, canary, r => {
    if (!r) return { code: EXIT.notFound, line: `Canary ${canaryName(canary)} was deleted` }
    for (const line of releaseLines(previous, r, new Date())) process.stdout.write(`${line}\n`)
    previous = r
    return verdictOf(r)
  }, timeoutMs, () => ({ code: EXIT.timeout, line: `timed out after ${formatDuration(timeoutMs)}: ${previous ? summaryLine(previous.canary) : canaryName(canary)}` }))
}

export const statusCommand: Subcommand = {
  options: FLAGS,
  async run(args) {
    const parsed = parseCommand('status', args, FLAGS, HELP)
    if (!parsed) return EXIT.ok
    const name = nameArgument('status', parsed.positionals)
    let timeoutMs: number
    try {
      timeoutMs = durationMs('timeout', str(parsed.values, 'timeout'), 0)
    } catch (e) {
      throw new CliError(EXIT.usage, (e as Error).message)
    }
    const cluster = connect(parsed.values)
    const verdict = await waitForEnd(cluster, await getCanary(cluster, cluster.namespace, name), timeoutMs)
    process.stdout.write(`${verdict.line}\n`)
    return verdict.code
  },
}
