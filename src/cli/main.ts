// The `sluice` command: one entry, one file per subcommand under src/cli/. A subcommand's module is loaded
// only when it runs: the Kubernetes client alone costs about a second of CPU, which `version`, `plan`, `lint`
// and `--help` do not need.
import { completionCommand, type CommandInfo } from './completion.ts'
import { CliError } from './exit.ts'
import type { Subcommand } from './subcommand.ts'
import { version, versionCommand } from './version.ts'

export { version }

interface Entry {
  readonly summary: string
  load(): Promise<Subcommand>
}

const operatorCommands: [string, Entry][] = [
  ['get', { summary: 'show releases: a table, or one in detail (-w to follow)', load: async () => (await import('./get.ts')).getCommand }],
  ['status', { summary: 'wait until a release ends; exit 0 on Succeeded, non-zero on Failed or timeout', load: async () => (await import('./status.ts')).statusCommand }],
  ['promote', { summary: 'promote a running release now (--full: whatever its checks say)', load: async () => (await import('./promote.ts')).promoteCommand }],
  ['abort', { summary: 'roll a running release back now', load: async () => (await import('./abort.ts')).abortCommand }],
  ['retry', { summary: 'run a failed release again with the same template', load: async () => (await import('./retry.ts')).retryCommand }],
  ['pause', { summary: 'freeze a release where it stands (spec.suspend)', load: async () => (await import('./pause.ts')).pauseCommand }],
  ['resume', { summary: 'let a paused release go on', load: async () => (await import('./resume.ts')).resumeCommand }],
  ['plan', { summary: 'show offline what sluice would do with manifests: verdict, steps, checks', load: async () => (await import('./plan.ts')).planCommand }],
  ['lint', { summary: 'check manifests offline with the webhook\'s validation (CI annotations with -o github)', load: async () => (await import('./lint.ts')).lintCommand }],
  ['dashboard', { summary: 'a live web dashboard of the releases, with the operator\'s buttons', load: async () => (await import('./dashboard.ts')).dashboardCommand }],
  ['uninstall', { summary: 'remove sluice: revert every app (no lost endpoints), then the webhooks, then the rest', load: async () => (await import('./uninstall.ts')).uninstallCommand }],
]

const serverCommands: [string, Entry][] = [
  ['webhook', { summary: 'serve the admission webhooks (interception, validation, plan preview, guard, policy)', load: async () => (await import('./webhook.ts')).webhookCommand }],
  ['controller', { summary: 'run the canary controller (leader-elected)', load: async () => (await import('./controller.ts')).controllerCommand }],
  ['serve', { summary: 'run the webhooks and the controller in one process (local runs)', load: async () => (await import('./serve.ts')).serveCommand }],
  ['loadtester', { summary: 'run the load tester: Flagger\'s hook and gate API, commands without a shell', load: async () => (await import('./loadtester.ts')).loadTesterCommand }],
]

const otherCommands: [string, Entry][] = [
  ['version', { summary: 'print the version', load: () => Promise.resolve(versionCommand) }],
  ['completion', { summary: 'print the shell completion script (bash, zsh, fish)', load: () => Promise.resolve(completionCommand(commandInfos)) }],
]

const subcommands: ReadonlyMap<string, Entry> = new Map([...operatorCommands, ...serverCommands, ...otherCommands])

/** Every command with its flags, for the completion scripts: the one place that loads them all. */
async function commandInfos(): Promise<CommandInfo[]> {
  return await Promise.all([...subcommands].map(async ([name, entry]) => {
    const options = name === 'completion' ? undefined : (await entry.load()).options
    return { name, summary: entry.summary, ...(options && { options }) }
  }))
}

export function usage(): string {
  const list = (entries: Iterable<[string, Entry]>): string[] => [...entries].map(([name, c]) => `  ${name.padEnd(12)}${c.summary}`)
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
    ...list(otherCommands),
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
  const entry = subcommands.get(first)
  if (!entry) {
    err.write(`sluice: unknown command "${first}"\n\n${usage()}`)
    return 2
  }
  try {
    return await (await entry.load()).run(rest)
  } catch (e) {
    // A refused flag or a failed start: one line that says what to change, not a stack trace.
    err.write(`sluice ${first}: ${e instanceof Error ? e.message : String(e)}\n`)
    return e instanceof CliError ? e.code : 1
  }
}
