// What main.ts dispatches to, loading a subcommand's module only when it runs; summaries live in main.ts.
import type { ParseArgsOptionsConfig } from 'node:util'

export interface Subcommand {
  /** The flags, for shell completion (commands that parse their own flags list them here). */
  readonly options?: ParseArgsOptionsConfig
  run(args: readonly string[]): Promise<number>
}
