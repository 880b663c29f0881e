// The image `make image` builds (.cache/image/sluice.oci.tar), run: its config, `sluice --version` and the
// user it runs as, a read-only root, and `sluice webhook` from the image ready against the run's cluster.
// The archive is unpacked here (tar: index, manifest, config, layers) and each command runs in its root
// filesystem through test/image/run-rootfs.sh, the container runtime's part done with unshare and chroot.
import t from 'tap'
import { execFile, spawn } from 'node:child_process'
import { once } from 'node:events'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { basename, join, resolve } from 'node:path'
import { promisify } from 'node:util'
import { freePort, httpsGet, stopProcess, waitFor } from '../cluster/process.ts'
import { TEST_CERT_FLAGS } from '../cluster/sluice-webhook.ts'
import { sluiceKubeconfigPath } from '../helpers/kube.ts'

const run = promisify(execFile)
const ROOT = resolve(import.meta.dirname, '../..')
const ARCHIVE = process.env.SLUICE_IMAGE_ARCHIVE ?? join(ROOT, '.cache/image/sluice.oci.tar')
const RUN_ROOTFS = join(ROOT, 'test/image/run-rootfs.sh')
const TETHER = join(ROOT, 'test/cluster/tether.ts')
const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version

interface ImageConfig { User?: string; Entrypoint?: string[]; Cmd?: string[]; Env?: string[] }
interface Descriptor { digest: string }

/** Unpacks an OCI archive: the image's config, and its layers extracted in order into one directory. */
async function unpack(archive: string, dir: string): Promise<{ rootfs: string; config: ImageConfig }> {
  const layout = join(dir, 'oci')
  const rootfs = join(dir, 'rootfs')
  mkdirSync(layout)
  mkdirSync(rootfs)
  await run('tar', ['-xf', archive, '-C', layout])
  const blob = (d: Descriptor): string => join(layout, 'blobs', ...d.digest.split(':'))
  const json = <T>(path: string): T => JSON.parse(readFileSync(path, 'utf8')) as T
  const index = json<{ manifests: Descriptor[] }>(join(layout, 'index.json'))
  if (index.manifests.length !== 1) throw new Error(`${archive}: ${index.manifests.length} images, expected one`)
  const manifest = json<{ config: Descriptor; layers: Descriptor[] }>(blob(index.manifests[0]!))
  // As root, tar keeps the layers' owners and modes: root's files, read-only to the image's user.
  for (const layer of manifest.layers) await run('tar', ['-xf', blob(layer), '-C', rootfs])
  return { rootfs, config: json<{ config: ImageConfig }>(blob(manifest.config)).config }
}

interface Ran { code: number; stdout: string; stderr: string }

interface RunOptions {
  readonly writable?: boolean
  /** Replaces the image's entrypoint, as `--entrypoint` does. */
  readonly entrypoint?: readonly string[]
}

if (!existsSync(ARCHIVE)) {
  t.fail(`${ARCHIVE} is missing: build it with \`make image\``)
} else {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-image-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  let rootfs = ''
  let config: ImageConfig = {}
  t.before(async () => { ({ rootfs, config } = await unpack(ARCHIVE, dir)) })

  const image = (args: readonly string[], opts: RunOptions = {}): string[] =>
    [rootfs, config.User ?? 'root', ...config.Env ?? [], '--', ...(opts.entrypoint ?? config.Entrypoint ?? []), ...args]

  const runImage = async (args: readonly string[], opts: RunOptions = {}): Promise<Ran> => {
    try {
      const { stdout, stderr } = await run(RUN_ROOTFS, image(args, opts), { env: { ...process.env, ROOTFS_WRITABLE: opts.writable ? '1' : '' } })
      return { code: 0, stdout, stderr }
    } catch (e) {
      const err = e as { code?: number; stdout?: string; stderr?: string; message: string }
      if (typeof err.code !== 'number') throw new Error(`${RUN_ROOTFS} could not run: ${err.message}`, { cause: e })
      return { code: err.code, stdout: err.stdout ?? '', stderr: err.stderr ?? '' }
    }
  }

  t.test('the image runs `sluice` as UID and GID 65534 (the manifests\' runAsUser) with only its own PATH', async t => {
    t.equal(config.User, '65534:65534')
    t.same(config.Entrypoint, ['sluice'])
    t.same(config.Env, ['PATH=/usr/local/bin'])
  })

  t.test('sluice --version and version -o json: this package\'s version, on the Node the project runs', async t => {
    const v = await runImage(['--version'])
    t.equal(v.code, 0, v.stderr)
    t.equal(v.stdout, `sluice ${VERSION}\n`)
    t.equal(v.stderr, '', 'no warnings (type stripping needs no flag on Node 24)')
    const j = await runImage(['version', '-o', 'json'])
    t.same(JSON.parse(j.stdout), { sluice: VERSION, node: process.versions.node })
  })

  t.test('the process runs as the non-root user, which cannot change the app', async t => {
    const probe = `
      const fs = require('node:fs')
      let write = 'written'
      try { fs.writeFileSync('/app/bin/sluice.ts', '') } catch (e) { write = e.code }
      console.log(JSON.stringify({ uid: process.getuid(), gid: process.getgid(), write }))`
    const r = await runImage(['-e', probe], { writable: true, entrypoint: ['node'] })
    t.equal(r.code, 0, r.stderr)
    t.same(JSON.parse(r.stdout), { uid: 65534, gid: 65534, write: 'EACCES' }, 'root owns the files, even on a writable root')
  })

  t.test('with a read-only root filesystem: sluice webhook --help, and nothing can be written but /tmp', async t => {
    const help = await runImage(['webhook', '--help'])
    t.equal(help.code, 0, help.stderr)
    t.match(help.stdout, /^Usage: sluice webhook \[options\]/)
    const probe = `
      const fs = require('node:fs')
      const tryWrite = p => { try { fs.writeFileSync(p, 'x'); return 'written' } catch (e) { return e.code } }
      console.log(JSON.stringify({ root: tryWrite('/x'), tmp: tryWrite('/tmp/x') }))`
    const r = await runImage(['-e', probe], { entrypoint: ['node'] })
    t.equal(r.code, 0, r.stderr)
    t.same(JSON.parse(r.stdout), { root: 'EROFS', tmp: 'written' })
  })

  t.test('sluice webhook from the image, read-only root, becomes ready against the cluster as sluice\'s ServiceAccount', async t => {
    const kubeconfig = sluiceKubeconfigPath()
    const port = await freePort()
    // A second replica beside the harness's webhook: same certificate policy, no registration of its own.
    const args = ['webhook', `--kubeconfig=/tmp/${basename(kubeconfig)}`, `--listen=127.0.0.1:${port}`, '--cert-ip=127.0.0.1', '--no-register', ...TEST_CERT_FLAGS]
    const started = performance.now()
    // Through the tether, like every process a test starts: a killed test run takes it along.
    const tether = spawn(process.execPath, [TETHER, RUN_ROOTFS, ...image(args)], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, ROOTFS_TMP_FILES: kubeconfig } })
    let output = ''
    const keep = (b: Buffer): void => { output = (output + b.toString()).slice(-8000) }
    tether.stdout.on('data', keep)
    tether.stderr.on('data', keep)
    // tether → unshare (run-rootfs.sh exec'd into it) → the namespace's PID 1, which is sluice (bash exec'd into
    // chroot, chroot into sluice). Stopping sluice by its PID ends the namespace, unshare and the tether.
    const sluice: { pid?: number } = {}
    t.teardown(async () => {
      const exited = tether.exitCode === null ? once(tether, 'exit') : undefined
      if (sluice.pid !== undefined) await stopProcess(sluice.pid, '/usr/local/bin/sluice')
      tether.stdin.end()
      await exited
    })
    await waitFor(async () => {
      if (tether.exitCode !== null) throw new Error(`the image's webhook exited with ${tether.exitCode}: ${output}`)
      return (await httpsGet(`https://127.0.0.1:${port}/readyz`, undefined, 1000)).status === 200
    }, { timeoutMs: 60_000, what: 'the image\'s sluice webhook /readyz', intervalMs: 50 })
    const readyMs = Math.round(performance.now() - started)
    const children = (p: number): number[] => readFileSync(`/proc/${p}/task/${p}/children`, 'utf8').trim().split(/\s+/).map(Number)
    const pid = children(children(tether.pid!)[0]!)[0]!
    sluice.pid = pid
    const status = readFileSync(`/proc/${pid}/status`, 'utf8')
    t.match(status, /^Uid:\t65534\t65534\t65534\t65534$/m, 'sluice runs as 65534')
    t.match(status, /^Gid:\t65534\t65534\t65534\t65534$/m)
    t.same(readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').slice(0, 3), ['/usr/local/bin/node', '/usr/local/bin/sluice', 'webhook'])
    t.comment(`image: ready in ${readyMs} ms; RSS ${/^VmRSS:\s+(\d+ kB)$/m.exec(status)?.[1] ?? '?'} when ready`)
  })
}
