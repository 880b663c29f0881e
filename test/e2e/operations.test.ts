// Day-two operations: a failed release retried and a running one aborted without touching the template,
// an autoscaler followed by `<hpa>-primary`, and the controller's own metrics.
import t from 'tap'
import { stringify } from 'yaml'
import { kubectl, kubectlOk, sluiceKubeconfigPath } from '../helpers/kube.ts'
import { until } from '../helpers/wait.ts'
import { apply, canaryWeightAnnotation, deploymentYaml, IMAGE_V1, IMAGE_V2, nginxCanary } from './apps.ts'
import { initializedApp } from './releases.ts'
import { canary, deployment, eventsOf, phase, sharedEnvironment, testNamespace } from './env.ts'

const shared = await sharedEnvironment()
t.teardown(() => shared.stop())
const metricsServer = shared.prometheus.url

const now = (): string => new Date().toISOString().replace(/\.\d+Z$/, 'Z')

t.test('a failed release is retried with the same template by annotating the Canary', async t => {
  const { ns } = await testNamespace(t, { metricsServer })
  await initializedApp(ns, nginxCanary())
  await apply(deploymentYaml({ ns, image: IMAGE_V2, pod: { 'simulator.sluice.dev/error-rate': '0.5' }, sluice: nginxCanary() }))
  const failed = await phase(ns, 'podinfo', 'Failed', 180_000, 'Succeeded')
  const failedAt = failed.status?.lastTransitionTime ?? ''
  // A request counts when its time is newer than the last transition; both are whole seconds, so wait (on
  // the clock, not a fixed sleep) until the current second is past the failure's.
  // Compared as times: as text, "…:27Z" sorts after "…:27.492Z" though it is the earlier instant.
  const requestedAt = await until(async () => now(), time => Date.parse(time) > Date.parse(failedAt), 'a second later than the failure', 5_000)
  await kubectlOk(['-n', ns, 'annotate', 'canary', 'podinfo', `sluice.dev/retry=${requestedAt}`, '--overwrite'])
  const again = await until(() => canary(ns, 'podinfo'), c => c?.status?.phase === 'Progressing' && Date.parse(c.status.lastTransitionTime ?? '') > Date.parse(failedAt),
    'a second run of the same revision', 60_000)
  t.equal(again?.status?.lastAppliedSpec, failed.status?.lastAppliedSpec, 'the same revision runs again')
  t.equal(again?.status?.failedChecks, 0, 'with its failed checks reset')
  await phase(ns, 'podinfo', 'Failed', 180_000, 'Succeeded')
  t.match((await eventsOf(ns, 'Canary', 'podinfo')).join('\n'), /retry/i, 'the retry is in the Events')
})

t.test('a running release is aborted by annotating the Canary', async t => {
  const { ns } = await testNamespace(t, { metricsServer })
  const annotations = nginxCanary({ interval: '3s', step: 10, max: 90 })
  await initializedApp(ns, annotations)
  await apply(deploymentYaml({ ns, image: IMAGE_V2, sluice: annotations }))
  await until(() => canary(ns, 'podinfo'), c => (c?.status?.canaryWeight ?? 0) >= 10, 'traffic on the canary', 120_000)
  await kubectlOk(['-n', ns, 'annotate', 'canary', 'podinfo', `sluice.dev/abort=${now()}`, '--overwrite'])
  const aborted = await phase(ns, 'podinfo', 'Failed', 60_000, 'Succeeded')
  t.equal(aborted.status?.canaryWeight, 0)
  t.equal(await canaryWeightAnnotation(ns), '0', 'all traffic back on the primary')
  t.equal((await deployment(ns, 'podinfo-primary'))?.spec?.template?.spec?.containers[0]?.image, IMAGE_V1, 'the old version serves')
  t.match((await eventsOf(ns, 'Canary', 'podinfo')).join('\n'), /Warning Alert: Canary aborted by an operator/)
})

t.test('an autoscaler is followed by <hpa>-primary on the primary', async t => {
  const { ns } = await testNamespace(t, { metricsServer })
  const hpa = (target: number): string => stringify({
    apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', metadata: { name: 'podinfo', namespace: ns },
    spec: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'podinfo' }, minReplicas: 2, maxReplicas: 4,
      metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: target } } }],
    },
  })
  await apply(hpa(80))
  const annotations = {
    'sluice.dev/strategy': 'blue-green', 'sluice.dev/port': '9898',
    'sluice.dev/spec': 'autoscalerRef: {apiVersion: autoscaling/v2, kind: HorizontalPodAutoscaler, name: podinfo, primaryScalerReplicas: {minReplicas: 3, maxReplicas: 6}}\n',
    'sluice.dev/analysis': 'interval: 2s\niterations: 2\nthreshold: 2\n',
  }
  await apply(deploymentYaml({ ns, sluice: annotations }))
  await phase(ns, 'podinfo', 'Initialized')
  const read = async (): Promise<{ target?: string; min?: number; max?: number; utilization?: number } | undefined> => {
    const out = await kubectlOk(['-n', ns, 'get', 'hpa', 'podinfo-primary', '-o', 'json']).catch(() => undefined)
    if (!out) return undefined
    const spec = (JSON.parse(out) as { spec: { scaleTargetRef: { name: string }; minReplicas: number; maxReplicas: number; metrics: { resource: { target: { averageUtilization: number } } }[] } }).spec
    return { target: spec.scaleTargetRef.name, min: spec.minReplicas, max: spec.maxReplicas, utilization: spec.metrics[0]?.resource.target.averageUtilization }
  }
  t.same(await until(read, h => h !== undefined, 'podinfo-primary HPA'), { target: 'podinfo-primary', min: 3, max: 6, utilization: 80 },
    'the primary autoscaler targets the primary with primaryScalerReplicas')
  await apply(hpa(60))
  t.same(await until(read, h => h?.utilization === 60, 'the change reaches podinfo-primary', 60_000),
    { target: 'podinfo-primary', min: 3, max: 6, utilization: 60 }, 'a change of the user\'s autoscaler reaches the primary at once')
})

t.test('the controller exports its metrics, health and readiness', async t => {
  const { ns, controller } = await testNamespace(t, { metricsServer })
  await initializedApp(ns, nginxCanary())
  const base = `http://127.0.0.1:${controller.telemetryPort}`
  const metrics = await until(async () => (await fetch(`${base}/metrics`)).text(),
    text => text.includes(`sluice_canary_status{name="podinfo",namespace="${ns}"}`), 'the canary in /metrics')
  t.match(metrics, new RegExp(`sluice_canary_phase\\{name="podinfo",namespace="${ns}",phase="Initialized"\\} 1`))
  t.match(metrics, new RegExp(`sluice_canary_weight\\{workload="podinfo-primary",namespace="${ns}"\\} 100`))
  t.match(metrics, /sluice_reconcile_duration_seconds_count \d+/)
  t.match(metrics, /process_resident_memory_bytes \d+/)
  t.equal((await fetch(`${base}/healthz`)).status, 200)
  t.equal((await fetch(`${base}/readyz`)).status, 200)
})

t.test('a Canary written by hand that does not validate is reported, not acted on', async t => {
  const { ns } = await testNamespace(t, { metricsServer })
  await apply(deploymentYaml({ ns }))
  // Weighted steps on provider kubernetes, which can only switch all traffic at once. The webhook refuses it
  // at apply; one stored anyway (before an upgrade, or while the webhook was away: written here as sluice's
  // own user, which the webhook lets through) is reported by the controller.
  const manifest = stringify({
    apiVersion: 'sluice.dev/v1beta1', kind: 'Canary', metadata: { name: 'podinfo', namespace: ns },
    spec: { targetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'podinfo' }, service: { port: 9898 }, analysis: { interval: '2s', stepWeight: 20, threshold: 2 } },
  })
  const refused = await kubectl(['apply', '-f', '-'], manifest)
  t.not(refused.code, 0)
  t.match(refused.stderr, /admission webhook "resources\.sluice\.dev" denied the request: Canary .*\/podinfo: spec\.provider defaults to kubernetes, which cannot send a share of traffic/)
  t.equal(await canary(ns, 'podinfo'), undefined, 'nothing stored')
  await kubectlOk(['apply', '-f', '-'], manifest, sluiceKubeconfigPath())
  const events = await until(() => eventsOf(ns, 'Canary', 'podinfo'), e => e.some(l => l.includes('InvalidSpec')), 'the InvalidSpec Event')
  t.match(events.join('\n'), /Warning InvalidSpec: Canary .*\/podinfo: spec\.provider defaults to kubernetes, which cannot send a share of traffic.*nothing is done until the Canary is fixed/)
  t.equal(await deployment(ns, 'podinfo-primary'), undefined, 'no primary was created')
  t.equal((await deployment(ns, 'podinfo'))?.spec?.replicas, 2, 'the app keeps serving as it was')
})
