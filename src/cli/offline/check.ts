// The offline check shared by `sluice plan` and `sluice lint`: every object of the inputs through the
// webhook's own review (src/admission/offline.ts), each finding placed on the line of its field.
import { reviewOffline, type OfflineFinding, type OfflineReview } from '../../admission/offline.ts'
import type { Entry, Inputs } from './documents.ts'
import { locate, offsetOf, type Position } from './locate.ts'

export type Severity = 'error' | 'warning'

export interface Problem extends Partial<Position> {
  readonly severity: Severity
  readonly message: string
  /** "Deployment shop/podinfo", when the problem is about one object. */
  readonly object?: string
}

export interface Checked {
  readonly entry: Entry
  readonly review: OfflineReview
  readonly problems: readonly Problem[]
}

export interface CheckResult {
  readonly checked: readonly Checked[]
  /** Unreadable YAML and objects that are not sluice's to check (Flagger's own). */
  readonly problems: readonly Problem[]
  readonly files: number
  readonly objects: number
}

export interface CheckOptions {
  readonly namespace: string
  readonly minIntervalMs?: number
}

export const UNRESOLVED_NOTE = 'it is not in the given files; the webhook looks it up in the cluster'

export function objectName(r: Pick<OfflineReview, 'kind' | 'namespace' | 'name'>): string {
  return `${r.kind} ${r.namespace ? `${r.namespace}/` : ''}${r.name}`
}

function problemOf(entry: Entry, review: OfflineReview, f: OfflineFinding, policy: (name: string) => Entry | undefined): Problem {
  const where = locate(entry, review, f.error, { policy })
  return {
    severity: f.rejects ? 'error' : 'warning',
    message: f.unresolved ? `${f.text} (${UNRESOLVED_NOTE})` : f.text,
    object: objectName(review),
    ...where,
  }
}

// A Flagger object checked as nothing would pass silently: say what sluice reads instead.
function flaggerProblem(entry: Entry): Problem | undefined {
  const o = entry.object
  if (typeof o.apiVersion !== 'string' || !o.apiVersion.startsWith('flagger.app/')) return undefined
  const pos = entry.source.lines.linePos(offsetOf(entry.source.doc.contents, [...entry.at, 'apiVersion']).offset ?? 0)
  return {
    severity: 'warning', file: entry.source.file, line: pos.line, column: pos.col,
    message: `${o.kind ?? 'object'} ${o.metadata?.name ?? ''} is Flagger's (${o.apiVersion}), not checked: sluice reads apiVersion sluice.dev/v1beta1; change it to have sluice run it`,
  }
}

export function check(inputs: Inputs, o: CheckOptions): CheckResult {
  const reviews = reviewOffline(inputs.entries.map(e => e.object), o)
  const policies = new Map<string, Entry>()
  inputs.entries.forEach((e, i) => { if (reviews[i]?.kind === 'DeliveryPolicy') policies.set(reviews[i].name, e) })
  const checked: Checked[] = []
  const problems: Problem[] = inputs.syntax.map(s => ({ severity: 'error', ...s }))
  inputs.entries.forEach((entry, i) => {
    const review = reviews[i]
    if (!review) {
      const flagger = flaggerProblem(entry)
      if (flagger) problems.push(flagger)
      return
    }
    checked.push({ entry, review, problems: review.findings.map(f => problemOf(entry, review, f, name => policies.get(name))) })
  })
  return { checked, problems, files: inputs.files, objects: inputs.entries.length }
}

/** Every problem, in input order: unreadable YAML and skipped objects first, then each object's. */
export function allProblems(result: CheckResult): Problem[] {
  return [...result.problems, ...result.checked.flatMap(c => c.problems)]
}
