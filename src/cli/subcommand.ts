// What main.ts dispatches to. Apart from main.ts, which imports every subcommand, so that they do not
// import it back.
export interface Subcommand {
  readonly summary: string
  run(args: readonly string[]): Promise<number>
}
