// The operator requests on real releases, as the real `sluice` process with the user's kubeconfig: abort rolls
// back (and a user without the RBAC for it is refused), pause holds a release and resume lets it go on,
// promote skips the remaining steps. (get and status: cli.test.ts.)
import t from 'tap'
import { canaryUser, sluice } from '../helpers/cli.ts'
import { until } from '../helpers/wait.ts'
import { canaryWeightAnnotation, canaryWeights, IMAGE_V1, IMAGE_V2, nginxCanary } from './apps.ts'
import { canary, deployment, phase, sharedEnvironment } from './env.ts'
import { releasing as release, weightAtLeast, type NewVersion } from './releases.ts'
import type { TestLike } from '../helpers/kube.ts'

const shared = await sharedEnvironment()
t.teardown(() => shared.stop())
const metricsServer = shared.prometheus.url
const releasing = (t: TestLike, annotations: Record<string, string>, v2?: NewVersion): Promise<string> => release(t, metricsServer, annotations, v2)

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
  // 18 steps of 2s: the release is still stepping when the pause arrives, even on a loaded machine.
  const ns = await releasing(t, nginxCanary({ interval: '2s', step: 5, max: 90 }))
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
