// The end-to-end release every mesh or ingress router goes through: kubectl apply, the webhook, the controller,
// the router's object in the API server (the provider's own CRDs), and the simulator's provider metrics measured
// by a real Prometheus through the provider's builtin request-success-rate: a promotion, then a rollback.
import t, { type Test } from 'tap'
import { kubeconfigPath } from '../helpers/kube.ts'
import { until } from '../helpers/wait.ts'
import { apply, deploymentYaml, IMAGE_V1, IMAGE_V2 } from './apps.ts'
import { canary, custom, deployment, eventsOf, phase, sharedEnvironment, testNamespace, watchRecorder } from './env.ts'

export interface RouterRelease {
  /** The provider, as sluice.dev/provider names it. */
  readonly provider: string
  /** The kind of the object the router splits traffic with, named `podinfo`. */
  readonly kind: string
  readonly group: string
  readonly version: string
  readonly plural: string
  /** The provider's request counter the builtin success rate reads. */
  readonly metric: string
  installCrds(kubeconfigPath: string): Promise<void>
  /** The canary's weight in the stored object. */
  canaryWeightOf(o: unknown): number
}

/** Registers the promotion and the rollback of `podinfo` through `r`'s router, at weights 20, 40, 60. */
export async function routerReleaseTests(r: RouterRelease): Promise<void> {
  const shared = await sharedEnvironment()
  t.teardown(() => shared.stop())
  const metricsServer = shared.prometheus.url
  const sluice = {
    'sluice.dev/strategy': 'canary',
    'sluice.dev/provider': r.provider,
    'sluice.dev/port': '9898',
    'sluice.dev/analysis': 'interval: 2s\nthreshold: 2\nstepWeight: 20\nmaxWeight: 60\nmetrics:\n- {name: request-success-rate, interval: 10s, thresholdRange: {min: 99}}\n',
  }
  /** Every canary weight the object is stored with, in order, from now until stop(). */
  const weights = (ns: string): ReturnType<typeof watchRecorder<number>> =>
    watchRecorder(`/apis/${r.group}/${r.version}/namespaces/${ns}/${r.plural}`, 'podinfo', o => r.canaryWeightOf(o))
  const initialized = async (t: Test): Promise<string> => {
    await r.installCrds(kubeconfigPath())
    const { ns } = await testNamespace(t, { metricsServer })
    await apply(deploymentYaml({ ns, sluice }))
    await phase(ns, 'podinfo', 'Initialized')
    return ns
  }

  t.test(`${r.provider}: a good version is promoted through the weights of the ${r.kind}, on ${r.provider}'s builtin success rate`, async t => {
    const ns = await initialized(t)
    const seen = await weights(ns)
    await apply(deploymentYaml({ ns, image: IMAGE_V2, sluice }))
    await phase(ns, 'podinfo', 'Succeeded', 180_000, 'Failed')
    t.same(await seen.stop(), [0, 20, 40, 60, 0], `the canary weights the ${r.kind} showed, in order`)
    t.equal((await deployment(ns, 'podinfo-primary'))?.spec?.template?.spec?.containers[0]?.image, IMAGE_V2, 'the primary runs the new version')
    const c = await canary(ns, 'podinfo')
    t.ok((c?.status?.checks ?? []).some(x => x.name === 'request-success-rate' && x.verdict === 'pass' && x.value !== null && x.value >= 99),
      `the success rate was measured on ${r.metric} and passed`)
    t.match((await eventsOf(ns, 'Canary', 'podinfo')).join('\n'), /Promoted: Promotion completed!/)
  })

  t.test(`${r.provider}: a bad version (error rate 0.5) is rolled back on ${r.provider}'s builtin success rate`, async t => {
    const ns = await initialized(t)
    const seen = await weights(ns)
    await apply(deploymentYaml({ ns, image: IMAGE_V2, pod: { 'simulator.sluice.dev/error-rate': '0.5' }, sluice }))
    const c = await phase(ns, 'podinfo', 'Failed', 180_000, 'Succeeded')
    // The status is written before the router acts on it: wait for the router.
    await until(() => custom.getNamespacedCustomObject({ group: r.group, version: r.version, namespace: ns, plural: r.plural, name: 'podinfo' }),
      o => r.canaryWeightOf(o) === 0, `the ${r.kind} back on the primary alone`)
    const steps = await seen.stop()
    // How many steps the canary reached before the second failed check depends on when its first requests were scraped.
    t.ok(steps[0] === 0 && steps.at(-1) === 0 && steps.some(w => w > 0), `the ${r.kind}: idle, on the canary's steps, then the primary alone (${steps.join(', ')})`)
    t.equal(c.status?.failedChecks, 2, 'rolled back at the threshold')
    t.equal(c.status?.canaryWeight, 0, 'no traffic on the canary')
    t.equal((await deployment(ns, 'podinfo-primary'))?.spec?.template?.spec?.containers[0]?.image, IMAGE_V1, 'the primary still runs the old version')
    await until(() => deployment(ns, 'podinfo'), d => d?.spec?.replicas === 0, 'the canary scaled to zero')
    const failed = (c.status?.checks ?? []).filter(x => x.name === 'request-success-rate' && x.verdict === 'fail')
    t.ok(failed.length >= 2 && failed.every(x => x.value !== null && x.value < 99), 'failed checks recorded with their values')
  })
}
