// Layering of partial specs: objects merge key by key, lists and scalars replace, null removes a key
// (so a Deployment can drop a policy default, as in a JSON merge patch).
// In util/: generic over any JSON value; the api module layers specs with it, the schema check names paths.

import { isRecord } from './records.ts'

export type PathSegment = string | number

export function deepMerge(base: unknown, over: unknown): unknown {
  if (!isRecord(base) || !isRecord(over)) return over === null ? undefined : over
  const merged: Record<string, unknown> = { ...base }
  for (const [key, value] of Object.entries(over)) {
    if (value === undefined) continue
    const next = deepMerge(base[key], value)
    if (next === undefined) delete merged[key]
    else merged[key] = next
  }
  return merged
}

/** `analysis.metrics[0].interval` → ['analysis', 'metrics', 0, 'interval']. */
export function parsePath(path: string): PathSegment[] {
  const segments: PathSegment[] = []
  for (const part of path.split('.')) {
    if (part === '') continue
    const [head, ...indexes] = part.split('[')
    if (head) segments.push(head)
    for (const index of indexes) segments.push(Number(index.replace(']', '')))
  }
  return segments
}

export function formatPath(segments: readonly PathSegment[]): string {
  return segments.reduce<string>((path, s) => typeof s === 'number' ? `${path}[${s}]` : path === '' ? s : `${path}.${s}`, '')
}

export function valueAt(value: unknown, segments: readonly PathSegment[]): unknown {
  let current = value
  for (const segment of segments) {
    if (typeof segment === 'number' ? !Array.isArray(current) : !isRecord(current)) return undefined
    current = (current as Record<PathSegment, unknown>)[segment]
  }
  return current
}

/** A copy of `value` with `segments` set to `leaf`, creating objects on the way. */
export function withValueAt(value: unknown, segments: readonly PathSegment[], leaf: unknown): unknown {
  const [head, ...rest] = segments
  if (head === undefined) return leaf
  const base = isRecord(value) ? value : {}
  return { ...base, [head]: withValueAt(base[String(head)], rest, leaf) }
}
