// The `sluice` command: one entry, one file per subcommand under src/cli/.
import { readFileSync } from 'node:fs'
import { controllerCommand } from './controller.ts'
import { loadTesterCommand } from './loadtester.ts'
import { serveCommand } from './serve.ts'
import type { Subcommand } from './subcommand.ts'
import { webhookCommand } from './webhook.ts'

const subcommands: ReadonlyMap<string, Subcommand> = new Map([
  ['webhook', webhookCommand],
  ['controller', controllerCommand],
  ['serve', serveCommand],
  ['loadtester', loadTesterCommand],
])

export function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
  return pkg.version
}

export function usage(): string {
  const lines = [
    'sluice — progressive delivery for Kubernetes Deployments, driven by kubectl apply',
    '',
    'Usage: sluice <command> [options]',
    '',
    'Commands:',
    ...[...subcommands].map(([name, c]) => `  ${name.padEnd(12)}${c.summary}`),
    '',
    'Options:',
    '  -h, --help     show this help',
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
  if (first === '-v' || first === '--version' || first === 'version') {
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
    return 1
  }
}
