// `sluice version`: the version of this sluice (the package's), and of the Node.js running it.
import { readFileSync } from 'node:fs'
import { parseCommand } from './args.ts'
import { CliError, EXIT } from './exit.ts'
import { str } from './flags.ts'
import type { Subcommand } from './subcommand.ts'

const FLAGS = { output: { type: 'string', short: 'o' } } as const

const HELP = `Usage: sluice version [-o json]

Prints the version of sluice (and, with -o json, of Node.js).

Options:
  -o, --output FORMAT      text (default) or json

Exit codes: 0, 2 usage.
`

export function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
  return pkg.version
}

export const versionCommand: Subcommand = {
  options: FLAGS,
  run(args) {
    const parsed = parseCommand('version', args, FLAGS, HELP)
    if (!parsed) return Promise.resolve(EXIT.ok)
    const output = str(parsed.values, 'output') ?? 'text'
    if (output === 'json') process.stdout.write(`${JSON.stringify({ sluice: version(), node: process.versions.node })}\n`)
    else if (output === 'text') process.stdout.write(`sluice ${version()}\n`)
    else throw new CliError(EXIT.usage, `--output: "${output}" is not one of text, json`)
    return Promise.resolve(EXIT.ok)
  },
}
