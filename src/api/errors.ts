// Validation problems as data, and the one formatter that turns them into the sentences users read:
// the object, where to fix it (annotation, policy or field), what is wrong and what would be right.

export interface SpecError {
  /**
   * Where the problem is. For scope 'spec' (the default): a path in the Canary spec, e.g.
   * `analysis.metrics[0].interval`. For 'annotation': the annotation key. For 'deployment': a path in the
   * Deployment, e.g. `spec.selector.matchLabels`.
   */
  readonly field: string
  /** What is wrong and what would be right, without the field name: "must be between 1 and 100 (got 0)". */
  readonly message: string
  readonly scope?: 'spec' | 'annotation' | 'deployment'
  /** Set when the rule comes from a DeliveryPolicy's constraints (so audit mode can turn it into a warning). */
  readonly policy?: string
  /** Accepted, but the user should know (an ignored field, an old name): an admission warning, never a denial. */
  readonly severity?: 'warning'
}

export const isWarning = (error: SpecError): boolean => error.severity === 'warning'

/** Where a value of the effective spec came from. */
export type Source =
  | { readonly kind: 'annotation'; readonly key: string; readonly root: string }
  | { readonly kind: 'policy'; readonly name: string }

export interface Subject {
  readonly kind: string
  readonly name: string
  readonly namespace?: string
}

export interface FormatOptions {
  /** Which layer supplied a field of the effective spec (see Resolution.sourceOf). */
  readonly sourceOf?: (field: string) => Source | undefined
  /** Where a user would set a field that is missing altogether (see homeAnnotationOf). */
  readonly homeOf?: (field: string) => string | undefined
  /** Prefix of spec fields when the subject holds the spec itself, e.g. "spec." for a Canary. */
  readonly specPrefix?: string
}

export function subjectName(subject: Subject): string {
  return `${subject.kind} ${subject.namespace ? `${subject.namespace}/` : ''}${subject.name}`
}

function relativeTo(root: string, field: string): string {
  if (root === '') return field
  if (field === root) return ''
  return field.startsWith(`${root}.`) || field.startsWith(`${root}[`) ? field.slice(root.length).replace(/^\./, '') : field
}

// "annotation sluice.dev/analysis: stepWeight must be …", but "annotation sluice.dev/port must be …" when the
// annotation is the field itself.
function joined(place: string, field: string, message: string): string {
  if (place === '') return field === '' ? message : `${field} ${message}`
  return field === '' ? `${place} ${message}` : `${place}: ${field} ${message}`
}

function specErrorText(error: SpecError, options: FormatOptions): string {
  const source = options.sourceOf?.(error.field)
  if (source?.kind === 'annotation') {
    return joined(`annotation ${source.key}`, relativeTo(source.root, error.field), error.message)
  }
  if (source?.kind === 'policy') return joined(`DeliveryPolicy ${source.name} defaults`, error.field, error.message)
  const prefix = options.specPrefix ?? ''
  const text = joined('', error.field === '' ? prefix.replace(/\.$/, '') : `${prefix}${error.field}`, error.message)
  const home = options.homeOf?.(error.field)
  return home === undefined ? text : `${text}; set it with annotation ${home}`
}

/** One line per error, e.g. `Deployment shop/podinfo: annotation sluice.dev/analysis: stepWeight must be …`. */
export function formatError(subject: Subject, error: SpecError, options: FormatOptions = {}): string {
  const where = subjectName(subject)
  switch (error.scope ?? 'spec') {
    case 'annotation': return `${where}: annotation ${error.field} ${error.message}`
    case 'deployment': return `${where}: ${error.field} ${error.message}`
    default: return `${where}: ${specErrorText(error, options)}`
  }
}

export function formatErrors(subject: Subject, errors: readonly SpecError[], options: FormatOptions = {}): string[] {
  return errors.map(e => formatError(subject, e, options))
}

/** Quotes strings and names the kind of anything else, for "(got …)" in messages. */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value)
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'a list'
  if (typeof value === 'object') return 'a mapping'
  return typeof value === 'number' || typeof value === 'boolean' ? String(value) : typeof value
}
