// The two releases every mesh router's e2e file runs: a good version promoted through the weights of the
// provider's object, and a bad one (error rate 0.5) rolled back, both on the provider's builtin success rate
// (its own metrics, exported by the simulator and measured by a real Prometheus).
import t, { type Test } from 'tap'
import { until } from '../helpers/wait.ts'
import { apply, deploymentYaml, IMAGE_V1, IMAGE_V2 } from './apps.ts'
import { canary, custom, deployment, eventsOf, phase, sharedEnvironment, testNamespace, watchRecorder } from './env.ts'

export interface MeshRelease {
  /** The provider, as sluice.dev/provider names it. */
  readonly provider: string
  /** The router object `podinfo` (its kind, for messages) and where it is stored. */
  readonly kind: string
  readonly object: { readonly group: string; readonly version: string; readonly plural: string }
  /** The metric the builtin success rate reads, for messages. */
  readonly metric: string
  /** The canary's weight in a stored object. */
  canaryWeightOf(o: unknown): number
  /** Installs the provider's CRDs into the test cluster. */
  install(kubeconfigPath: string): Promise<void>
}

/** Registers the promotion and the rollback of `m` on the shared e2e environment. */
export async function meshReleases(m: MeshRelease, kubeconfigPath: string): Promise<void> {
  const shared = await sharedEnvironment()
  t.teardown(() => shared.stop())
  const sluice = {
    'sluice.dev/strategy': 'canary',
    'sluice.dev/provider': m.provider,
    'sluice.dev/port': '9898',
    'sluice.dev/analysis': 'interval: 2s\nthreshold: 2\nstepWeight: 20\nmaxWeight: 60\nmetrics:\n- {name: request-success-rate, interval: 10s, thresholdRange: {min: 99}}\n',
  }
  const { group, version, plural } = m.object
  /** Every canary weight the object is stored with, in order, from now until stop(). */
  const weights = (ns: string): ReturnType<typeof watchRecorder<number>> =>
    watchRecorder(`/apis/${group}/${version}/namespaces/${ns}/${plural}`, 'podinfo', o => m.canaryWeightOf(o))
  const initialized = async (t: Test): Promise<string> => {
    await m.install(kubeconfigPath)
    const { ns } = await testNamespace(t, { metricsServer: shared.prometheus.url })
    await apply(deploymentYaml({ ns, sluice }))
    await phase(ns, 'podinfo', 'Initialized')
    return ns
  }

  t.test(`${m.provider}: a good version is promoted through the weights of the ${m.kind}, on ${m.provider}'s builtin success rate`, async t => {
    const ns = await initialized(t)
    const seen = await weights(ns)
    await apply(deploymentYaml({ ns, image: IMAGE_V2, sluice }))
    await phase(ns, 'podinfo', 'Succeeded', 180_000, 'Failed')
    t.same(await seen.stop(), [0, 20, 40, 60, 0], `the canary weights the ${m.kind} showed, in order`)
    t.equal((await deployment(ns, 'podinfo-primary'))?.spec?.template?.spec?.containers[0]?.image, IMAGE_V2, 'the primary runs the new version')
    const c = await canary(ns, 'podinfo')
    t.ok((c?.status?.checks ?? []).some(r => r.name === 'request-success-rate' && r.verdict === 'pass' && r.value !== null && r.value >= 99),
      `the success rate was measured on ${m.metric} and passed`)
    t.match((await eventsOf(ns, 'Canary', 'podinfo')).join('\n'), /Promoted: Promotion completed!/)
  })

  t.test(`${m.provider}: a bad version (error rate 0.5) is rolled back on ${m.provider}'s builtin success rate`, async t => {
    const ns = await initialized(t)
    const seen = await weights(ns)
    await apply(deploymentYaml({ ns, image: IMAGE_V2, pod: { 'simulator.sluice.dev/error-rate': '0.5' }, sluice }))
    const c = await phase(ns, 'podinfo', 'Failed', 180_000, 'Succeeded')
    // The status is written before the router acts on it: wait for the router.
    await until(() => custom.getNamespacedCustomObject({ group, version, namespace: ns, plural, name: 'podinfo' }),
      o => m.canaryWeightOf(o) === 0, `the ${m.kind} back on the primary alone`)
    const stored = await seen.stop()
    // How many steps the canary reached before the second failed check depends on when its first requests were scraped.
    t.ok(stored[0] === 0 && stored.at(-1) === 0 && stored.some(w => w > 0), `the ${m.kind}: idle, on the canary's steps, then the primary alone (${stored.join(', ')})`)
    t.equal(c.status?.failedChecks, 2, 'rolled back at the threshold')
    t.equal(c.status?.canaryWeight, 0, 'no traffic on the canary')
    t.equal((await deployment(ns, 'podinfo-primary'))?.spec?.template?.spec?.containers[0]?.image, IMAGE_V1, 'the primary still runs the old version')
    await until(() => deployment(ns, 'podinfo'), d => d?.spec?.replicas === 0, 'the canary scaled to zero')
    const failed = (c.status?.checks ?? []).filter(r => r.name === 'request-success-rate' && r.verdict === 'fail')
    t.ok(failed.length >= 2 && failed.every(r => r.value !== null && r.value < 99), 'failed checks recorded with their values')
  })
}
