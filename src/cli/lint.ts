// `sluice lint -f FILES`: offline, the webhook's validation of every Deployment, Canary, DeliveryPolicy,
// MetricTemplate and AlertProvider in the inputs, each problem on the line of its field.
import { parseCommand } from './args.ts'
import { CliError, EXIT } from './exit.ts'
import { str } from './flags.ts'
import { allProblems } from './offline/check.ts'
import { OFFLINE_FLAGS, OFFLINE_HELP, runCheck } from './offline/options.ts'
import { OUTPUTS, renderProblems, type Output } from './render/findings.ts'
import type { Subcommand } from './subcommand.ts'

const FLAGS = { ...OFFLINE_FLAGS, output: { type: 'string', short: 'o' }, strict: { type: 'boolean' } } as const

const HELP = `Usage: sluice lint -f PATH... [options]

Checks manifests offline, without a cluster, with the admission webhook's own code: the resolution of a
Deployment's sluice.dev/ annotations under the DeliveryPolicies, the validation of every field against
the CRD schema, the semantic rules and what this version runs, and the policies' constraints, for
Deployments, Canaries, DeliveryPolicies, MetricTemplates and AlertProviders in multi-document YAML.
Each problem is reported with the line of the offending field. A reference to a MetricTemplate or
AlertProvider that is not among the inputs is a warning (the cluster may hold it); a sluice.dev/policy
naming a DeliveryPolicy not among them is an error (its defaults change the spec: pass it with -f).

Options:
${OFFLINE_HELP}  -o, --output FORMAT      text (default: file:line:column: severity: message), json, or github
                           (GitHub Actions annotations: ::error file=…,line=…::message)
  --strict                 warnings fail too

Exit codes: 0 no errors, 1 errors (or warnings with --strict), 2 usage, 3 no such file.
`

function outputOf(value: string | undefined): Output {
  const output = value ?? 'text'
  if ((OUTPUTS as readonly string[]).includes(output)) return output as Output
  throw new CliError(EXIT.usage, `--output: "${output}" is not one of ${OUTPUTS.join(', ')}`)
}

export const lintCommand: Subcommand = {
  options: FLAGS,
  run(args) {
    const parsed = parseCommand('lint', args, FLAGS, HELP)
    if (!parsed) return Promise.resolve(EXIT.ok)
    if (parsed.positionals.length > 0) throw new CliError(EXIT.usage, `unexpected argument ${parsed.positionals[0]}: name inputs with -f`)
    const output = outputOf(str(parsed.values, 'output'))
    const result = runCheck(parsed.values)
    const problems = allProblems(result)
    process.stdout.write(renderProblems(problems, { files: result.files, objects: result.objects, checked: result.checked.length }, output))
    const failing = problems.filter(p => p.severity === 'error' || parsed.values.strict === true)
    return Promise.resolve(failing.length > 0 ? EXIT.failed : EXIT.ok)
  },
}
