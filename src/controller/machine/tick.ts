// The caller's side of the check protocol: run each stage the phase machine asks for and feed the outcomes
// back until it decides. The I/O lives in `runStage`; this loop only sequences it.
import { advance } from './phases.ts'
import type { Advance, CanaryInput, CheckOutcome, CheckStage, Observed } from './phases.ts'

export type StageRunner = (stage: CheckStage) => Promise<readonly CheckOutcome[]>

export async function advanceWithChecks(canary: CanaryInput, observed: Observed, runStage: StageRunner): Promise<Advance> {
  const asked = new Set<CheckStage>()
  let checks: readonly CheckOutcome[] = observed.checks ?? []
  for (;;) {
    const decision = advance(canary, { ...observed, checks })
    const request = decision.actions.find(a => a.kind === 'check')
    if (request?.kind !== 'check') return decision
    // A runner that returns nothing for a configured stage would be asked again forever.
    if (asked.has(request.stage)) throw new Error(`check stage ${request.stage} returned no outcomes; every configured check must report one`)
    asked.add(request.stage)
    checks = [...checks, ...await runStage(request.stage)]
  }
}
