// `sluice plan` and `sluice lint` as processes: the repository's examples pass; bad inputs fail with the
// message and line of each problem in every output format; the messages are the ones the running webhook
// gives `kubectl apply` for the same objects; and `kubectl sluice` finds the plugin on PATH.
import t from 'tap'
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { stringify } from 'yaml'
import { sluice } from '../../helpers/cli.ts'
import { kubectl, kubectlPath, namespace } from '../../helpers/kube.ts'
import { app } from '../../helpers/manifests.ts'

const ROOT = resolve(import.meta.dirname, '../../..')
const dir = mkdtempSync(join(tmpdir(), 'sluice-lint-'))
const EXAMPLES = readdirSync(join(ROOT, 'examples')).filter(f => /\.(ya?ml|json)$/.test(f)).length
// The run's webhook accepts intervals down to 1s (with-cluster.ts); the offline check is told the same.
const AS_THE_WEBHOOK = ['--min-interval', '1s']

t.test('the repository\'s examples are valid: lint and plan exit 0', async t => {
  const lint = await sluice(['lint', '-f', 'examples/'])
  t.equal(lint.code, 0, lint.stderr)
  t.match(lint.stdout, new RegExp(`^no problems in \\d+ objects of ${EXAMPLES} files \\(\\d+ for sluice\\)\\n$`))
  const plan = await sluice(['plan', '-f', 'examples/'])
  t.equal(plan.code, 0, plan.stderr)
  t.match(plan.stdout, /Deployment demo\/podinfo \(examples\/demo\.yaml:24\)\n {2}kubectl apply: admitted, with the warnings\n {4}Warning: Deployment demo\/podinfo: first deployment: 2 replica\(s\) go to podinfo-primary/)
  t.match(plan.stdout, /Canary payments\/checkout \(examples\/canary\.yaml:51\)\n {2}kubectl apply: admitted\n {2}plan {5}blue-green payments\/checkout: 5 iterations every 1m/)
  t.match(plan.stdout, / {4}confirm-promotion {2}approve {2}http:\/\/sluice-loadtester\.sluice-system\/gate\/check/)
  t.match(plan.stdout, /Deployment travel\/podinfo \(examples\/istio\.yaml:12\)\n {2}kubectl apply: admitted[^]*?router {3}istio\n {2}steps\n[^]*? {4}mirror {3}\+1m {2}a copy of the traffic to the canary\n {4}step 1 {3}\+2m {2}20%/,
    'the istio example mirrors first, then steps')
  t.match(plan.stdout, /Deployment storefront\/frontend[^]*canary storefront\/frontend: 3 steps of 20% every 1m \(20, 40, 60\)/, 'the policy\'s defaults under the annotation')
  const json = await sluice(['lint', '-f', 'examples/', '-o', 'json'])
  const report = JSON.parse(json.stdout) as { files: number; errors: number; warnings: number; problems: unknown[] }
  t.same([report.files, report.errors, report.warnings, report.problems], [EXAMPLES, 0, 0, []])
})

const BAD_DEPLOYMENT = (ns: string): string => app({
  namespace: ns, name: 'web',
  annotations: {
    'sluice.dev/strategy': 'canary', 'sluice.dev/provider': 'nginx', 'sluice.dev/port': '9898',
    'sluice.dev/spec': 'ingressRef: {apiVersion: networking.k8s.io/v1, kind: Ingress, name: web}\n',
    'sluice.dev/analysis': 'interval: 2s\nthreshold: 2\nstepWeight: 120\nmetrics:\n- {name: request-success-rate, thresholdRange: {min: 99}}\n',
  },
})

const BAD_CANARY = (ns: string): string => stringify({
  apiVersion: 'sluice.dev/v1beta1', kind: 'Canary', metadata: { name: 'api', namespace: ns },
  spec: {
    targetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'api' }, provider: 'kuma', service: { port: 80 },
    analysis: { interval: '2s', threshold: 2, iterations: 3 },
  },
})

/** The line of the first line of `file` that contains `text`. */
function lineOf(text: string, needle: string): number {
  return text.split('\n').findIndex(l => l.includes(needle)) + 1
}

t.test('bad inputs: exit 1, each message with the line of its field, in text, JSON and GitHub\'s format', async t => {
  const ns = 'shop'
  const text = `${BAD_DEPLOYMENT(ns)}---\n${BAD_CANARY(ns)}`
  const file = join(dir, 'bad.yaml')
  writeFileSync(file, text)
  const stepLine = lineOf(text, 'stepWeight: 120')
  const providerLine = lineOf(text, 'provider: kuma')
  t.ok(stepLine > 0 && providerLine > stepLine)
  const deploymentError = 'Deployment shop/web: annotation sluice.dev/analysis: stepWeight must be between 1 and 100 (got 120)'
  const canaryError = 'Canary shop/api: spec.provider kuma is not available yet in this version of sluice; available: kubernetes, nginx, gatewayapi, gatewayapi:v1beta1, istio, linkerd, traefik, contour'

  const lint = await sluice(['lint', '-f', file, ...AS_THE_WEBHOOK])
  t.equal(lint.code, 1)
  t.equal(lint.stdout, [
    `${file}:${stepLine}:7: error: ${deploymentError}`,
    `${file}:${providerLine}:3: error: ${canaryError}`,
    '2 errors, 0 warnings in 2 objects of 1 file (2 for sluice)',
    '',
  ].join('\n'))

  const github = await sluice(['lint', '-f', file, '-o', 'github', ...AS_THE_WEBHOOK])
  t.equal(github.code, 1)
  t.match(github.stdout, `::error file=${file},line=${stepLine},col=7,title=sluice%3A Deployment shop/web::${deploymentError}\n`)
  t.match(github.stdout, `::error file=${file},line=${providerLine},col=3,title=sluice%3A Canary shop/api::${canaryError}\n`)

  const json = JSON.parse((await sluice(['lint', '-f', file, '-o', 'json', ...AS_THE_WEBHOOK])).stdout) as { errors: number; problems: { line: number; message: string }[] }
  t.equal(json.errors, 2)
  t.same(json.problems.map(p => [p.line, p.message]), [[stepLine, deploymentError], [providerLine, canaryError]])

  const plan = await sluice(['plan', '-f', file, ...AS_THE_WEBHOOK])
  t.equal(plan.code, 1)
  t.match(plan.stdout, `Deployment shop/web (${file}:1)\n  kubectl apply: refused by the webhook`)
  t.match(plan.stdout, `    ${file}:${stepLine}:7: error: ${deploymentError}`)

  const strict = await sluice(['lint', '-f', '-', '--strict', ...AS_THE_WEBHOOK], { env: {} })
  t.equal(strict.code, 0, 'stdin with nothing in it has no problems')
})

t.test('the offline messages are the running webhook\'s: kubectl apply --dry-run=server gets the same', async t => {
  const ns = await namespace(t)
  const deployment = await kubectl(['apply', '--dry-run=server', '-f', '-'], BAD_DEPLOYMENT(ns))
  t.not(deployment.code, 0)
  const canary = await kubectl(['apply', '--dry-run=server', '-f', '-'], BAD_CANARY(ns))
  t.not(canary.code, 0)
  const file = join(dir, 'both.yaml')
  writeFileSync(file, `${BAD_DEPLOYMENT(ns)}---\n${BAD_CANARY(ns)}`)
  const json = JSON.parse((await sluice(['lint', '-f', file, '-o', 'json', ...AS_THE_WEBHOOK])).stdout) as { problems: { message: string }[] }
  const [fromDeployment, fromCanary] = json.problems.map(p => p.message)
  t.ok(fromDeployment && deployment.stderr.includes(`admission webhook "deployments.sluice.dev" denied the request: ${fromDeployment}`), deployment.stderr)
  t.ok(fromCanary && canary.stderr.includes(`admission webhook "resources.sluice.dev" denied the request: ${fromCanary}`), canary.stderr)
})

t.test('usage: a missing file exits 3, a wrong flag 2', async t => {
  const missing = await sluice(['lint', '-f', join(dir, 'nope.yaml')])
  t.equal(missing.code, 3)
  t.match(missing.stderr, /^sluice lint: .*nope\.yaml: no such file or directory\n$/)
  const wrong = await sluice(['lint', '-f', 'examples/', '-o', 'sarif'])
  t.equal(wrong.code, 2)
  t.match(wrong.stderr, /--output: "sarif" is not one of text, json, github/)
})

t.test('kubectl sluice: the plugin on PATH runs the same commands', async t => {
  const run = promisify(execFile)
  const env = { ...process.env, PATH: `${join(ROOT, 'bin')}:${process.env.PATH ?? ''}` }
  const plugins = await run(kubectlPath(), ['plugin', 'list'], { env }).catch((e: { stdout?: string }) => ({ stdout: e.stdout ?? '' }))
  t.match(plugins.stdout, /bin\/kubectl-sluice/)
  t.equal((await run(kubectlPath(), ['sluice', 'version'], { env })).stdout, `sluice ${(await sluice(['version'])).stdout.trim().split(' ')[1]}\n`)
  const lint = await run(kubectlPath(), ['sluice', 'lint', '-f', 'examples/'], { env, cwd: ROOT })
  t.match(lint.stdout, /^no problems in \d+ objects/)
})

t.test('bash completion completes commands and flags', async t => {
  const script = (await sluice(['completion', 'bash'])).stdout
  const complete = async (words: string): Promise<string> => {
    const probe = `${script}\nCOMP_WORDS=(${words}); COMP_CWORD=$((\${#COMP_WORDS[@]} - 1)); _sluice; echo "\${COMPREPLY[*]}"`
    return (await promisify(execFile)('bash', ['-c', probe])).stdout.trim()
  }
  t.equal(await complete('sluice pro'), 'promote')
  t.equal(await complete('sluice get --wa'), '--watch')
  t.equal(await complete('sluice completion z'), 'zsh')
})
