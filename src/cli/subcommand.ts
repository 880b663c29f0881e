// What main.ts dispatches to. Apart from main.ts, which imports every subcommand, so that they do not
// import it back.
import type { ParseArgsOptionsConfig } from 'node:util'

export interface Subcommand {
  readonly summary: string
  /** The flags, for shell completion (commands that parse their own flags list them here). */
  readonly options?: ParseArgsOptionsConfig
  run(args: readonly string[]): Promise<number>
}
