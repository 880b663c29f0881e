// The command-line rule of the load tester: what splits into which argv, and every shell construct it
// refuses, named by its token and place.
import t from 'tap'
import { CommandLineError, splitCommandLine } from '../../../src/loadtester/argv.ts'

function refusal(line: string): CommandLineError {
  try {
    splitCommandLine(line)
  } catch (e) {
    if (e instanceof CommandLineError) return e
    throw e
  }
  throw new Error(`"${line}" was split, not refused`)
}

t.test('words split on spaces and tabs; quotes and escapes join and protect', async t => {
  const cases: [string, string[]][] = [
    ['hey -z 1m -q 10 -c 2 http://podinfo-canary.test:9898/', ['hey', '-z', '1m', '-q', '10', '-c', '2', 'http://podinfo-canary.test:9898/']],
    ['  hey\t\t-n   5  ', ['hey', '-n', '5']],
    // Flagger's POST example: the single-quoted body is one argument, braces and all.
    ["hey -m POST -d '{test: 2}' http://podinfo-canary.test:9898/echo", ['hey', '-m', 'POST', '-d', '{test: 2}', 'http://podinfo-canary.test:9898/echo']],
    ['hey -H "Accept: text/html" -H "X-Quote: say \\"hi\\"" url', ['hey', '-H', 'Accept: text/html', '-H', 'X-Quote: say "hi"', 'url']],
    ["a 'it''s' b", ['a', 'its', 'b']],
    ["-H'Host: example.com'", ['-HHost: example.com']],
    ['a "" \'\' b', ['a', '', '', 'b']],
    ['a\\ b c', ['a b', 'c']],
    ['a \\; \\| \\& \\> \\$HOME \\` \\# \\~', ['a', ';', '|', '&', '>', '$HOME', '`', '#', '~']],
    // Inside '…' nothing is special, not even a backslash or the operators.
    ["'a;b|c&&d>e<f$(g)`h`\\n'", ['a;b|c&&d>e<f$(g)`h`\\n']],
    // Inside "…": \" \\ \$ \` are escapes, any other backslash is kept, and operators are text.
    ['"a\\\\b \\$x \\` \\n ;|&<>()"', ['a\\b $x ` \\n ;|&<>()']],
    // No globbing and no brace expansion: passed as written.
    ['ls *.txt [ab] {a,b} ! a=b %', ['ls', '*.txt', '[ab]', '{a,b}', '!', 'a=b', '%']],
    // # and ~ are plain in the middle of a word.
    ['curl http://x/#frag a~b', ['curl', 'http://x/#frag', 'a~b']],
  ]
  for (const [line, argv] of cases) t.same(splitCommandLine(line), argv, line)
})

t.test('every shell operator outside quotes is refused, naming the token, where it is, and why', async t => {
  const cases: [string, string, number, string][] = [
    ['hey -n 1 url; rm -rf /', ';', 12, 'separator'],
    ['hey url | grep 200', '|', 8, 'pipe'],
    ['hey url && curl x', '&&', 8, 'separator'],
    ['hey url || true', '||', 8, 'separator'],
    ['hey url &', '&', 8, 'separator'],
    ['hey url > /tmp/out', '>', 8, 'redirection'],
    ['hey url >> /tmp/out', '>>', 8, 'redirection'],
    ['hey url 2>&1', '>&', 9, 'redirection'],
    ['hey url < /etc/passwd', '<', 8, 'redirection'],
    ['hey url <<EOF', '<<', 8, 'redirection'],
    ['hey url |& cat', '|&', 8, 'pipe'],
    ['hey $(cat /etc/passwd)', '$(', 4, 'substitution'],
    ['hey `id`', '`', 4, 'substitution'],
    ['hey $HOME', '$HOME', 4, 'variable'],
    ['hey ${HOME}', '${', 4, 'variable'],
    ['hey $1', '$1', 4, 'variable'],
    ['hey $?', '$?', 4, 'variable'],
    ['hey a$', '$', 5, 'variable'],
    ['(hey url)', '(', 0, 'subshell'],
    ['hey url)', ')', 7, 'subshell'],
    ['hey url\nrm -rf /', '\n', 7, 'separator'],
    ['hey url\r\nx', '\n', 7, 'separator'],
    ['hey url #comment', '#', 8, 'comment'],
    ['hey -D ~/body.json url', '~', 7, 'home'],
    // In double quotes a shell still substitutes: refused there too.
    ['hey -d "$(cat token)" url', '$(', 8, 'substitution'],
    ['hey -d "`id`" url', '`', 8, 'substitution'],
    ['hey -H "Authorization: Bearer $TOKEN" url', '$TOKEN', 30, 'variable'],
  ]
  for (const [line, token, index, kind] of cases) {
    const e = refusal(line)
    t.same([e.token, e.index, e.kind], [token, index, kind], JSON.stringify(line))
    const shown = token === '\n' ? 'a newline' : `"${token}"`
    t.match(e.message, `refused ${shown} at character ${index + 1}`, `${JSON.stringify(line)}: the message names the token and its place`)
    t.match(e.message, /without a shell/, 'and says why')
  }
})

t.test('an operator inside a URL unquoted is refused, not guessed at: quote the URL', async t => {
  t.equal(refusal('hey http://x/?a=1&b=2').token, '&')
  t.same(splitCommandLine("hey 'http://x/?a=1&b=2'"), ['hey', 'http://x/?a=1&b=2'])
})

t.test('malformed command lines are syntax errors', async t => {
  for (const [line, message] of [
    ['', /empty/], ['   ', /empty/], ["hey 'url", /unterminated ' starting at character 5/],
    ['hey "url', /unterminated " starting at character 5/], ['hey url\\', /backslash at the end/], ["hey 'a\0b'", /a NUL character at character 7/],
  ] as const) {
    const e = refusal(line)
    t.equal(e.kind, 'syntax', JSON.stringify(line))
    t.match(e.message, message)
  }
})
