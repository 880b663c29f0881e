// `sluice uninstall`, the real command as an operator runs it, on apps opted in every way: annotated and
// Initialized, annotated in the middle of a release, and a hand-written Canary with revertOnDeletion: false.
// Each app must keep ready endpoints throughout and serve from its own Deployment afterwards; then the
// webhook configurations, sluice-system, the RBAC and the CRDs must be gone, and an annotated Deployment
// must be applied as written, intercepted by nothing.
//
// It deletes the cluster-wide objects the other test files share (the webhook configurations `sluice`, the
// namespace sluice-system with sluice's ServiceAccount, the CRDs), so it runs in a cluster of its own:
// SLUICE_CLUSTER_EXCLUSIVE=1 node test/cluster/with-cluster.ts -- tap test/e2e/uninstall.test.ts (as make
// test-integration does). In a shared run it does nothing.
import t, { type Test } from 'tap'
import { stringify } from 'yaml'
import { isStateKey, isUserKey } from '../../src/api/annotations.ts'
import { sluice } from '../helpers/cli.ts'
import { absent, kubectl, kubeConfig, namespace } from '../helpers/kube.ts'
import { until } from '../helpers/wait.ts'
import { AdmissionregistrationV1Api, ApiextensionsV1Api, RbacAuthorizationV1Api } from '@kubernetes/client-node'
import { apply, deploymentYaml, IMAGE_V2 } from './apps.ts'
import { canary, core, deployment, phase, readyEndpoints, sampler, startController, type Sampler } from './env.ts'

const EXCLUSIVE = process.env.SLUICE_CLUSTER_EXCLUSIVE === '1'

const blueGreen = (interval: string): Record<string, string> => ({
  'sluice.dev/strategy': 'blue-green',
  'sluice.dev/port': '9898',
  'sluice.dev/analysis': `interval: ${interval}\niterations: 10\nthreshold: 2\n`,
})

/** A Canary a user wrote, which would leave its target at 0 replicas on deletion. */
function userCanaryYaml(ns: string, name: string): string {
  return stringify({
    apiVersion: 'sluice.dev/v1beta1', kind: 'Canary', metadata: { name, namespace: ns },
    spec: {
      provider: 'kubernetes', revertOnDeletion: false,
      targetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name },
      service: { port: 9898 },
      analysis: { interval: '2s', iterations: 2, threshold: 2 },
    },
  })
}

async function selector(ns: string, name: string): Promise<Record<string, string> | undefined> {
  try {
    return (await core.readNamespacedService({ name, namespace: ns })).spec?.selector
  } catch {
    return undefined
  }
}

/** Handed over to sluice: the apex Service selects the primary's pods, and they are ready. */
async function servedByPrimary(ns: string, name: string): Promise<void> {
  await until(() => selector(ns, name), s => s?.app === `${name}-primary`, `Service ${name} selecting ${name}-primary`, 120_000)
  await until(() => readyEndpoints(ns, name), n => n === 2, `${name} serving on the primary's 2 ready endpoints`, 120_000)
}

const APPS = ['podinfo', 'backend', 'frontend'] as const

async function optedInApps(ns: string): Promise<void> {
  await apply(deploymentYaml({ ns, name: 'podinfo', sluice: blueGreen('2s') }))
  // A release that stays in progress: one analysis step a minute, ten of them.
  await apply(deploymentYaml({ ns, name: 'backend', sluice: blueGreen('1m') }))
  await apply(deploymentYaml({ ns, name: 'frontend' }))
  await apply(userCanaryYaml(ns, 'frontend'))
  for (const name of APPS) await phase(ns, name, 'Initialized', 180_000)
  for (const name of APPS) await servedByPrimary(ns, name)
  await apply(deploymentYaml({ ns, name: 'backend', image: IMAGE_V2, sluice: blueGreen('1m') }))
  await phase(ns, 'backend', 'Progressing', 120_000)
  await until(() => deployment(ns, 'backend'), d => d?.status?.readyReplicas === 2, 'the new revision of backend up as the canary', 120_000)
}

async function assertServesOnItsOwn(t: Test, ns: string, name: string, seen: number[]): Promise<void> {
  t.notOk(seen.includes(0), `${name}: its ready endpoints never dropped to 0 (saw ${seen.join(' ')})`)
  t.equal(seen.at(-1), 2, `${name}: and ended at 2`)
  const d = await deployment(ns, name)
  t.equal(d?.spec?.replicas, 2, `${name}: the Deployment runs its 2 replicas again`)
  t.equal(d?.status?.readyReplicas, 2, `${name}: ready`)
  t.same(Object.keys(d?.metadata?.annotations ?? {}).filter(k => isUserKey(k) || isStateKey(k)), [], `${name}: no sluice.dev/ or status.sluice.dev/ annotation left`)
  t.same(await selector(ns, name), { app: name }, `${name}: the Service selects the Deployment's own pods`)
  t.equal(await deployment(ns, `${name}-primary`), undefined, `${name}-primary is gone`)
  for (const side of ['primary', 'canary']) t.equal(await selector(ns, `${name}-${side}`), undefined, `Service ${name}-${side} is gone`)
}

async function assertInstallGone(t: Test): Promise<void> {
  const admin = kubeConfig()
  const admission = admin.makeApiClient(AdmissionregistrationV1Api)
  t.ok(await absent(() => admission.readMutatingWebhookConfiguration({ name: 'sluice' })), 'the MutatingWebhookConfiguration is gone')
  t.ok(await absent(() => admission.readValidatingWebhookConfiguration({ name: 'sluice' })), 'the ValidatingWebhookConfiguration is gone')
  t.ok(await absent(() => core.readNamespace({ name: 'sluice-system' })), 'the namespace sluice-system is gone')
  t.ok(await absent(() => admin.makeApiClient(RbacAuthorizationV1Api).readClusterRole({ name: 'sluice' })), 'the ClusterRole is gone')
  t.ok(await absent(() => admin.makeApiClient(ApiextensionsV1Api).readCustomResourceDefinition({ name: 'canaries.sluice.dev' })), 'the CRDs are gone (--crds)')
}

/**
 * The old sources, applied again: nothing intercepts them (a Deployment created with the annotations keeps
 * its replicas, where the webhook would have set 0) and nothing acts on them.
 */
async function assertNotIntercepted(t: Test, ns: string): Promise<void> {
  const again = await kubectl(['apply', '-f', '-'], deploymentYaml({ ns, name: 'podinfo', sluice: blueGreen('2s') }) + '---\n' + deploymentYaml({ ns, name: 'late', sluice: blueGreen('2s') }))
  t.equal(again.code, 0, again.stderr)
  t.notMatch(again.stderr, /Warning/, 'no admission warnings: no webhook saw the writes')
  for (const name of ['podinfo', 'late']) {
    const d = await deployment(ns, name)
    t.equal(d?.spec?.replicas, 2, `${name}: replicas as written`)
    t.same(Object.keys(d?.metadata?.annotations ?? {}).filter(isStateKey), [], `${name}: no status.sluice.dev/ annotation written`)
  }
  await until(() => readyEndpoints(ns, 'podinfo'), n => n === 2, 'podinfo still serving', 60_000)
}

function run(): void {
  t.test('sluice uninstall gives every app back without losing its endpoints, then removes the webhooks and the install', async t => {
    const ns = await namespace(t)
    await startController(t, ns)
    const lease = `sluice-system/sluice-${ns}`
    await optedInApps(ns)

    const dry = await sluice(['uninstall', '--dry-run', '--crds', '--controller-lease', lease])
    t.equal(dry.code, 0, dry.stderr)
    t.match(dry.stdout, new RegExp(`Deployment ${ns}/podinfo: remove sluice.dev/analysis, sluice.dev/port, sluice.dev/strategy; the controller reverts Canary podinfo`))
    t.match(dry.stdout, new RegExp(`Canary ${ns}/frontend \\(written by hand\\): set spec.revertOnDeletion to true, then delete it`))
    t.match(dry.stdout, /delete MutatingWebhookConfiguration sluice\n {3}- delete ValidatingWebhookConfiguration sluice\n/)
    t.match(dry.stdout, /delete Namespace sluice-system[^]*delete CustomResourceDefinition canaries.sluice.dev/)
    t.match(dry.stdout, /--dry-run: nothing was changed\n$/)
    t.equal((await canary(ns, 'backend'))?.status?.phase, 'Progressing', '--dry-run changed nothing')

    const noController = await sluice(['uninstall', '--yes', '--controller-lease', 'sluice-system/nobody'])
    t.equal(noController.code, 1, 'no controller renews that Lease: refused')
    t.match(noController.stderr, /^sluice uninstall: the controller is not running \(its Lease sluice-system\/nobody does not exist\), and only the controller can give the apps back without losing their endpoints/)
    t.equal((await canary(ns, 'backend'))?.status?.phase, 'Progressing', 'and nothing was changed')
    t.match((await deployment(ns, 'podinfo'))?.metadata?.annotations, { 'sluice.dev/strategy': 'blue-green' })

    // Another namespace only: nothing to revert there, and the webhooks stay for the apps of this one.
    const other = await sluice(['uninstall', '--yes', '-n', 'default', '--controller-lease', lease])
    t.equal(other.code, 0, other.stderr)
    t.match(other.stdout, new RegExp(`the webhooks and the install stay: apps in other namespaces are still opted in \\(${ns}/backend, ${ns}/frontend, ${ns}/podinfo\\)`))
    t.notOk(await absent(() => kubeConfig().makeApiClient(AdmissionregistrationV1Api).readMutatingWebhookConfiguration({ name: 'sluice' })), 'the webhooks are still there')

    const unconfirmed = await sluice(['uninstall', '--controller-lease', lease])
    t.equal(unconfirmed.code, 2, 'no terminal and no --yes: a usage error')
    t.match(unconfirmed.stderr, /needs a confirmation: run it in a terminal, or add --yes/)

    const endpoints: Record<string, Sampler<number>> = Object.fromEntries(APPS.map(name => [name, sampler(() => readyEndpoints(ns, name), 100)]))
    const done = await sluice(['uninstall', '--yes', '--crds', '--controller-lease', lease, '--timeout', '5m'])
    t.equal(done.code, 0, done.stdout + done.stderr)
    // The progress lines sample each Canary's phase: a short Terminating may pass unseen, its end may not.
    t.match(done.stdout, /step 1\/3[^]*Canary \S+\/backend: reverted and removed[^]*step 2\/3[^]*deleted MutatingWebhookConfiguration sluice[^]*step 3\/3[^]*Namespace sluice-system is gone[^]*done: /)

    for (const name of APPS) await assertServesOnItsOwn(t, ns, name, await endpoints[name]!.settle())
    t.equal((await deployment(ns, 'backend'))?.spec?.template.spec?.containers[0]?.image, IMAGE_V2, 'backend runs the revision last applied')
    await assertInstallGone(t)

    await assertNotIntercepted(t, ns)

    // Run again with sluice gone: no controller is needed for Deployments without a Canary, and the annotations
    // applied again are taken off the live objects (a cleanup, harmless: nothing reads them).
    const rerun = await sluice(['uninstall', '--yes'])
    t.equal(rerun.code, 0, `run again once sluice is gone: no error (${rerun.stderr})`)
    t.match(rerun.stdout, new RegExp(`Deployment ${ns}/late: remove sluice.dev/analysis, sluice.dev/port, sluice.dev/strategy \\(no Canary\\)[^]*none to remove[^]*nothing left to remove`))
    t.same(Object.keys((await deployment(ns, 'late'))?.metadata?.annotations ?? {}).filter(isUserKey), [], 'late: its annotations taken off')
  })
}

if (EXCLUSIVE) run()
else t.plan(0, 'skipped: it deletes what the other test files share; run it alone with SLUICE_CLUSTER_EXCLUSIVE=1 (make test-integration does)')
