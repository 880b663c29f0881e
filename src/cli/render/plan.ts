// `sluice plan`: per object, what the webhook answers `kubectl apply` (refused, or admitted with its
// warnings: the plan text among them) and the plan as rows: steps with their times, checks, hooks and gates.
import { DEFAULTS, strategyOf, webhookType } from '../../api/defaults.ts'
import type { CanaryMetric, CanarySpec } from '../../api/types.ts'
import { displayUrl } from '../../util/http.ts'
import { objectName, type Checked } from '../offline/check.ts'
import { offsetOf } from '../offline/locate.ts'
import { rangeText } from './checks.ts'
import { textLines } from './findings.ts'
import { planRows } from './steps.ts'
import { columns } from './text.ts'

function metricText(m: CanaryMetric): string {
  const ref = m.templateRef ? ` (MetricTemplate ${m.templateRef.namespace ? `${m.templateRef.namespace}/` : ''}${m.templateRef.name})` : ''
  return `${m.name}${ref} ${rangeText(m.thresholdRange, m.name)}, window ${m.interval ?? DEFAULTS.metricInterval}`
}

function url(text: string): string {
  try {
    return displayUrl(new URL(text))
  } catch {
    return text
  }
}

function specLines(spec: CanarySpec): string[] {
  const strategy = strategyOf(spec)
  const steps = columns(planRows(spec, strategy).map(r => [r.label, r.at ?? '', r.note ?? '']), '    ')
  const metrics = (spec.analysis?.metrics ?? []).map(metricText)
  const hooks = (spec.analysis?.webhooks ?? []).map(w => [webhookType(w), w.name, url(w.url)])
  return [
    `  router   ${spec.provider ?? `${DEFAULTS.provider} (the default; the webhook's --default-provider may differ)`}`,
    '  steps',
    ...steps,
    `  checks   ${metrics.length === 0 ? 'no metrics' : metrics.join('; ')}`,
    ...(hooks.length === 0 ? ['  hooks    none'] : ['  hooks', ...columns(hooks, '    ')]),
  ]
}

function admission(c: Checked): string[] {
  const v = c.review.verdict
  if (!v.allowed) return ['  kubectl apply: refused by the webhook']
  const notes = v.warnings ?? []
  return notes.length === 0 ? ['  kubectl apply: admitted'] : ['  kubectl apply: admitted, with the warnings', ...notes.map(w => `    Warning: ${w}`)]
}

/** One object's plan; `problems` are listed under it with their lines. `canaries` are the Canaries of the input, by target. */
/** The Canaries of the checked objects by the Deployment they target ("ns/name" → "Canary ns/name"). */
export function canariesByTarget(checked: readonly Checked[]): Map<string, string> {
  return new Map(checked.filter(c => c.review.kind === 'Canary' && c.review.spec)
    .map(c => [`${c.review.namespace ?? ''}/${c.review.spec?.targetRef.name ?? ''}`, objectName(c.review)]))
}

export function renderObjectPlan(c: Checked, canaries: ReadonlyMap<string, string> = new Map()): string {
  const r = c.review
  const pos = c.entry.source.lines.linePos(offsetOf(c.entry.source.doc.contents, c.entry.at).offset ?? 0)
  const head = `${objectName(r)} (${c.entry.source.file}:${pos.line})`
  const problems = c.problems.length === 0 ? [] : ['  problems', ...textLines(c.problems).map(l => `    ${l}`)]
  if (r.kind !== 'Deployment' && r.kind !== 'Canary') return [head, ...admission(c), ...problems].join('\n') + '\n'
  const canary = canaries.get(`${r.namespace ?? ''}/${r.name}`)
  if (!r.spec && r.kind === 'Deployment' && canary) return [head, `  delivered by ${canary} (written by hand; its plan is under it)`, ...problems].join('\n') + '\n'
  if (!r.spec) {
    return [head, '  not delivered by sluice: no sluice.dev/strategy annotation, and no enforcing DeliveryPolicy in the input selects it', ...problems].join('\n') + '\n'
  }
  const plan = r.plan ? [`  plan     ${r.plan}`] : []
  const body = c.review.verdict.allowed ? specLines(r.spec) : []
  return [head, ...admission(c), ...plan, ...body, ...problems].join('\n') + '\n'
}
