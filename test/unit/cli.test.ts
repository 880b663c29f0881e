import t from 'tap'
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { Writable } from 'node:stream'
import { main } from '../../src/cli/main.ts'
import { parseArgs } from 'node:util'
import { KubeConfig } from '@kubernetes/client-node'
import { pino } from 'pino'
import { LOADTESTER_FLAGS, loadTesterOptionsFrom } from '../../src/cli/loadtester.ts'

function sink(): Writable & { text: string } {
  const w = new Writable({ write(chunk: Buffer, _enc, cb) { w.text += chunk.toString(); cb() } }) as Writable & { text: string }
  w.text = ''
  return w
}

const pkgVersion = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version

t.test('--version prints the package version', async t => {
  const out = sink()
  t.equal(await main(['--version'], out), 0)
  t.equal(out.text, `sluice ${pkgVersion}\n`)
})

t.test('--help prints usage and exits 0; no arguments exits 2', async t => {
  const out = sink()
  t.equal(await main(['--help'], out), 0)
  t.match(out.text, /Usage: sluice <command>/)
  t.equal(await main([], sink()), 2)
})

t.test('an unknown command is named in the error', async t => {
  const err = sink()
  t.equal(await main(['frobnicate'], sink(), err), 2)
  t.match(err.text, /unknown command "frobnicate"/)
})

t.test('--default-provider is checked at start, before anything runs, and the error lists what is available', async t => {
  const available = 'available: kubernetes, nginx, gatewayapi, gatewayapi:v1beta1, istio, linkerd, traefik, contour'
  for (const command of ['controller', 'webhook', 'serve']) {
    const err = sink()
    t.equal(await main([command, '--default-provider', 'kuma', '--kubeconfig', '/nonexistent'], sink(), err), 1, `sluice ${command} fails`)
    t.equal(err.text, `sluice ${command}: --default-provider: kuma is not available yet in this version of sluice; ${available}\n`, 'one line that says what is available')
  }
})

t.test('--default-provider is in each command\'s help', async t => {
  const bin = fileURLToPath(new URL('../../bin/sluice.ts', import.meta.url))
  for (const command of ['controller', 'webhook', 'serve']) {
    const help = execFileSync(process.execPath, [bin, command, '--help'], { encoding: 'utf8' })
    t.match(help, /--default-provider P +router of Canaries without spec\.provider/, `sluice ${command} --help`)
  }
})

t.test('sluice loadtester: --help names the API, the no-shell rule and every flag', async t => {
  const bin = fileURLToPath(new URL('../../bin/sluice.ts', import.meta.url))
  const help = execFileSync(process.execPath, [bin, 'loadtester', '--help'], { encoding: 'utf8' })
  t.match(help, /Usage: sluice loadtester/)
  t.match(help, /never run through a shell/)
  for (const flag of ['--kubeconfig', '--namespace', '--gate-configmap', '--listen', '--allow', '--enable-bash', '--enable-helm',
    '--enable-kubectl', '--max-jobs', '--max-duration', '--max-output', '--idle-timeout']) t.match(help, `  ${flag} `, flag)
  const out = sink()
  t.equal(await main(['--help'], out), 0)
  t.match(out.text, /loadtester +run the load tester/, 'listed in sluice --help')
})

t.test('sluice loadtester: flags become options, and bad values are refused at start with the flag named', async t => {
  const kc = new KubeConfig()
  const logger = pino({ level: 'silent' })
  const parse = (args: string[]) => loadTesterOptionsFrom(parseArgs({ args, options: LOADTESTER_FLAGS }).values, kc, logger)
  t.match(parse([]), {
    namespace: 'sluice-system', configMapName: 'sluice-loadtester-gates', host: '0.0.0.0', port: 8080, allow: [],
    enableBash: false, enableHelm: false, enableKubectl: false, maxJobs: 16, maxDurationMs: 3_600_000, maxOutputBytes: 1048576, idleTimeoutMs: 300_000,
  })
  t.match(parse(['--allow', 'curl', '--allow=/tests/run.sh', '--enable-bash', '--max-jobs', '4', '--max-duration', '90s', '--max-output', '64Ki', '--idle-timeout', '2m', '--listen', '127.0.0.1:0']), {
    allow: ['curl', '/tests/run.sh'], enableBash: true, maxJobs: 4, maxDurationMs: 90_000, maxOutputBytes: 65536, idleTimeoutMs: 120_000, host: '127.0.0.1', port: 0,
  })
  t.equal(parse(['--max-output', '2Mi']).maxOutputBytes, 2 * 1024 * 1024)
  for (const [args, message] of [
    [['--max-jobs', '0'], '--max-jobs: "0" is not a positive whole number'],
    [['--max-output', '1MB'], '--max-output: "1MB" is not a size (e.g. 65536, 64Ki, 1Mi)'],
    [['--max-duration', '0s'], '--max-duration: must be longer than 0s'],
    [['--idle-timeout', 'soon'], '--idle-timeout: "soon" is not a duration'],
    [['--allow', 'bin/hey'], '--allow: "bin/hey" is neither a program name nor an absolute path'],
    [['--listen', 'localhost'], '--listen: "localhost" is not HOST:PORT'],
  ] as const) t.throws(() => parse([...args]), { message }, args.join(' '))
})
