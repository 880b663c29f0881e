import t from 'tap'
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { Writable } from 'node:stream'
import { main } from '../../src/cli/main.ts'

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
  const available = 'available: kubernetes, nginx, gatewayapi, gatewayapi:v1beta1'
  for (const command of ['controller', 'webhook', 'serve']) {
    const err = sink()
    t.equal(await main([command, '--default-provider', 'istio', '--kubeconfig', '/nonexistent'], sink(), err), 1, `sluice ${command} fails`)
    t.equal(err.text, `sluice ${command}: --default-provider: istio is not available yet in this version of sluice; ${available}\n`, 'one line that says what is available')
  }
})

t.test('--default-provider is in each command\'s help', async t => {
  const bin = fileURLToPath(new URL('../../bin/sluice.ts', import.meta.url))
  for (const command of ['controller', 'webhook', 'serve']) {
    const help = execFileSync(process.execPath, [bin, command, '--help'], { encoding: 'utf8' })
    t.match(help, /--default-provider P +router of Canaries without spec\.provider/, `sluice ${command} --help`)
  }
})
