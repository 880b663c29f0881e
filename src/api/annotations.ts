// The annotation keys a user writes on a Deployment, and the separate keys sluice writes for its own state.
import { parse as parseYaml } from 'yaml'
import { describeValue, type SpecError } from './errors.ts'
import { isRecord } from '../util/records.ts'
import { cloneJson } from '../util/json.ts'
import { setNewest } from '../util/bounded-map.ts'
import { STRATEGIES, type PartialCanarySpec, type Strategy } from './types.ts'

export const USER_PREFIX = 'sluice.dev/'

export const ANNOTATIONS = {
  /** canary | blue-green | ab; its presence is the opt-in. */
  strategy: 'sluice.dev/strategy',
  /** YAML of a Canary spec without targetRef (implied: this Deployment). */
  spec: 'sluice.dev/spec',
  /** Shorthand for spec.provider. */
  provider: 'sluice.dev/provider',
  /** Shorthand for spec.service.port. */
  port: 'sluice.dev/port',
  /** YAML of spec.analysis. */
  analysis: 'sluice.dev/analysis',
  /** The DeliveryPolicy whose defaults and constraints apply. */
  policy: 'sluice.dev/policy',
} as const

// sluice's own bookkeeping lives under a prefix a user's sluice.dev/ key can never match.
export const STATE_PREFIX = 'status.sluice.dev/'

export const STATE_ANNOTATIONS = {
  /** The replica count the user asked for, held while the target runs at the live value. */
  desiredReplicas: 'status.sluice.dev/desired-replicas',
  /** The revision hash of the pod template as the user wrote it (see src/kube/revision.ts). */
  revision: 'status.sluice.dev/revision',
} as const

/**
 * Annotations on a Canary (not a Deployment) by which an operator asks for a retry, a promotion or an abort,
 * each an RFC 3339 time; the only writes to a generated Canary the guard lets through.
 */
export const REQUEST_ANNOTATIONS = {
  retry: 'sluice.dev/retry',
  promote: 'sluice.dev/promote',
  abort: 'sluice.dev/abort',
} as const

const USER_KEYS: readonly string[] = Object.values(ANNOTATIONS)

export function isUserKey(key: string): boolean {
  return key.startsWith(USER_PREFIX)
}

export function isStateKey(key: string): boolean {
  return key.startsWith(STATE_PREFIX)
}

/** A layer of the spec read from one annotation; `root` is the spec path the annotation's value sits at. */
export interface AnnotationLayer {
  readonly key: string
  readonly root: string
  readonly value: PartialCanarySpec
}

export interface ParsedAnnotations {
  readonly strategy?: Strategy
  readonly policy?: string
  /** Lowest precedence first: sluice.dev/spec, then the shorthands. */
  readonly layers: readonly AnnotationLayer[]
  readonly errors: readonly SpecError[]
}

function annotationError(key: string, message: string): SpecError {
  return { field: key, message, scope: 'annotation' }
}

// The yaml package appends a code frame after the first line; an admission message has one line.
function firstLine(text: string): string {
  return (text.split('\n')[0] ?? text).replace(/:$/, '')
}

// Re-applies send the same annotation text again and again, and YAML parsing is the largest cost of an
// admission review; parsed documents are kept (bounded) and handed out as copies, so callers may mutate them.
// Only texts of a sane size are kept: the webhook reads annotations before the API server checks their size,
// so 512 texts of megabytes each would otherwise stay in its memory.
const PARSED_CACHE_LIMIT = 512
const PARSED_CACHE_MAX_TEXT = 16 * 1024
const parsedCache = new Map<string, { value?: Record<string, unknown>; error?: SpecError }>()

/** YAML that must be a mapping; errors name the annotation. */
export function parseYamlMapping(key: string, text: string): { value?: Record<string, unknown>; error?: SpecError } {
  const cacheKey = `${key}\u0000${text}`
  let result = parsedCache.get(cacheKey)
  if (!result) {
    result = parseYamlMappingUncached(key, text)
    if (text.length <= PARSED_CACHE_MAX_TEXT) setNewest(parsedCache, cacheKey, result, PARSED_CACHE_LIMIT)
  }
  return cloneJson(result)
}

function parseYamlMappingUncached(key: string, text: string): { value?: Record<string, unknown>; error?: SpecError } {
  let value: unknown
  try {
    value = parseYaml(text)
  } catch (err) {
    return { error: annotationError(key, `is not valid YAML: ${firstLine((err as Error).message)}`) }
  }
  if (value === null || value === undefined) return { value: {} }
  if (!isRecord(value)) return { error: annotationError(key, `must be a YAML mapping of fields (got ${describeValue(value)})`) }
  return { value }
}

const LETTERS_ONLY = (s: string): string => s.toLowerCase().replace(/[^a-z]/g, '')

export function parseStrategy(text: string): { strategy?: Strategy; error?: SpecError } {
  const value = text.trim()
  if ((STRATEGIES as readonly string[]).includes(value)) return { strategy: value as Strategy }
  const near = STRATEGIES.find(s => LETTERS_ONLY(s) === LETTERS_ONLY(value) || (s === 'ab' && LETTERS_ONLY(value) === 'abtesting'))
  const hint = near ? `; did you mean ${near}?` : ''
  return { error: annotationError(ANNOTATIONS.strategy, `must be one of ${STRATEGIES.join(', ')} (got ${JSON.stringify(text)})${hint}`) }
}

export function parsePort(text: string): { port?: number; error?: SpecError } {
  const value = text.trim()
  if (!/^[0-9]+$/.test(value)) {
    return { error: annotationError(ANNOTATIONS.port, `must be a port number between 1 and 65535 (got ${JSON.stringify(text)})`) }
  }
  return { port: Number(value) }
}

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/

function unknownKeyErrors(annotations: Record<string, string>): SpecError[] {
  return Object.keys(annotations)
    .filter(key => isUserKey(key) && !USER_KEYS.includes(key))
    .map(key => annotationError(key, `is not a sluice annotation; use one of ${USER_KEYS.join(', ')}`))
}

function specLayer(text: string, errors: SpecError[]): AnnotationLayer | undefined {
  const { value, error } = parseYamlMapping(ANNOTATIONS.spec, text)
  if (error) errors.push(error)
  if (!value) return undefined
  if ('targetRef' in value) {
    errors.push(annotationError(ANNOTATIONS.spec, 'must not set targetRef: the target is this Deployment; remove it'))
    delete value.targetRef
  }
  return { key: ANNOTATIONS.spec, root: '', value }
}

function analysisLayer(text: string, errors: SpecError[]): AnnotationLayer | undefined {
  const { value, error } = parseYamlMapping(ANNOTATIONS.analysis, text)
  if (error) errors.push(error)
  return value && { key: ANNOTATIONS.analysis, root: 'analysis', value: { analysis: value } }
}

function providerLayer(text: string): AnnotationLayer {
  // The value is checked with the rest of the spec, so the error lists the supported providers.
  return { key: ANNOTATIONS.provider, root: 'provider', value: { provider: text.trim() } as PartialCanarySpec }
}

function portLayer(text: string, errors: SpecError[]): AnnotationLayer | undefined {
  const { port, error } = parsePort(text)
  if (error) errors.push(error)
  return port === undefined ? undefined : { key: ANNOTATIONS.port, root: 'service.port', value: { service: { port } } }
}

/** The DeliveryPolicy named by sluice.dev/policy, when the annotation holds a valid name. */
export function policyName(annotations: Record<string, string> | undefined): string | undefined {
  const text = annotations?.[ANNOTATIONS.policy]?.trim()
  return text !== undefined && DNS_SUBDOMAIN.test(text) ? text : undefined
}

/** Reads every sluice.dev/ annotation; never throws. */
export function parseAnnotations(annotations: Record<string, string> | undefined): ParsedAnnotations {
  const all = annotations ?? {}
  const errors: SpecError[] = unknownKeyErrors(all)
  const layers: AnnotationLayer[] = []
  let strategy: Strategy | undefined
  let policy: string | undefined
  const strategyText = all[ANNOTATIONS.strategy]
  if (strategyText !== undefined) {
    const parsed = parseStrategy(strategyText)
    strategy = parsed.strategy
    if (parsed.error) errors.push(parsed.error)
  }
  const policyText = all[ANNOTATIONS.policy]?.trim()
  if (policyText !== undefined) {
    policy = policyName(all)
    if (policy === undefined) errors.push(annotationError(ANNOTATIONS.policy, `must be the name of a DeliveryPolicy (got ${JSON.stringify(policyText)})`))
  }
  const readers: [string, (text: string) => AnnotationLayer | undefined][] = [
    [ANNOTATIONS.spec, text => specLayer(text, errors)],
    [ANNOTATIONS.analysis, text => analysisLayer(text, errors)],
    [ANNOTATIONS.provider, providerLayer],
    [ANNOTATIONS.port, text => portLayer(text, errors)],
  ]
  for (const [key, read] of readers) {
    const text = all[key]
    const layer = text === undefined ? undefined : read(text)
    if (layer) layers.push(layer)
  }
  return { ...(strategy && { strategy }), ...(policy && { policy }), layers, errors }
}

/** Whether the Deployment opted in by annotation (an enforce policy can opt it in as well, see resolve.ts). */
export function hasOptIn(annotations: Record<string, string> | undefined): boolean {
  return annotations?.[ANNOTATIONS.strategy] !== undefined
}

/** The annotation a user would add to set a field that is missing altogether. */
export function homeAnnotationOf(field: string): string {
  if (field === 'provider') return ANNOTATIONS.provider
  if (field === 'service.port') return ANNOTATIONS.port
  if (field === 'analysis' || field.startsWith('analysis.') || field.startsWith('analysis[')) return ANNOTATIONS.analysis
  return ANNOTATIONS.spec
}
