// Kept: npm's RFC 6902 libraries (rfc6902, fast-json-patch) apply patches or diff two whole documents (array elements by index); none builds the op for one path against the live object (add at the first missing ancestor, no whole-array writes, no prototype segments).
// Minimal JSON Patch (RFC 6902) operations on known paths, with RFC 6901 pointers. Arrays are never
// replaced whole: a stale index or a whole-array write would undo what other webhooks added.
// In kube/, not admission/: admission responses and the certificate manager's writes to webhook
// configurations both use it.

import { isRecord } from '../util/records.ts'

type PathSegment = string | number
type Path = readonly PathSegment[]

export type PatchOperation =
  | { readonly op: 'add'; readonly path: string; readonly value: unknown }
  | { readonly op: 'replace'; readonly path: string; readonly value: unknown }
  | { readonly op: 'remove'; readonly path: string }
  | { readonly op: 'test'; readonly path: string; readonly value: unknown }

// Segments that pollute prototypes in JavaScript appliers (GHSA-8gh8-hqwg-xf34); no Kubernetes path needs them.
const FORBIDDEN_SEGMENTS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype'])

/** RFC 6901: `~` becomes `~0` and `/` becomes `~1`, in that order. */
export function escapeSegment(segment: string): string {
  return segment.replaceAll('~', '~0').replaceAll('/', '~1')
}

function checkSegment(segment: PathSegment): string {
  if (typeof segment === 'number') {
    if (!Number.isSafeInteger(segment) || segment < 0) throw new Error(`JSON Patch: array index ${segment} is not a non-negative integer`)
    return String(segment)
  }
  if (FORBIDDEN_SEGMENTS.has(segment)) throw new Error(`JSON Patch: path segment "${segment}" is not allowed`)
  return escapeSegment(segment)
}

/** The JSON Pointer of a path; the empty path (the whole document) is refused. */
function pointer(path: Path): string {
  if (path.length === 0) throw new Error('JSON Patch: refusing to patch the whole document')
  return path.map(s => '/' + checkSegment(s)).join('')
}

export function add(path: Path, value: unknown): PatchOperation {
  return { op: 'add', path: pointer(path), value }
}

/** Replaces a value that must exist; whole arrays are refused (add or remove elements instead). */
export function replace(path: Path, value: unknown): PatchOperation {
  if (Array.isArray(value)) throw new Error(`JSON Patch: refusing to replace the array at ${pointer(path)} whole`)
  return { op: 'replace', path: pointer(path), value }
}

/** Makes the patch fail unless the value at `path` is still `value` (guards index-based paths). */
export function test(path: Path, value: unknown): PatchOperation {
  return { op: 'test', path: pointer(path), value }
}

// ---- operations that look at the document --------------------------------------------------------

function child(container: unknown, segment: PathSegment): unknown {
  if (Array.isArray(container)) return typeof segment === 'number' ? container[segment] : undefined
  // Own properties only: a key named like an Object.prototype member must not look present.
  if (isRecord(container) && typeof segment === 'string' && Object.hasOwn(container, segment)) return container[segment]
  return undefined
}

function nest(path: Path, value: unknown): unknown {
  let nested = value
  for (let i = path.length - 1; i >= 0; i--) {
    const segment = path[i]
    if (typeof segment !== 'string') throw new Error(`JSON Patch: cannot create array element ${pointer(path.slice(0, i + 1))}`)
    checkSegment(segment)
    // fromEntries defines own properties, so even an unusual key cannot reach a prototype.
    nested = Object.fromEntries([[segment, nested]])
  }
  return nested
}

/** The value at `path` in `doc`, own properties only; undefined when absent. */
export function valueAt(doc: unknown, path: Path): unknown {
  let current = doc
  for (const segment of path) {
    current = child(current, segment)
    if (current === undefined) return undefined
  }
  return current
}

/**
 * One `add` that sets the object member at `path`: at the member itself when its parent exists, or at
 * the first missing ancestor with the rest nested inside (a missing or null map becomes an object).
 */
export function setAt(doc: unknown, path: Path, value: unknown): PatchOperation {
  const last = path[path.length - 1]
  if (typeof last !== 'string') throw new Error('JSON Patch: setAt takes an object member path; use append for arrays')
  let container = doc
  for (let i = 0; i < path.length - 1; i++) {
    const segment = path[i] as PathSegment
    const next = child(container, segment)
    if (typeof segment === 'number' && next === undefined) {
      throw new Error(`JSON Patch: there is no array element ${pointer(path.slice(0, i + 1))}`)
    }
    if (Array.isArray(next)) {
      if (typeof path[i + 1] !== 'number') throw new Error(`JSON Patch: ${pointer(path.slice(0, i + 1))} is an array, not a map`)
    } else if (!isRecord(next)) {
      return add(path.slice(0, i + 1), nest(path.slice(i + 1), value))
    }
    container = next
  }
  if (Array.isArray(child(container, last)) && Array.isArray(value)) {
    throw new Error(`JSON Patch: refusing to replace the array at ${pointer(path)} whole`)
  }
  return add(path, value)
}

// ---- annotations ----------------------------------------------------------------------

/** Sets annotations, leaving unchanged ones out of the patch. */
export function setAnnotations(doc: unknown, entries: Readonly<Record<string, string>>): PatchOperation[] {
  const keys = Object.keys(entries)
  for (const key of keys) checkSegment(key)
  const current = valueAt(doc, ['metadata', 'annotations'])
  if (!isRecord(current)) return keys.length === 0 ? [] : [setAt(doc, ['metadata', 'annotations'], { ...entries })]
  return keys
    .filter(key => !Object.hasOwn(current, key) || current[key] !== entries[key])
    .map(key => add(['metadata', 'annotations', key], entries[key]))
}

/** `add /metadata/annotations {key: value}` when the map is absent, `add /metadata/annotations/<key>` otherwise. */
export function setAnnotation(doc: unknown, key: string, value: string): PatchOperation {
  return setAt(doc, ['metadata', 'annotations', key], value)
}

