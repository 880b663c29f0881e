// The problems `sluice lint` and `sluice plan` found, for a person (file:line:column: severity: message),
// for a program (JSON), or as GitHub Actions workflow commands (::error file=…,line=…::message), which
// GitHub shows on the line of the pull request's diff.
import type { Problem } from '../offline/check.ts'

export const OUTPUTS = ['text', 'json', 'github'] as const
export type Output = typeof OUTPUTS[number]

export interface Counts {
  readonly files: number
  readonly objects: number
  /** Objects of sluice's kinds, checked through the webhook's review. */
  readonly checked: number
}

const plural = (n: number, one: string): string => `${n} ${one}${n === 1 ? '' : 's'}`

function where(p: Problem): string {
  if (p.file === undefined) return ''
  return `${p.file}${p.line === undefined ? '' : `:${p.line}${p.column === undefined ? '' : `:${p.column}`}`}: `
}

export function summary(problems: readonly Problem[], counts: Counts): string {
  const errors = problems.filter(p => p.severity === 'error').length
  const warnings = problems.length - errors
  const found = errors + warnings === 0 ? 'no problems' : `${plural(errors, 'error')}, ${plural(warnings, 'warning')}`
  return `${found} in ${plural(counts.objects, 'object')} of ${plural(counts.files, 'file')} (${counts.checked} for sluice)`
}

export function textLines(problems: readonly Problem[]): string[] {
  return problems.map(p => `${where(p)}${p.severity}: ${p.message}`)
}

// GitHub's escaping of workflow commands (@actions/core): the message and, more strictly, the properties.
export function escapeData(text: string): string {
  return text.replaceAll('%', '%25').replaceAll('\r', '%0D').replaceAll('\n', '%0A')
}

export function escapeProperty(text: string): string {
  return escapeData(text).replaceAll(':', '%3A').replaceAll(',', '%2C')
}

export function githubLine(p: Problem): string {
  const props = [
    ...(p.file !== undefined ? [`file=${escapeProperty(p.file)}`] : []),
    ...(p.line !== undefined ? [`line=${p.line}`] : []),
    ...(p.column !== undefined ? [`col=${p.column}`] : []),
    `title=${escapeProperty(p.object ? `sluice: ${p.object}` : 'sluice')}`,
  ]
  return `::${p.severity} ${props.join(',')}::${escapeData(p.message)}`
}

export function jsonReport(problems: readonly Problem[], counts: Counts): string {
  const errors = problems.filter(p => p.severity === 'error').length
  return JSON.stringify({ ...counts, errors, warnings: problems.length - errors, problems }, null, 2) + '\n'
}

/** The whole report in one output format, ending with a newline. */
export function renderProblems(problems: readonly Problem[], counts: Counts, output: Output): string {
  if (output === 'json') return jsonReport(problems, counts)
  const lines = output === 'github' ? problems.map(githubLine) : textLines(problems)
  return [...lines, summary(problems, counts)].join('\n') + '\n'
}
