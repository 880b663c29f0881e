// Flag parsing for the operator commands: --help on every one, and a wrong flag as a usage error (exit 2)
// that names the command's help.
import { parseArgs, type ParseArgsOptionsConfig } from 'node:util'
import { CliError, EXIT } from './exit.ts'

export const HELP_FLAG = { help: { type: 'boolean', short: 'h' } } as const

export interface Parsed {
  readonly values: Partial<Record<string, string | boolean | string[] | undefined>>
  readonly positionals: string[]
}

/** The parsed flags, or undefined when --help was given (the help is then written to stdout). */
export function parseCommand(command: string, args: readonly string[], options: ParseArgsOptionsConfig, help: string): Parsed | undefined {
  let parsed: Parsed
  try {
    parsed = parseArgs({ args: [...args], options: { ...HELP_FLAG, ...options }, allowPositionals: true })
  } catch (e) {
    throw new CliError(EXIT.usage, `${(e as Error).message}; see sluice ${command} --help`)
  }
  if (parsed.values.help === true) {
    process.stdout.write(help)
    return undefined
  }
  return parsed
}

/** The single NAME a command takes. */
export function nameArgument(command: string, positionals: readonly string[]): string {
  if (positionals.length === 1 && positionals[0] !== '') return positionals[0]!
  const got = positionals.length === 0 ? 'none' : positionals.join(' ')
  throw new CliError(EXIT.usage, `takes the name of one Canary (got ${got}); see sluice ${command} --help`)
}
