// A hook's command line split into argv, without a shell. The rule is a strict subset of POSIX shell word
// splitting, so that a command line means the same here as it did in Flagger's `sh -c`, or is refused:
//
// - Unquoted spaces and tabs separate words; quoted and unquoted parts next to each other make one word.
// - '…' is literal text up to the next ' (no escapes inside).
// - "…" is literal text, except that \" \\ \$ and \` stand for " \ $ and `; any other backslash is kept.
// - Outside quotes, a backslash makes the next character literal (`\;` is a plain ";").
// - Refused, because a shell would interpret them and this runs no shell: outside quotes the operators
//   ; & | < > ( ) (and their runs: && || >> 2>&1 …), a newline; anywhere but in '…' an unescaped $ or `
//   (substitutions and variables); a word starting with # (a comment) or ~ (the home directory). A NUL
//   is refused too: no program can receive one.
// - Not interpreted, passed as they are: * ? [ ] { } ! = (no globbing and no brace expansion; sh passes an
//   unmatched pattern unchanged too).

export type RefusalKind = 'separator' | 'pipe' | 'redirection' | 'subshell' | 'substitution' | 'variable' | 'comment' | 'home'

/** A command line this splitter will not run: names the token, its place (0-based) and why. */
export class CommandLineError extends Error {
  readonly token: string
  readonly index: number
  readonly kind: RefusalKind | 'syntax'

  constructor(message: string, token: string, index: number, kind: RefusalKind | 'syntax') {
    super(message)
    this.name = 'CommandLineError'
    this.token = token
    this.index = index
    this.kind = kind
  }
}

const WHAT: Record<RefusalKind, string> = {
  separator: 'a command separator',
  pipe: 'a pipe',
  redirection: 'a redirection',
  subshell: 'a subshell',
  substitution: 'a command substitution',
  variable: 'a variable expansion',
  comment: 'a comment',
  home: 'a home-directory expansion',
}

function refuse(token: string, index: number, kind: RefusalKind): CommandLineError {
  const shown = token === '\n' ? 'a newline' : `"${token}"`
  return new CommandLineError(
    `refused ${shown} at character ${index + 1}: in a shell it is ${WHAT[kind]}, and sluice loadtester runs commands without a shell ` +
    `(quote it in '…' to pass it as text)`,
    token, index, kind)
}

const OPERATOR_CHARS = ';&|<>'
/** Special only as a word's first character. */
const WORD_START: Readonly<Record<string, RefusalKind>> = { '#': 'comment', '~': 'home' }

function operatorKind(run: string): RefusalKind {
  if (run.includes('<') || run.includes('>')) return 'redirection'
  if (run === '|' || run === '||' || run === '|&') return run === '||' ? 'separator' : 'pipe'
  return 'separator'
}

/** The token starting at a `$`: `$(`, `${`, `$NAME`, or `$` alone. */
function dollarToken(text: string, i: number): { token: string; kind: RefusalKind } {
  const next = text[i + 1] ?? ''
  if (next === '(') return { token: '$(', kind: 'substitution' }
  if (next === '{') return { token: '${', kind: 'variable' }
  const name = /^[A-Za-z_][A-Za-z0-9_]*|^[0-9?$!#@*-]/.exec(text.slice(i + 1))
  return { token: `$${name?.[0] ?? ''}`, kind: 'variable' }
}

interface Cursor { i: number; word: string; inWord: boolean }

function singleQuoted(text: string, c: Cursor): void {
  const end = text.indexOf("'", c.i + 1)
  if (end < 0) throw new CommandLineError(`unterminated ' starting at character ${c.i + 1}`, "'", c.i, 'syntax')
  c.word += text.slice(c.i + 1, end)
  c.i = end + 1
}

function doubleQuoted(text: string, c: Cursor): void {
  const start = c.i
  c.i++
  for (;;) {
    const ch = text[c.i]
    if (ch === undefined) throw new CommandLineError(`unterminated " starting at character ${start + 1}`, '"', start, 'syntax')
    if (ch === '"') { c.i++; return }
    if (ch === '\\' && '"\\$`'.includes(text[c.i + 1] ?? '')) {
      c.word += text[c.i + 1] ?? ''
      c.i += 2
      continue
    }
    if (ch === '$') { const d = dollarToken(text, c.i); throw refuse(d.token, c.i, d.kind) }
    if (ch === '`') throw refuse('`', c.i, 'substitution')
    c.word += ch
    c.i++
  }
}

/** Refuses what a shell would interpret at this unquoted character; returns normally for a plain one. */
function checkUnquoted(text: string, i: number, atWordStart: boolean): void {
  const ch = text[i] ?? ''
  if (OPERATOR_CHARS.includes(ch)) {
    let end = i
    while (end < text.length && OPERATOR_CHARS.includes(text[end] ?? '')) end++
    const run = text.slice(i, end)
    throw refuse(run, i, operatorKind(run))
  }
  if (ch === '(' || ch === ')') throw refuse(ch, i, 'subshell')
  if (ch === '`') throw refuse('`', i, 'substitution')
  if (ch === '$') { const d = dollarToken(text, i); throw refuse(d.token, i, d.kind) }
  if (ch === '\n' || ch === '\r') throw refuse('\n', i, 'separator')
  const startKind = atWordStart ? WORD_START[ch] : undefined
  if (startKind) throw refuse(ch, i, startKind)
}

/** Splits a command line into argv by the rule above; throws CommandLineError naming what it refuses. */
export function splitCommandLine(text: string): string[] {
  // No program can receive a NUL in an argument (exec would refuse it); say so instead of failing later.
  const nul = text.indexOf('\0')
  if (nul >= 0) throw new CommandLineError(`a NUL character at character ${nul + 1} cannot be passed to a program`, '\0', nul, 'syntax')
  const words: string[] = []
  const c: Cursor = { i: 0, word: '', inWord: false }
  while (c.i < text.length) {
    const ch = text[c.i] ?? ''
    if (ch === ' ' || ch === '\t') {
      if (c.inWord) words.push(c.word)
      c.word = ''
      c.inWord = false
      c.i++
      continue
    }
    const atWordStart = !c.inWord
    c.inWord = true
    if (ch === "'") singleQuoted(text, c)
    else if (ch === '"') doubleQuoted(text, c)
    else if (ch === '\\') {
      if (c.i + 1 >= text.length) throw new CommandLineError('a backslash at the end of the command line escapes nothing', '\\', c.i, 'syntax')
      c.word += text[c.i + 1] ?? ''
      c.i += 2
    } else {
      checkUnquoted(text, c.i, atWordStart)
      c.word += ch
      c.i++
    }
  }
  if (c.inWord) words.push(c.word)
  if (words.length === 0) throw new CommandLineError('the command is empty', '', 0, 'syntax')
  return words
}
