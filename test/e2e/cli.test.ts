// The operator commands on real releases, as the real `sluice` process with the user's kubeconfig: get and
// status follow a release to its end, get -w prints each step, a failed release is reported and retried,
// abort rolls back (and a user without the RBAC for it is refused), pause holds a release and resume lets it
// go on, promote skips the remaining steps.
import t from 'tap'
import { canaryUser, sluice, sluiceRunning } from '../helpers/cli.ts'
import type { TestLike } from '../helpers/kube.ts'
import { until } from '../helpers/wait.ts'
import { apply, canaryWeightAnnotation, canaryWeights, deploymentYaml, ingressYaml, IMAGE_V1, IMAGE_V2, nginxCanary } from './apps.ts'
import { canary, deployment, phase, sharedEnvironment, testNamespace } from './env.ts'

const shared = await sharedEnvironment()
t.teardown(() => shared.stop())
const metricsServer = shared.prometheus.url

/** A release of podinfo through nginx, Initialized, then (after `prepare`) a new version applied. */
async function releasing(t: TestLike, annotations: Record<string, string>, v2: { pod?: Record<string, string>; prepare?: (ns: string) => Promise<unknown> } = {}): Promise<string> {
  const { ns } = await testNamespace(t, { metricsServer })
  await apply(ingressYaml(ns))
  await apply(deploymentYaml({ ns, sluice: annotations }))
  await phase(ns, 'podinfo', 'Initialized')
  await v2.prepare?.(ns)
  await apply(deploymentYaml({ ns, image: IMAGE_V2, sluice: annotations, ...(v2.pod && { pod: v2.pod }) }))
  return ns
}

async function weightAtLeast(ns: string, weight: number): Promise<number> {
  const c = await until(() => canary(ns, 'podinfo'), c => (c?.status?.canaryWeight ?? 0) >= weight, `canary weight ${weight}`, 120_000)
  return c?.status?.canaryWeight ?? 0
}

t.test('get and status follow a release to its end; get -w prints each step; get of a missing Canary lists what is there', async t => {
  const { ns } = await testNamespace(t, { metricsServer })
  await apply(ingressYaml(ns))
  await apply(deploymentYaml({ ns, sluice: nginxCanary() }))
  await phase(ns, 'podinfo', 'Initialized')
  const table = await sluice(['get', '-n', ns])
  t.equal(table.code, 0, table.stderr)
  t.match(table.stdout, /^NAME +PHASE +WEIGHT +STEP +FAILED +LAST CHECK +AGE\npodinfo +Initialized +0% +- +0\/2 +- +\d+s\n$/)
  const all = await sluice(['get', '-A'])
  t.match(all.stdout, new RegExp(`\\n${ns} +podinfo +Initialized`), '-A: every namespace, with a NAMESPACE column')

  const watching = sluiceRunning(t, ['get', 'podinfo', '-n', ns, '-w'])
  await watching.waitFor(/Initialized weight 0%/, 'the first line of get -w')
  await apply(deploymentYaml({ ns, image: IMAGE_V2, sluice: nginxCanary() }))
  const status = await sluice(['status', 'podinfo', '-n', ns, '--timeout', '3m'])
  t.equal(status.code, 0, status.stdout + status.stderr)
  const lines = status.stdout.trim().split('\n')
  t.match(lines.at(-1), new RegExp(`^Succeeded: Canary ${ns}/podinfo promoted revision [0-9a-f]{16}$`))
  t.match(lines[0], new RegExp(`^\\S+ ${ns}/podinfo (Progressing|Promoting|Finalising|Succeeded) weight`), 'status printed where the release stood, then each change')

  const log = await watching.waitFor(/Succeeded weight 0%/, 'get -w to see the end')
  t.equal(await watching.stop(), 0, 'get -w ends on SIGTERM with 0')
  const summaries = log.split('\n').filter(l => new RegExp(`^\\S+ ${ns}/podinfo `).test(l)).map(l => l.replace(/^\S+ \S+ /, ''))
  t.same(summaries.filter(s => s.startsWith('Progressing weight') && !s.includes('weight 0%')), [
    'Progressing weight 20% step 1/3 failed checks 0/2', 'Progressing weight 40% step 2/3 failed checks 0/2', 'Progressing weight 60% step 3/3 failed checks 0/2',
  ], 'one plain line per step (not a terminal)')
  t.match(log, /check request-success-rate [\d.]+% \(min 99%, window 10s\) pass/)
  t.match(log, /event Normal Promoted: Promotion completed!/)

  const detail = await sluice(['get', 'podinfo', '-n', ns])
  t.equal(detail.code, 0, detail.stderr)
  t.match(detail.stdout, new RegExp(`^Canary {6}${ns}/podinfo \\(generated from the annotations of Deployment podinfo\\)\\nPhase {7}Succeeded`))
  t.match(detail.stdout, /\[x\] +step 3 +\+6s +60%\n +\[x\] +promote/)
  t.match(detail.stdout, /Replicas {4}primary podinfo-primary 2\/2 ready; canary podinfo 0\/0 ready/)
  t.match(detail.stdout, /Checks \(last \d+ of \d+\)\n +AGE +NAME +VALUE +RANGE +WINDOW +VERDICT[^]*request-success-rate +[\d.]+% +min 99% +10s +pass/)
  t.match(detail.stdout, /Events \(last \d+\)[^]*Normal +Promoted +Promotion completed!/)

  const retry = await sluice(['retry', 'podinfo', '-n', ns])
  t.equal(retry.code, 1)
  t.equal(retry.stderr, 'sluice retry: Canary podinfo is Succeeded: only a Failed release can be retried\n')

  const missing = await sluice(['get', 'nope', '-n', ns])
  t.equal(missing.code, 3)
  t.equal(missing.stderr, `sluice get: no Canary "nope" in namespace "${ns}"; Canaries in ${ns}: podinfo (another namespace: -n NS, or -A to search them all)\n`)
})

t.test('a failed release: status exits 1 with the reason; retry runs it again', async t => {
  const ns = await releasing(t, nginxCanary(), { pod: { 'simulator.sluice.dev/error-rate': '0.5' } })
  const status = await sluice(['status', 'podinfo', '-n', ns, '--timeout', '3m'])
  t.equal(status.code, 1, status.stdout + status.stderr)
  t.match(status.stdout.trim().split('\n').at(-1), new RegExp(`^Failed: Canary ${ns}/podinfo: Canary failed! Scaling down podinfo\\.${ns}: failed checks threshold reached 2; last: request-success-rate [\\d.]+% is below the minimum 99%`))
  const failed = await canary(ns, 'podinfo')

  const retry = await sluice(['retry', 'podinfo', '-n', ns])
  t.equal(retry.code, 0, retry.stderr)
  t.match(retry.stdout, new RegExp(`^Canary ${ns}/podinfo: sluice\\.dev/retry=\\S+ written\\nretrying: Canary ${ns}/podinfo is Progressing again with revision ${failed?.status?.lastAppliedSpec}\\n$`))
  const again = await canary(ns, 'podinfo')
  t.ok(Date.parse(again?.status?.lastTransitionTime ?? '') > Date.parse(failed?.status?.lastTransitionTime ?? ''), 'a new run')

  const rerun = await sluice(['status', 'podinfo', '-n', ns, '--timeout', '3m'])
  t.equal(rerun.code, 1, 'the same revision fails again')
  t.ok(Date.parse((await canary(ns, 'podinfo'))?.status?.lastTransitionTime ?? '') > Date.parse(again?.status?.lastTransitionTime ?? ''))
})

t.test('abort: a user who may only get Canaries is refused; the operator\'s abort rolls the release back', async t => {
  let kubeconfig = ''
  // 18 steps of 3s: the release is still running when the operator aborts it.
  const ns = await releasing(t, nginxCanary({ interval: '3s', step: 5, max: 90 }), { prepare: async ns => { kubeconfig = await canaryUser(ns, 'viewer', ['get']) } })
  await weightAtLeast(ns, 5)

  const view = await sluice(['get', 'podinfo', '-n', ns, '--kubeconfig', kubeconfig])
  t.equal(view.code, 0, `the viewer may read the Canary (without its Events and Deployments): ${view.stderr}`)
  t.match(view.stdout, /Phase {7}Progressing/)
  t.match(view.stdout, /Events {6}none/)
  const refused = await sluice(['abort', 'podinfo', '-n', ns, '--kubeconfig', kubeconfig])
  t.equal(refused.code, 4)
  t.equal(refused.stderr, `sluice abort: cannot patch Canary ${ns}/podinfo (annotation sluice.dev/abort): forbidden by the cluster's RBAC for the user of your kubeconfig: ` +
    `canaries.sluice.dev "podinfo" is forbidden: User "system:serviceaccount:${ns}:viewer" cannot patch resource "canaries" in API group "sluice.dev" in the namespace "${ns}"\n`)
  t.equal((await canary(ns, 'podinfo'))?.metadata.annotations?.['sluice.dev/abort'], undefined, 'nothing was written')
  const list = await sluice(['get', '-n', ns, '--kubeconfig', kubeconfig])
  t.equal(list.code, 4)
  t.match(list.stderr, /cannot list Canaries in namespace .*: forbidden .*cannot list resource "canaries"/)

  const aborted = await sluice(['abort', 'podinfo', '-n', ns])
  t.equal(aborted.code, 0, aborted.stderr)
  t.match(aborted.stdout, new RegExp(`\\naborted: Canary ${ns}/podinfo is Failed: all traffic on the primary \\(canary weight 0%\\), the canary scaled to zero\\n$`))
  t.equal(await canaryWeightAnnotation(ns), '0', 'the router sends everything to the primary')
  t.equal((await deployment(ns, 'podinfo-primary'))?.spec?.template?.spec?.containers[0]?.image, IMAGE_V1, 'the old version serves')
  const again = await sluice(['abort', 'podinfo', '-n', ns])
  t.equal(again.code, 1)
  t.match(again.stderr, /Canary podinfo is Failed: no release is running, nothing to abort/)
})

t.test('pause holds a release where it stands; resume lets it go on to its promotion', async t => {
  const interval = 2_000
  const ns = await releasing(t, nginxCanary({ interval: '2s', step: 10, max: 50 }))
  await weightAtLeast(ns, 10)
  const paused = await sluice(['pause', 'podinfo', '-n', ns])
  t.equal(paused.code, 0, paused.stderr)
  const held = /paused: Canary \S+ is suspended in phase Progressing at weight (\d+)%/.exec(paused.stdout)
  t.ok(held, paused.stdout)
  const weight = Number(held?.[1])
  t.match(paused.stdout, new RegExp(`^Deployment ${ns}/podinfo: suspend: true set in annotation sluice.dev/spec\\n`))
  t.match((await deployment(ns, 'podinfo'))?.metadata?.annotations?.['sluice.dev/spec'], /^ingressRef: \{apiVersion: networking\.k8s\.io\/v1, kind: Ingress, name: podinfo\}\nsuspend: true\n$/,
    'the user\'s text kept, suspend added')
  // Held for three intervals by the clock: a step would have come within one.
  const since = Date.now()
  await until(async () => Date.now(), now => now > since + 3 * interval, 'three intervals', 10_000)
  const c = await canary(ns, 'podinfo')
  t.equal(c?.status?.canaryWeight, weight, 'no step while paused')
  t.equal(c?.spec.suspend, true)
  t.match((await sluice(['get', '-n', ns])).stdout, /Progressing \(suspended\)/)

  const resumed = await sluice(['resume', 'podinfo', '-n', ns])
  t.equal(resumed.code, 0, resumed.stderr)
  t.match(resumed.stdout, /\nresumed: Canary \S+ goes on: /)
  const status = await sluice(['status', 'podinfo', '-n', ns, '--timeout', '2m'])
  t.equal(status.code, 0, status.stdout)
  t.equal((await deployment(ns, 'podinfo'))?.metadata?.annotations?.['sluice.dev/spec'], 'ingressRef: {apiVersion: networking.k8s.io/v1, kind: Ingress, name: podinfo}\n')
})

t.test('promote: --full needs a confirmation off a terminal; promote skips the remaining steps', async t => {
  const ns = await releasing(t, nginxCanary({ interval: '3s', step: 5, max: 90 }))
  const weights = await canaryWeights(ns)
  await weightAtLeast(ns, 5)
  const unconfirmed = await sluice(['promote', 'podinfo', '-n', ns, '--full'])
  t.equal(unconfirmed.code, 2)
  t.match(unconfirmed.stderr, /--full needs a confirmation: run it in a terminal, or add --yes/)

  const promoted = await sluice(['promote', 'podinfo', '-n', ns])
  t.equal(promoted.code, 0, promoted.stderr)
  t.match(promoted.stdout, new RegExp(`\\npromoting: Canary ${ns}/podinfo is (Promoting|Finalising|Succeeded): the canary's template goes to podinfo-primary`))
  await phase(ns, 'podinfo', 'Succeeded', 60_000, 'Failed')
  const seen = (await weights.stop()).map(Number)
  t.ok(Math.max(...seen) < 90, `the last steps were skipped (weights ${seen.join(', ')})`)
  t.equal((await deployment(ns, 'podinfo-primary'))?.spec?.template?.spec?.containers[0]?.image, IMAGE_V2, 'the new version is promoted')
  const late = await sluice(['promote', 'podinfo', '-n', ns])
  t.equal(late.code, 1)
  t.match(late.stderr, /nothing to promote/)
})
