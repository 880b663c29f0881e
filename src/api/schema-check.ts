// Kept over ajv 8.20.0 (in the tree through fastify), measured: compiling the four spec schemas takes 0.25-0.4 s at every start of the webhook and the controller, and its errors (in schema order, JSON Pointers, "must be <= 100", a null field passing `required`, no did-you-mean) need a mapping as long as this checker to give these messages.
// Checks a value against the subset of OpenAPI v3 used in schema.ts, with messages a user can act on.
// Unknown fields are errors (kubectl's strict field validation does the same), with a did-you-mean.
import { describeValue, type SpecError } from './errors.ts'
import { formatPath, type PathSegment } from '../util/merge.ts'
import { isRecord } from '../util/records.ts'
import { PATTERN_DESCRIPTIONS, type JSONSchema } from './schema.ts'

export interface SchemaCheckOptions {
  /** Extra words for "is required" by field path with list indexes as [], e.g. `service.port`. */
  readonly requiredHints?: Readonly<Record<string, string>>
}

const TYPE_WORDS: Record<NonNullable<JSONSchema['type']>, string> = {
  object: 'a mapping', array: 'a list', string: 'a string', integer: 'a whole number', number: 'a number',
  boolean: 'true or false',
}

function hasType(value: unknown, schema: JSONSchema): boolean {
  if (schema['x-kubernetes-int-or-string']) return typeof value === 'string' || Number.isInteger(value)
  switch (schema.type) {
    case 'object': return isRecord(value)
    case 'array': return Array.isArray(value)
    case 'string': return typeof value === 'string'
    case 'integer': return Number.isInteger(value)
    case 'number': return typeof value === 'number' && Number.isFinite(value)
    case 'boolean': return typeof value === 'boolean'
    default: return true
  }
}

function typeWord(schema: JSONSchema): string {
  if (schema['x-kubernetes-int-or-string']) return 'a number or a name'
  return schema.type ? TYPE_WORDS[schema.type] : 'a value'
}

function rangeMessage(value: number, schema: JSONSchema): string | undefined {
  const { minimum: min, maximum: max } = schema
  const below = min !== undefined && value < min
  const above = max !== undefined && value > max
  if (!below && !above) return undefined
  if (min !== undefined && max !== undefined) return `must be between ${min} and ${max} (got ${value})`
  return below ? `must be at least ${min} (got ${value})` : `must be at most ${max} (got ${value})`
}

function stringMessage(value: string, schema: JSONSchema): string | undefined {
  if (schema.enum && !schema.enum.includes(value)) {
    return `must be one of ${schema.enum.filter(v => v !== '').join(', ')} (got ${JSON.stringify(value)})`
  }
  if (schema.minLength !== undefined && value.length < schema.minLength) return 'must not be empty'
  if (schema.pattern && !new RegExp(schema.pattern).test(value)) {
    return `must be ${PATTERN_DESCRIPTIONS[schema.pattern] ?? `text matching ${schema.pattern}`} (got ${JSON.stringify(value)})`
  }
  return undefined
}

function listMessage(value: unknown[], schema: JSONSchema): string | undefined {
  if (schema.minItems !== undefined && value.length < schema.minItems) {
    return `must have at least ${schema.minItems} ${schema.minItems === 1 ? 'entry' : 'entries'}`
  }
  if (schema.maxItems !== undefined && value.length > schema.maxItems) return `must have at most ${schema.maxItems} entries`
  return undefined
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i)
  for (let i = 1; i <= a.length; i++) {
    const current = [i]
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      current[j] = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + cost)
    }
    previous = current
  }
  return previous[b.length] ?? 0
}

function suggestion(key: string, known: string[]): string {
  const near = known.find(k => k.toLowerCase() === key.toLowerCase()) ?? known.find(k => editDistance(k, key) <= 2)
  return near ? `; did you mean ${near}?` : `; known fields: ${known.join(', ')}`
}

function hintKey(path: readonly PathSegment[]): string {
  return formatPath(path.map(s => typeof s === 'number' ? -1 : s)).replace(/\[-1\]/g, '[]')
}

class Checker {
  readonly errors: SpecError[] = []
  readonly options: SchemaCheckOptions
  constructor(options: SchemaCheckOptions) {
    this.options = options
  }

  fail(path: readonly PathSegment[], message: string): void {
    this.errors.push({ field: formatPath(path), message })
  }

  check(value: unknown, schema: JSONSchema, path: PathSegment[]): void {
    if (value === null && schema.nullable) return
    if (!hasType(value, schema)) {
      this.fail(path, `must be ${typeWord(schema)} (got ${describeValue(value)})`)
      return
    }
    const message = typeof value === 'number' ? rangeMessage(value, schema)
      : typeof value === 'string' ? stringMessage(value, schema)
        : Array.isArray(value) ? listMessage(value, schema) : undefined
    if (message) this.fail(path, message)
    if (Array.isArray(value) && schema.items) {
      const items = schema.items
      value.forEach((item, i) => this.check(item, items, [...path, i]))
    }
    if (isRecord(value)) this.checkObject(value, schema, path)
  }

  checkObject(value: Record<string, unknown>, schema: JSONSchema, path: PathSegment[]): void {
    for (const key of schema.required ?? []) {
      if (value[key] === undefined || value[key] === null) {
        const hint = this.options.requiredHints?.[hintKey([...path, key])]
        this.fail([...path, key], hint ? `is required (${hint})` : 'is required')
      }
    }
    const properties = schema.properties ?? {}
    for (const [key, child] of Object.entries(value)) {
      if (child === undefined) continue
      const childSchema = properties[key] ?? schema.additionalProperties
      if (childSchema) this.check(child, childSchema, [...path, key])
      else if (!schema['x-kubernetes-preserve-unknown-fields']) {
        this.fail([...path, key], `is not a known field${suggestion(key, Object.keys(properties))}`)
      }
    }
  }
}

/** Problems of `value` against `schema`; fields are paths from the value's root. */
export function checkSchema(value: unknown, schema: JSONSchema, options: SchemaCheckOptions = {}): SpecError[] {
  const checker = new Checker(options)
  checker.check(value, schema, [])
  return checker.errors
}
