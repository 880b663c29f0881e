// A yes/no question on the terminal, for the commands that act beyond one release (promote --full, uninstall):
// asked on stderr so that stdout stays the command's output, and refused outright where nobody can answer.
import { createInterface } from 'node:readline/promises'
import { CliError, EXIT } from './exit.ts'

export async function confirmed(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr })
  try {
    return /^y(es)?$/i.test((await rl.question(`${question} [y/N] `)).trim())
  } finally {
    rl.close()
  }
}

/** Asks `question` unless `yes`; `flag` names what needs the confirmation when there is no terminal to ask on. */
export async function requireConfirmation(question: string, yes: boolean, flag: string): Promise<void> {
  if (yes) return
  if (process.stdin.isTTY !== true) throw new CliError(EXIT.usage, `${flag} needs a confirmation: run it in a terminal, or add --yes`)
  if (!await confirmed(question)) throw new CliError(EXIT.usage, 'not confirmed: nothing was written')
}
