// MetricTemplate rendering: `{{ name }}` and `{{ variables.key }}` substitution only, no expressions,
// so a template can never run code; an unknown or empty variable is an error (Go's missingkey=error).

export interface TemplateVars {
  readonly namespace: string
  readonly target: string
  readonly service?: string
  readonly ingress?: string
  readonly route?: string
  readonly interval: string
  readonly name: string
  readonly variables?: Readonly<Record<string, string>>
}

const KNOWN = ['namespace', 'target', 'service', 'ingress', 'route', 'interval', 'name'] as const
type Known = typeof KNOWN[number]

const WHY_EMPTY: Partial<Record<Known, string>> = {
  ingress: 'the canary has no ingressRef', route: 'the canary has no routeRef',
}

export class TemplateError extends Error {
  override name = 'TemplateError'
}

// Go templates allow `{{- x -}}` trimming markers and a leading dot; both are accepted and ignored.
const ACTION = /\{\{-?\s*(.*?)\s*-?\}\}/gs
const VARIABLE = /^\.?([A-Za-z_][A-Za-z0-9_]*)(?:\.([A-Za-z0-9_-]+))?$/

export function renderQuery(template: string, vars: TemplateVars): string {
  return template.replace(ACTION, (_all, expr: string) => lookup(expr, vars))
}

function lookup(expr: string, vars: TemplateVars): string {
  const match = VARIABLE.exec(expr)
  if (!match) {
    throw new TemplateError(`{{ ${expr} }} is not supported: only ${KNOWN.map(k => `{{ ${k} }}`).join(', ')} and {{ variables.<key> }}`)
  }
  const [, head = '', key] = match
  if (head === 'variables' && key !== undefined) {
    const value = vars.variables?.[key]
    if (value === undefined) {
      const have = Object.keys(vars.variables ?? {}).sort().join(', ') || 'none'
      throw new TemplateError(`{{ variables.${key} }}: the metric's templateVariables have no key ${JSON.stringify(key)} (it has ${have})`)
    }
    return value
  }
  if (key !== undefined || !(KNOWN as readonly string[]).includes(head)) {
    throw new TemplateError(`{{ ${expr} }}: unknown variable ${JSON.stringify(expr)}; known: ${KNOWN.join(', ')}, variables.<key>`)
  }
  const value = vars[head as Known]
  if (value === undefined || value === '') {
    const why = WHY_EMPTY[head as Known]
    throw new TemplateError(`{{ ${head} }} has no value for this canary${why ? ` (${why})` : ''}`)
  }
  return value
}
