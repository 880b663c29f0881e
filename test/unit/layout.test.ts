// The layout stays readable: no import cycle between files of src/, and none between its folders (a
// folder that imports another must not be imported back by it). A new cycle fails here, naming it.
import t from 'tap'
import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'

const SRC = resolve(import.meta.dirname, '../../src')

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap(e => {
    const path = join(dir, e.name)
    return e.isDirectory() ? files(path) : e.name.endsWith('.ts') ? [path] : []
  })
}

// Static imports and re-exports, type-only ones included: a type cycle is still a knot to read through.
const IMPORT = /^\s*(?:import|export)\b[^'"]*?\bfrom\s+['"](\.{1,2}\/[^'"]+)['"]/gm

function graph(): Map<string, Set<string>> {
  const edges = new Map<string, Set<string>>()
  for (const file of files(SRC)) {
    const from = relative(SRC, file)
    const to = new Set<string>()
    for (const m of readFileSync(file, 'utf8').matchAll(IMPORT)) to.add(relative(SRC, resolve(dirname(file), m[1]!)))
    edges.set(from, to)
  }
  return edges
}

/** Strongly connected components with more than one member (Tarjan), each sorted. */
function cycles(edges: ReadonlyMap<string, ReadonlySet<string>>): string[][] {
  let next = 0
  const index = new Map<string, number>()
  const low = new Map<string, number>()
  const stack: string[] = []
  const onStack = new Set<string>()
  const found: string[][] = []
  const visit = (v: string): void => {
    index.set(v, next)
    low.set(v, next++)
    stack.push(v)
    onStack.add(v)
    for (const w of edges.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w)
        low.set(v, Math.min(low.get(v)!, low.get(w)!))
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!))
    }
    if (low.get(v) !== index.get(v)) return
    const component: string[] = []
    for (let w = stack.pop(); w !== undefined; w = w === v ? undefined : stack.pop()) {
      onStack.delete(w)
      component.push(w)
    }
    if (component.length > 1) found.push(component.sort())
  }
  for (const v of edges.keys()) if (!index.has(v)) visit(v)
  return found
}

const folderOf = (file: string): string => file.includes('/') ? file.slice(0, file.indexOf('/')) : '.'

t.test('no import cycle between files of src/', async t => {
  t.same(cycles(graph()), [])
})

t.test('no import cycle between the folders of src/', async t => {
  const folders = new Map<string, Set<string>>()
  for (const [from, to] of graph()) {
    const set = folders.get(folderOf(from)) ?? new Set<string>()
    for (const target of to) if (folderOf(target) !== folderOf(from)) set.add(folderOf(target))
    folders.set(folderOf(from), set)
  }
  t.same(cycles(folders), [])
})

t.test('the cycle finder finds a cycle', async t => {
  t.same(cycles(new Map([['a', new Set(['b'])], ['b', new Set(['c'])], ['c', new Set(['a'])], ['d', new Set(['a'])]])), [['a', 'b', 'c']])
})
