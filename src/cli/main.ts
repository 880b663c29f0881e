// The `sluice` command: one entry, one file per subcommand under src/cli/.
import { abortCommand } from './abort.ts'
import { completionCommand } from './completion.ts'
import { controllerCommand } from './controller.ts'
import { dashboardCommand } from './dashboard.ts'
import { CliError } from './exit.ts'
import { getCommand } from './get.ts'
import { lintCommand } from './lint.ts'
import { loadTesterCommand } from './loadtester.ts'
import { pauseCommand } from './pause.ts'
import { planCommand } from './plan.ts'
import { promoteCommand } from './promote.ts'
import { resumeCommand } from './resume.ts'
import { retryCommand } from './retry.ts'
import { serveCommand } from './serve.ts'
import { statusCommand } from './status.ts'
import type { Subcommand } from './subcommand.ts'
import { version, versionCommand } from './version.ts'
import { webhookCommand } from './webhook.ts'

export { version }

const operatorCommands: [string, Subcommand][] = [
  ['get', getCommand],
  ['status', statusCommand],
  ['promote', promoteCommand],
  ['abort', abortCommand],
  ['retry', retryCommand],
  ['pause', pauseCommand],
  ['resume', resumeCommand],
  ['plan', planCommand],
  ['lint', lintCommand],
  ['dashboard', dashboardCommand],
]

const serverCommands: [string, Subcommand][] = [
  ['webhook', webhookCommand],
  ['controller', controllerCommand],
  ['serve', serveCommand],
  ['loadtester', loadTesterCommand],
]

const subcommands: ReadonlyMap<string, Subcommand> = new Map([
  ...operatorCommands,
  ...serverCommands,
  ['version', versionCommand],
  ['completion', completionCommand(() => [...subcommands].map(([name, c]) => ({ name, ...c })))],
])

export function usage(): string {
  const list = (entries: Iterable<[string, Subcommand]>): string[] => [...entries].map(([name, c]) => `  ${name.padEnd(12)}${c.summary}`)
  const lines = [
    'sluice — progressive delivery for Kubernetes Deployments, driven by kubectl apply',
    '',
    'Usage: sluice <command> [options]     (also as a kubectl plugin: kubectl sluice <command>)',
    '',
    'Operator commands (your kubeconfig, context and RBAC; plan and lint need no cluster):',
    ...list(operatorCommands),
    '',
    'Processes:',
    ...list(serverCommands),
    '',
    'Other:',
    ...list([['version', versionCommand], ['completion', subcommands.get('completion')!]]),
    '',
    'Options:',
    '  -h, --help     show this help (sluice <command> --help for a command\'s)',
    '  -v, --version  print the version',
  ]
  return lines.join('\n') + '\n'
}

export interface Output { write(text: string): unknown }

export async function main(argv: readonly string[], out: Output = process.stdout, err: Output = process.stderr): Promise<number> {
  const [first, ...rest] = argv
  if (first === undefined || first === '-h' || first === '--help' || first === 'help') {
    out.write(usage())
    return first === undefined ? 2 : 0
  }
  if (first === '-v' || first === '--version') {
    out.write(`sluice ${version()}\n`)
    return 0
  }
  const sub = subcommands.get(first)
  if (!sub) {
    err.write(`sluice: unknown command "${first}"\n\n${usage()}`)
    return 2
  }
  try {
    return await sub.run(rest)
  } catch (e) {
    // A refused flag or a failed start: one line that says what to change, not a stack trace.
    err.write(`sluice ${first}: ${e instanceof Error ? e.message : String(e)}\n`)
    return e instanceof CliError ? e.code : 1
  }
}
