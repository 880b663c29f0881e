// The image `make image` builds (.cache/image/sluice.oci.tar), run by Podman: its config, `sluice --version`
// and the user it runs as, a read-only root, and `sluice webhook` from the image ready against the run's cluster.
// Podman runs here with runc and its own storage; see `podman()` for what this VM needs.
import t from 'tap'
import { execFile, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { chmodSync, copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { promisify } from 'node:util'
import { freePort, httpsGet, stopProcess, waitFor } from '../cluster/process.ts'
import { TEST_CERT_FLAGS } from '../cluster/sluice-webhook.ts'
import { IMAGE_BUNDLE, manifestCommand } from '../helpers/image-command.ts'
import { sluiceKubeconfigPath } from '../helpers/kube.ts'

const execFileP = promisify(execFile)
const ROOT = resolve(import.meta.dirname, '../..')
const ARCHIVE = process.env.SLUICE_IMAGE_ARCHIVE ?? join(ROOT, '.cache/image/sluice.oci.tar')
const TETHER = join(ROOT, 'test/cluster/tether.ts')
const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version
const IMAGE = `localhost/sluice:${VERSION}`

interface Ran { code: number; stdout: string; stderr: string }

/** The webhook container's command in manifests/deployment.yaml: the image test runs the webhook as installs do. */
const WEBHOOK_COMMAND = manifestCommand('webhook')
const CONTROLLER_COMMAND = manifestCommand('controller')

const dir = mkdtempSync(join(tmpdir(), 'sluice-image-'))

/**
 * Podman with its own storage in `dir`, and what this VM needs: runc, because crun 1.8 refuses the hybrid
 * cgroup v1/v2 layout ("cgroups in hybrid mode not supported"); limits below the VM's hard limits, because
 * root here lacks CAP_SYS_RESOURCE and Podman's default (1048576 open files) fails with EPERM.
 */
function podman(args: readonly string[]): string[] {
  return ['--root', join(dir, 'storage'), '--runroot', join(dir, 'run'), '--storage-driver', 'overlay', '--runtime', 'runc', ...args]
}
const LIMITS = ['--ulimit', 'nofile=4096:4096', '--ulimit', 'nproc=4096:4096']

async function run(args: readonly string[]): Promise<Ran> {
  try {
    const { stdout, stderr } = await execFileP('podman', podman(args), { maxBuffer: 16 << 20 })
    return { code: 0, stdout, stderr }
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string; message: string }
    if (typeof err.code !== 'number') throw new Error(`podman could not run: ${err.message}`, { cause: e })
    return { code: err.code, stdout: err.stdout ?? '', stderr: err.stderr ?? '' }
  }
}

/** `podman run --rm` of the image: no network, read-only root (Podman mounts a tmpfs on /tmp) unless `writable`. */
async function runImage(args: readonly string[], opts: { writable?: boolean; entrypoint?: string } = {}): Promise<Ran> {
  const flags = ['--rm', '--network=none', ...LIMITS, ...(opts.writable ? [] : ['--read-only']), ...(opts.entrypoint ? ['--entrypoint', opts.entrypoint] : [])]
  return run(['run', ...flags, IMAGE, ...args])
}

t.teardown(async () => {
  await run(['rmi', '--all', '--force'])
  rmSync(dir, { recursive: true, force: true })
})

t.before(async () => {
  if (!existsSync(ARCHIVE)) throw new Error(`${ARCHIVE} is missing: build it with \`make image\``)
  const loaded = await run(['load', '--quiet', '--input', ARCHIVE])
  if (loaded.code !== 0) throw new Error(`podman load: ${loaded.stderr}`)
})

t.test('the image runs `sluice` as UID and GID 65534 (the manifests\' runAsUser) with only its own PATH', async t => {
  const r = await run(['image', 'inspect', IMAGE])
  t.equal(r.code, 0, r.stderr)
  const [image] = JSON.parse(r.stdout) as [{ Config: { User?: string; Entrypoint?: string[]; Env?: string[] } }]
  t.equal(image.Config.User, '65534:65534')
  t.same(image.Config.Entrypoint, ['sluice'])
  t.same(image.Config.Env, ['PATH=/usr/local/bin'])
})

t.test('sluice --version and version -o json: this package\'s version, on the Node the project runs', async t => {
  const v = await runImage(['--version'])
  t.equal(v.code, 0, v.stderr)
  t.equal(v.stdout, `sluice ${VERSION}\n`)
  t.equal(v.stderr, '', 'no warnings (type stripping needs no flag on Node 24)')
  const j = await runImage(['version', '-o', 'json'])
  t.same(JSON.parse(j.stdout), { sluice: VERSION, node: process.versions.node })
  // The launcher the CLI and the load tester run: Node sized for memory (image/rootfs.sh; the kernel passes one
  // flag, the launcher sets the V8 flags beyond it before sluice loads; --version above ran through it).
  const launcher = await runImage(['-e', "process.stdout.write(require('node:fs').readFileSync('/usr/local/bin/sluice', 'utf8'))"], { entrypoint: 'node' })
  t.same(launcher.stdout.split('\n').slice(0, 2), [
    '#!/usr/local/bin/node --optimize-for-size',
    "require('node:v8').setFlagsFromString('--heap-growing-percent=50')",
  ], launcher.stderr)
  // The controller runs Node with flags of its own on the bundle, as the manifests say: this image's Node takes them.
  const controller = await runImage([...CONTROLLER_COMMAND.slice(1), '--version'], { entrypoint: 'node' })
  t.match(CONTROLLER_COMMAND, ['node', '--memory-saver-mode', /^--max-semi-space-size=/, /^--heap-growing-percent=/, IMAGE_BUNDLE])
  t.equal(controller.stdout, `sluice ${VERSION}\n`, controller.stderr)
  t.equal(controller.stderr, '', 'no warning about a flag')
})

t.test('the process runs as the non-root user, which cannot change the app even on a writable root', async t => {
  const probe = `
    const fs = require('node:fs')
    let write = 'written'
    try { fs.writeFileSync('/app/bin/sluice.mjs', '') } catch (e) { write = e.code }
    console.log(JSON.stringify({ uid: process.getuid(), gid: process.getgid(), write }))`
  const r = await runImage(['-e', probe], { writable: true, entrypoint: 'node' })
  t.equal(r.code, 0, r.stderr)
  t.same(JSON.parse(r.stdout), { uid: 65534, gid: 65534, write: 'EACCES' }, 'root owns the files')
})

t.test('with a read-only root filesystem: sluice webhook --help, and nothing can be written but /tmp', async t => {
  const help = await runImage(['webhook', '--help'])
  t.equal(help.code, 0, help.stderr)
  t.match(help.stdout, /^Usage: sluice webhook \[options\]/)
  // The dashboard reads its page script next to its source when it loads: the bundle must find it under /app.
  const dashboard = await runImage(['dashboard', '--help'])
  t.equal(dashboard.code, 0, dashboard.stderr)
  t.match(dashboard.stdout, /^Usage: sluice dashboard \[options\]/)
  const probe = `
    const fs = require('node:fs')
    const tryWrite = p => { try { fs.writeFileSync(p, 'x'); return 'written' } catch (e) { return e.code } }
    console.log(JSON.stringify({ root: tryWrite('/x'), tmp: tryWrite('/tmp/x') }))`
  const r = await runImage(['-e', probe], { entrypoint: 'node' })
  t.equal(r.code, 0, r.stderr)
  t.same(JSON.parse(r.stdout), { root: 'EROFS', tmp: 'written' })
})

t.test('sluice webhook from the image, read-only root, becomes ready against the cluster as sluice\'s ServiceAccount', async t => {
  // Readable by the image's user, as a mounted Secret would be.
  const kubeconfig = join(dir, 'kubeconfig')
  copyFileSync(sluiceKubeconfigPath(), kubeconfig)
  chmodSync(kubeconfig, 0o644)
  const port = await freePort()
  const name = `sluice-image-test-${randomBytes(4).toString('hex')}`
  // A second replica beside the harness's webhook: same certificate policy, no registration of its own.
  const args = ['run', '--rm', `--name=${name}`, '--network=host', '--read-only', ...LIMITS, `--volume=${kubeconfig}:/etc/sluice/kubeconfig:ro`,
    `--entrypoint=${JSON.stringify(WEBHOOK_COMMAND)}`, IMAGE, 'webhook', '--kubeconfig=/etc/sluice/kubeconfig', `--listen=127.0.0.1:${port}`, '--cert-ip=127.0.0.1', '--no-register', ...TEST_CERT_FLAGS]
  const started = performance.now()
  // Through the tether, like every process a test starts: a killed test run takes it along.
  const tether = spawn(process.execPath, [TETHER, 'podman', ...podman(args)], { stdio: ['pipe', 'pipe', 'pipe'] })
  let output = ''
  const keep = (b: Buffer): void => { output = (output + b.toString()).slice(-8000) }
  tether.stdout.on('data', keep)
  tether.stderr.on('data', keep)
  const exit = once(tether, 'exit').then(([code]) => { throw new Error(`the image's webhook exited with ${String(code)}: ${output}`) })
  // Stopped by its PID, the container's process: `podman run` then ends, and the tether with it.
  const sluice: { pid?: number } = {}
  t.teardown(async () => {
    const exited = exit.catch(() => undefined)
    if (sluice.pid !== undefined) await stopProcess(sluice.pid, IMAGE_BUNDLE)
    tether.stdin.end()
    await exited
  })
  await Promise.race([exit, waitFor(async () => (await httpsGet(`https://127.0.0.1:${port}/readyz`, undefined, 1000)).status === 200,
    { timeoutMs: 60_000, what: 'the image\'s sluice webhook /readyz', intervalMs: 50 })])
  const readyMs = Math.round(performance.now() - started)
  const inspected = await run(['inspect', '--format', '{{.State.Pid}}', name])
  const pid = Number(inspected.stdout.trim())
  t.ok(pid > 0, `the container's process: ${inspected.stdout}${inspected.stderr}`)
  sluice.pid = pid
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  t.match(status, /^Uid:\t65534\t65534\t65534\t65534$/m, 'sluice runs as 65534')
  t.match(status, /^Gid:\t65534\t65534\t65534\t65534$/m)
  // The manifests' command, Node flags included, as the container runs it.
  t.same(readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').slice(0, WEBHOOK_COMMAND.length + 1), [...WEBHOOK_COMMAND, 'webhook'])
  t.match(WEBHOOK_COMMAND, ['node', /^--max-semi-space-size=/, IMAGE_BUNDLE], 'the webhook runs the bundle with its own young generation, not --optimize-for-size')
  t.comment(`the image's webhook: /readyz after ${readyMs} ms (podman run included); RSS ${/^VmRSS:\s+(\d+ kB)$/m.exec(status)?.[1] ?? '?'} when ready`)
})
