// The line of the field a finding names. A Canary's fields are under spec; a Deployment's spec fields come
// from an annotation (whose YAML is walked too when it is a literal block, so the line is the field's own),
// a DeliveryPolicy's defaults (in whichever input holds the policy), or nowhere yet (the annotation to add
// it to). When a field is missing, the closest parent that is there is named.
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node } from 'yaml'
import { homeAnnotationOf } from '../../api/annotations.ts'
import type { SpecError } from '../../api/errors.ts'
import type { OfflineReview } from '../../admission/offline.ts'
import { parsePath, type PathSegment } from '../../util/merge.ts'
import type { Entry, Source } from './documents.ts'

export interface Position {
  readonly file: string
  readonly line: number
  readonly column: number
}

/** The offset of the deepest node along `path` (a map entry's key, a list item), and how far it got. */
export function offsetOf(root: unknown, path: readonly PathSegment[]): { offset: number | undefined; depth: number } {
  let node: unknown = root
  let offset = (root as Node | null)?.range?.[0]
  let depth = 0
  for (const segment of path) {
    if (isMap(node)) {
      const pair = node.items.find(p => isScalar(p.key) && String(p.key.value) === String(segment))
      if (!pair) break
      offset = (pair.key as Node).range?.[0] ?? offset
      node = pair.value
    } else if (isSeq(node) && typeof segment === 'number' && node.items[segment] !== undefined) {
      node = node.items[segment]
      offset = (node as Node).range?.[0] ?? offset
    } else break
    depth++
  }
  return { offset, depth }
}

function position(source: Source, offset: number | undefined): Position {
  const pos = source.lines.linePos(offset ?? source.doc.range[0])
  return { file: source.file, line: pos.line, column: pos.col }
}

function at(entry: Entry, path: readonly PathSegment[]): Position {
  return position(entry.source, offsetOf(entry.source.doc.contents, [...entry.at, ...path]).offset)
}

function relative(root: string, field: string): PathSegment[] {
  const all = parsePath(field)
  return root === '' ? all : all.slice(parsePath(root).length)
}

// Inside a literal block (`key: |`) line k of the value is line k after the key's: the YAML of the
// annotation is parsed on its own and its node's line added. Other styles fold lines: the key is named.
function inAnnotation(entry: Entry, key: string, path: readonly PathSegment[]): Position {
  const keyPosition = at(entry, ['metadata', 'annotations', key])
  const value = valueNode(entry, key)
  if (!isScalar(value) || value.type !== 'BLOCK_LITERAL' || typeof value.value !== 'string') return keyPosition
  const lines = new LineCounter()
  const inner = parseDocument(value.value, { lineCounter: lines })
  const { offset, depth } = offsetOf(inner.contents, path)
  if (depth === 0 || offset === undefined) return keyPosition
  const pos = lines.linePos(offset)
  const header = position(entry.source, value.range?.[0])
  const indent = /^( *)/.exec(entry.source.text.split('\n')[header.line] ?? '')?.[1]?.length ?? 0
  return { file: entry.source.file, line: header.line + pos.line, column: indent + pos.col }
}

function valueNode(entry: Entry, key: string): unknown {
  let node: unknown = entry.source.doc.contents
  for (const segment of [...entry.at, 'metadata', 'annotations', key]) {
    if (isMap(node)) node = node.items.find(p => isScalar(p.key) && String(p.key.value) === String(segment))?.value
    else if (isSeq(node) && typeof segment === 'number') node = node.items[segment]
    else return undefined
  }
  return node
}

export interface Located {
  /** The other inputs, to find a DeliveryPolicy whose defaults supplied a field. */
  readonly policy: (name: string) => Entry | undefined
}

function deploymentPosition(entry: Entry, review: OfflineReview, error: SpecError, ctx: Located): Position {
  if (error.scope === 'annotation') return at(entry, ['metadata', 'annotations', error.field])
  if (error.scope === 'deployment') return at(entry, parsePath(error.field))
  const source = review.resolution?.sourceOf(error.field)
  if (source?.kind === 'annotation') return inAnnotation(entry, source.key, relative(source.root, error.field))
  if (source?.kind === 'policy') {
    const policy = ctx.policy(source.name)
    if (policy) return at(policy, ['spec', 'defaults', ...parsePath(error.field)])
  }
  const home = homeAnnotationOf(error.field)
  return at(entry, ['metadata', 'annotations', home])
}

/** Where in the input a finding about `entry` points. */
export function locate(entry: Entry, review: OfflineReview, error: SpecError, ctx: Located): Position {
  if (review.kind === 'Deployment') return deploymentPosition(entry, review, error, ctx)
  return at(entry, error.field === '' ? ['spec'] : ['spec', ...parsePath(error.field)])
}
