// `make run`: plays one release on the local environment with the real kubectl. The app of
// examples/demo.yaml is deployed (Initialized), then a new image is applied and the canary followed, step
// by step, to its promotion; then a version that fails half its requests is applied and rolled back.
import { execFile } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { promisify } from 'node:util'
import { CustomObjectsApi, KubeConfig } from '@kubernetes/client-node'
import type { Canary } from '../../src/api/types.ts'

const run = promisify(execFile)
const root = resolve(import.meta.dirname, '../..')
const dir = process.argv[2] ?? '.cache/cluster'
const kubeconfig = resolve(dir, 'kubeconfig')
const kubectl = join(process.env.SLUICE_K8S_BIN_DIR ?? '', 'kubectl')
const kc = new KubeConfig()
kc.loadFromFile(kubeconfig)
const custom = kc.makeApiClient(CustomObjectsApi)
const say = (m: string): void => { process.stdout.write(`${m}\n`) }

async function apply(yaml: string): Promise<void> {
  // The webhook's warnings (the plan of a release) come on stderr: show them.
  const child = execFile(kubectl, ['--kubeconfig', kubeconfig, 'apply', '-f', '-'], (_err, _stdout, stderr) => {
    process.stderr.write(stderr.split('\n').filter(l => l.startsWith('Warning:') || l.startsWith('error') || l.includes('denied')).map(l => `  ${l}\n`).join(''))
  })
  child.stdin?.end(yaml)
  const code = await new Promise<number | null>(res => child.on('exit', res))
  if (code !== 0) throw new Error(`kubectl apply failed (${code})`)
}

async function status(): Promise<Canary['status']> {
  const c = await custom.getNamespacedCustomObject({ group: 'sluice.dev', version: 'v1beta1', namespace: 'demo', plural: 'canaries', name: 'podinfo' })
    .catch(() => undefined) as Canary | undefined
  return c?.status
}

/** Follows the canary until `phase`, printing each change of phase, weight or newest check. */
async function follow(phase: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  let last = ''
  while (Date.now() < deadline) {
    const s = await status()
    // The newest tick's worst record says most: a failing metric rather than the passing one after it.
    const newest = s?.checks?.filter(c => c.time === s.checks?.at(-1)?.time) ?? []
    const check = newest.find(c => c.verdict !== 'pass') ?? newest.at(-1)
    const line = `  ${s?.phase ?? '(no canary yet)'}  weight ${s?.canaryWeight ?? 0}%` +
      (check ? `  last check: ${check.message ?? `${check.name} ${check.verdict}`}` : '')
    if (line !== last) say(line)
    last = line
    if (s?.phase === phase) return
    await new Promise(r => setTimeout(r, 500))
  }
  throw new Error(`the canary did not reach ${phase} in ${timeoutMs / 1000}s; see kubectl -n demo describe canary podinfo`)
}

const manifest = readFileSync(join(root, 'examples/demo.yaml'), 'utf8')
say('1/3 deploying podinfo 6.7.0 (first deployment: no analysis)')
await apply(manifest)
await follow('Initialized', 120_000)
say('2/3 releasing podinfo 6.7.1: canary steps of 20% every 10s, checked against Prometheus')
await apply(manifest.replace('podinfo:6.7.0', 'podinfo:6.7.1'))
await follow('Succeeded', 300_000)
say('3/3 releasing podinfo 6.7.2, which fails half its requests (simulator.sluice.dev/error-rate: 0.5)')
await apply(manifest.replace('podinfo:6.7.0', 'podinfo:6.7.2').replace('      labels: {app: podinfo}\n    spec:', '      labels: {app: podinfo}\n      annotations: {simulator.sluice.dev/error-rate: "0.5"}\n    spec:'))
await follow('Failed', 300_000)
const { stdout } = await run(kubectl, ['--kubeconfig', kubeconfig, '-n', 'demo', 'get', 'events', '--field-selector', 'involvedObject.kind=Canary', '-o', 'custom-columns=TYPE:.type,REASON:.reason,MESSAGE:.message'])
say(`\nThe canary's Events:\n${stdout}`)
