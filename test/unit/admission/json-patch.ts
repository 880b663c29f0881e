// A tiny RFC 6902 applier, as a test oracle only: proves that generated patches apply to the object
// they were made for. Works on a deep copy made with JSON, so "__proto__" stays an ordinary key.
type Doc = Record<string, unknown> | unknown[]

function parsePointer(pointer: string): string[] {
  if (!pointer.startsWith('/')) throw new Error(`bad pointer ${pointer}`)
  return pointer.slice(1).split('/').map(s => s.replaceAll('~1', '/').replaceAll('~0', '~'))
}

function containerAt(doc: unknown, segments: string[]): Doc {
  let cur = doc
  for (const s of segments) {
    if (Array.isArray(cur)) cur = cur[Number(s)]
    else if (typeof cur === 'object' && cur !== null && Object.hasOwn(cur, s)) cur = (cur as Record<string, unknown>)[s]
    else throw new Error(`path missing at ${s}`)
  }
  if (typeof cur !== 'object' || cur === null) throw new Error('not a container')
  return cur as Doc
}

function define(o: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(o, key, { value, enumerable: true, writable: true, configurable: true })
}

type Op = { op: string; path: string; value?: unknown }

function applyToArray(parent: unknown[], last: string, op: Op): void {
  const i = last === '-' ? parent.length : Number(last)
  if (op.op === 'add') parent.splice(i, 0, op.value)
  else if (op.op === 'remove') parent.splice(i, 1)
  else if (op.op === 'replace') parent[i] = op.value
  else if (op.op === 'test' && JSON.stringify(parent[i]) !== JSON.stringify(op.value)) throw new Error(`test failed at ${op.path}`)
}

function applyToObject(parent: Record<string, unknown>, last: string, op: Op): void {
  const has = Object.hasOwn(parent, last)
  if (op.op !== 'add' && !has) throw new Error(`${op.op} of missing ${op.path}`)
  if (op.op === 'add' || op.op === 'replace') define(parent, last, op.value)
  else if (op.op === 'remove') delete parent[last]
  else if (op.op === 'test' && JSON.stringify(parent[last]) !== JSON.stringify(op.value)) throw new Error(`test failed at ${op.path}`)
}

export function applyPatch(doc: unknown, ops: readonly Op[]): unknown {
  const out: unknown = JSON.parse(JSON.stringify(doc))
  for (const op of ops) {
    const segments = parsePointer(op.path)
    const last = segments.pop() as string
    const parent = containerAt(out, segments)
    if (Array.isArray(parent)) applyToArray(parent, last, op)
    else applyToObject(parent, last, op)
  }
  return out
}
