// The operator commands that follow a release, as the real `sluice` process with the user's kubeconfig: get and
// status follow a release to its end, get -w prints each step, a failed release is reported and retried.
// (Requests that change a release: cli-requests.test.ts.)
import t from 'tap'
import { sluice, sluiceRunning } from '../helpers/cli.ts'
import { apply, deploymentYaml, IMAGE_V2, nginxCanary } from './apps.ts'
import { canary, sharedEnvironment, testNamespace } from './env.ts'
import { initializedApp, releasing as release, type NewVersion } from './releases.ts'
import type { TestLike } from '../helpers/kube.ts'

const shared = await sharedEnvironment()
t.teardown(() => shared.stop())
const metricsServer = shared.prometheus.url
const releasing = (t: TestLike, annotations: Record<string, string>, v2?: NewVersion): Promise<string> => release(t, metricsServer, annotations, v2)

t.test('get and status follow a release to its end; get -w prints each step; get of a missing Canary lists what is there', async t => {
  const { ns } = await testNamespace(t, { metricsServer })
  await initializedApp(ns, nginxCanary())
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
