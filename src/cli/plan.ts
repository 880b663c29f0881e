// `sluice plan -f FILES`: offline, what the webhook answers `kubectl apply` for each object (refused, or
// admitted with its warnings and plan text) and the plan as steps with their times, checks and hooks.
import { parseCommand } from './args.ts'
import { CliError, EXIT } from './exit.ts'
import { allProblems } from './offline/check.ts'
import { OFFLINE_FLAGS, OFFLINE_HELP, runCheck } from './offline/options.ts'
import { summary, textLines } from './render/findings.ts'
import { canariesByTarget, renderObjectPlan } from './render/plan.ts'
import type { Subcommand } from './subcommand.ts'

const HELP = `Usage: sluice plan -f PATH... [options]

Shows offline, without a cluster, what sluice would do with the manifests: for every Deployment and
Canary, the webhook's answer to kubectl apply (the same code: refused with its reasons, or admitted with
its warnings, the plan text among them), then the plan: the router, each step with the time it is
reached, the metrics with their ranges and windows, the hooks and gates. Problems are listed with the
line of the offending field, as sluice lint lists them.

Options:
${OFFLINE_HELP}
Exit codes: 0 every object admitted, 1 an object is refused (or unreadable), 2 usage, 3 no such file.
`

export const planCommand: Subcommand = {
  options: OFFLINE_FLAGS,
  run(args) {
    const parsed = parseCommand('plan', args, OFFLINE_FLAGS, HELP)
    if (!parsed) return Promise.resolve(EXIT.ok)
    if (parsed.positionals.length > 0) throw new CliError(EXIT.usage, `unexpected argument ${parsed.positionals[0]}: name inputs with -f`)
    const result = runCheck(parsed.values)
    const canaries = canariesByTarget(result.checked)
    const plans = result.checked.map(c => renderObjectPlan(c, canaries))
    const unread = textLines(result.problems)
    process.stdout.write([...unread, ...plans].join('\n'))
    const problems = allProblems(result)
    process.stdout.write(`\n${summary(problems, { files: result.files, objects: result.objects, checked: result.checked.length })}\n`)
    return Promise.resolve(problems.some(p => p.severity === 'error') ? EXIT.failed : EXIT.ok)
  },
}
