// The inputs of `sluice plan` and `sluice lint`: files, directories (as kubectl -f reads them: *.yaml,
// *.yml and *.json, -R for subdirectories) and stdin, as multi-document YAML kept with its node positions,
// so that a finding can name the line of its field.
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { LineCounter, parseAllDocuments, type Document } from 'yaml'
import type { KubeObject } from '../../admission/review.ts'
import type { PathSegment } from '../../util/merge.ts'
import { isRecord } from '../../util/records.ts'
import { CliError, EXIT } from '../exit.ts'

/** One YAML document of a file, with what is needed to find a node's line. */
export interface Source {
  readonly file: string
  readonly text: string
  readonly lines: LineCounter
  readonly doc: Document.Parsed
}

/** One object: a document, or an item of a document of kind List. */
export interface Entry {
  readonly source: Source
  /** Where the object sits in its document: [] or ['items', i]. */
  readonly at: readonly PathSegment[]
  readonly object: KubeObject
}

export interface SyntaxProblem {
  readonly file: string
  readonly line: number
  readonly column: number
  readonly message: string
}

export interface Inputs {
  readonly entries: Entry[]
  readonly syntax: SyntaxProblem[]
  readonly files: number
}

const EXTENSIONS = /\.(ya?ml|json)$/i

/** The files an argument of -f names: itself, or the manifests of a directory. */
export function filesOf(path: string, recursive: boolean): string[] {
  if (path === '-') return ['-']
  let stat
  try {
    stat = statSync(path)
  } catch {
    throw new CliError(EXIT.notFound, `${path}: no such file or directory`)
  }
  if (!stat.isDirectory()) return [path]
  return readdirSync(path, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name)).flatMap(e => {
    const child = join(path, e.name)
    if (e.isDirectory()) return recursive ? filesOf(child, true) : []
    return EXTENSIONS.test(e.name) ? [child] : []
  })
}

function objectsOf(source: Source): Entry[] {
  const value: unknown = source.doc.toJS({ maxAliasCount: 100 })
  if (!isRecord(value)) return []
  if (value.kind === 'List' && Array.isArray(value.items)) {
    return value.items.flatMap((item: unknown, i) => isRecord(item) ? [{ source, at: ['items', i], object: item }] : [])
  }
  return [{ source, at: [], object: value }]
}

/** Parses one file's text into its objects, and the syntax errors of the documents that could not be read. */
export function parseText(file: string, text: string): { entries: Entry[]; syntax: SyntaxProblem[] } {
  const lines = new LineCounter()
  const docs = parseAllDocuments(text, { lineCounter: lines, prettyErrors: false })
  const entries: Entry[] = []
  const syntax: SyntaxProblem[] = []
  for (const doc of Array.isArray(docs) ? docs : []) {
    if (doc.errors.length > 0) {
      for (const e of doc.errors) {
        const pos = lines.linePos(e.pos[0])
        syntax.push({ file, line: pos.line, column: pos.col, message: `not valid YAML: ${e.message.split('\n')[0] ?? ''}` })
      }
      continue
    }
    entries.push(...objectsOf({ file, text, lines, doc }))
  }
  return { entries, syntax }
}

/** Reads every -f argument; `stdin` is read when one of them is "-". */
export function readInputs(paths: readonly string[], recursive: boolean, stdin: () => string): Inputs {
  if (paths.length === 0) throw new CliError(EXIT.usage, 'no input: give files or directories with -f (- for stdin)')
  const files = paths.flatMap(p => filesOf(p, recursive))
  const entries: Entry[] = []
  const syntax: SyntaxProblem[] = []
  for (const file of files) {
    const parsed = parseText(file === '-' ? 'stdin' : file, file === '-' ? stdin() : readFileSync(file, 'utf8'))
    entries.push(...parsed.entries)
    syntax.push(...parsed.syntax)
  }
  return { entries, syntax, files: files.length }
}
