// Flagger's old spelling of a Canary: spec.canaryAnalysis, the name of spec.analysis before v1beta1.
// Flagger reads canaryAnalysis when analysis is absent (Canary.GetAnalysis); sluice does the same, once,
// where a Canary is read (the controller's cache), and the webhook warns so that it gets renamed.
import type { SpecError } from './errors.ts'
import { isRecord } from '../util/records.ts'

export const OLD_ANALYSIS = 'canaryAnalysis'

/** Which field holds the analysis that counts: analysis wins when both are set, as in Flagger. */
export function analysisField(spec: Record<string, unknown>): 'analysis' | typeof OLD_ANALYSIS {
  return spec.analysis === undefined && spec[OLD_ANALYSIS] !== undefined ? OLD_ANALYSIS : 'analysis'
}

/** The spec with canaryAnalysis folded into analysis, so that nothing downstream sees two names. */
export function withCurrentNames<T>(spec: T): T {
  if (!isRecord(spec) || !(OLD_ANALYSIS in spec)) return spec
  const { [OLD_ANALYSIS]: old, ...rest } = spec
  return (rest.analysis === undefined && old !== undefined ? { ...rest, analysis: old } : rest) as T
}

/** A Canary object as read from the API, with its spec in current names. */
export function normalizeCanary<T extends object>(canary: T): T {
  const written = (canary as { spec?: unknown }).spec
  const spec = withCurrentNames(written)
  return spec === written ? canary : { ...canary, spec }
}

/** The warnings a Canary written with the old name gets. */
export function oldNameWarnings(spec: Record<string, unknown>): SpecError[] {
  if (spec[OLD_ANALYSIS] === undefined) return []
  const message = spec.analysis === undefined
    ? 'is the old name of analysis; rename it (sluice reads it as analysis meanwhile)'
    : 'is ignored: analysis is set too and wins, as in Flagger (canaryAnalysis is its old name); remove canaryAnalysis'
  return [{ field: OLD_ANALYSIS, message, severity: 'warning' }]
}

/** Errors found in the normalised spec, named by the fields the user wrote. */
export function asWritten(spec: Record<string, unknown>, errors: SpecError[]): SpecError[] {
  return analysisField(spec) === OLD_ANALYSIS ? errors.map(underOldName) : errors
}

function underOldName(error: SpecError): SpecError {
  const f = error.field
  if (f !== 'analysis' && !f.startsWith('analysis.') && !f.startsWith('analysis[')) return error
  return { ...error, field: `${OLD_ANALYSIS}${f.slice('analysis'.length)}` }
}
