// The nginx release the controller's integration tests drive by hand: a Deployment, the user's Ingress and a
// Canary gated by a rollout webhook, and a reconciler acting as sluice on its own clock.
import { createServer } from 'node:http'
import { AppsV1Api, CoreV1Api, CustomObjectsApi, NetworkingV1Api, PatchStrategy, setHeaderOptions, type KubeConfig } from '@kubernetes/client-node'
import { pino } from 'pino'
import { createCaches, type Caches } from '../../../src/controller/caches.ts'
import { createHooks } from '../../../src/controller/hook-adapter.ts'
import { createReconciler, type Reconciler } from '../../../src/controller/reconcile.ts'
import type { Recorder } from '../../../src/controller/ports.ts'
import { createDeployer } from '../../../src/deployer/deployer.ts'
import { applyClient } from '../../../src/kube/apply.ts'
import type { Canary } from '../../../src/api/types.ts'
import { createControllerMetrics } from '../../../src/telemetry/controller-metrics.ts'
import { kubeConfig, sluiceKubeConfig, type TestLike } from '../../helpers/kube.ts'
import { container, canary, deployment, ingress, manifest } from '../../helpers/objects.ts'

export const admin = kubeConfig()
export const apps = admin.makeApiClient(AppsV1Api)
export const net = admin.makeApiClient(NetworkingV1Api)
export const custom = admin.makeApiClient(CustomObjectsApi)
export const NAME = 'podinfo'
export const INTERVAL_MS = 10_000
export const WEIGHT = 'nginx.ingress.kubernetes.io/canary-weight'

/** A rollout gate that always passes, so that every analysis tick after the first appends one check. */
export async function gate(t: TestLike, calls: { n: number } = { n: 0 }, answer = 200): Promise<string> {
  const server = createServer((_req, res) => { calls.n++; res.writeHead(answer).end() })
  await new Promise<void>(res => server.listen(0, '127.0.0.1', res))
  t.teardown(() => new Promise<void>(res => { server.closeAllConnections(); server.close(() => res()) }))
  return `http://127.0.0.1:${(server.address() as { port: number }).port}/gate`
}

export async function setup(ns: string, gateUrl: string, type: 'rollout' | 'pre-rollout' = 'rollout', analysisKey = 'analysis'): Promise<void> {
  await apps.createNamespacedDeployment({ namespace: ns, body: manifest(deployment({
    metadata: { name: NAME, namespace: ns }, spec: { template: { spec: { containers: [container({ image: 'example.invalid/podinfo:1' })] } } },
  })) })
  await net.createNamespacedIngress({ namespace: ns, body: manifest(ingress({ metadata: { name: 'web', namespace: ns } }, NAME)) })
  const body = manifest(canary({ metadata: { name: NAME, namespace: ns }, spec: {
    provider: 'nginx', ingressRef: { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', name: 'web' },
      analysis: { interval: '10s', threshold: 5, maxWeight: 50, stepWeight: 10, webhooks: [{ name: 'gate', type, url: gateUrl }] },
  } }))
  // Flagger's old name of analysis, which the API server keeps as written.
  const spec = body.spec as unknown as Record<string, unknown>
  if (analysisKey !== 'analysis') { spec[analysisKey] = spec.analysis; delete spec.analysis }
  await custom.createNamespacedCustomObject({ group: 'sluice.dev', version: 'v1beta1', namespace: ns, plural: 'canaries', body })
}

export const readCanary = async (ns: string): Promise<Canary> =>
  await custom.getNamespacedCustomObject({ group: 'sluice.dev', version: 'v1beta1', namespace: ns, plural: 'canaries', name: NAME }) as Canary

export interface Controller {
  readonly reconciler: Reconciler
  readonly events: { type: string; reason: string }[]
  readonly logs: { msg?: string }[]
}

/** A reconciler on `caches`, acting as sluice, on its own clock; its Events (unless `recorder` writes them) and logs are kept for the asserts. */
export function reconciler(kc: KubeConfig, caches: Caches, now: () => Date, recorder?: Recorder, stepEvents?: boolean, schedule?: (key: string, at: Date) => void): Controller {
  const logs: { msg?: string }[] = []
  const log = pino({ level: 'debug' }, { write: (line: string) => { logs.push(JSON.parse(line) as { msg?: string }) } })
  const events: { type: string; reason: string }[] = []
  const kube = applyClient(kc)
  const hooks = createHooks({ caches, core: kc.makeApiClient(CoreV1Api), logger: log })
  return {
    events, logs,
    reconciler: createReconciler({
      kc, caches, kube, deployer: createDeployer(kc, kube), recorder: recorder ?? { record: async (_o, type, reason) => { events.push({ type, reason }) } }, telemetry: createControllerMetrics(), hooks, log,
      analysis: { getSecret: (namespace, name) => hooks.secretData(namespace, name) },
      minIntervalMs: 1000, now, schedule: schedule ?? (() => undefined),
      ...(stepEvents !== undefined && { stepEvents }),
    }),
  }
}

/** sluice's own caches of `ns`, synced, stopped at the test's end. */
export async function startedCaches(t: TestLike, ns: string): Promise<{ kc: KubeConfig; caches: Caches }> {
  const kc = sluiceKubeConfig()
  const caches = createCaches(kc, pino({ level: 'silent' }), ns)
  await caches.start()
  t.teardown(() => { caches.stop() })
  return { kc, caches }
}

/** A new revision of the target (a pod-template annotation), as a user's apply would make it. */
export async function newRevision(ns: string, revision = '2'): Promise<void> {
  await apps.patchNamespacedDeployment({ namespace: ns, name: NAME, body: [
    { op: 'add', path: '/spec/template/metadata/annotations', value: { 'example.com/revision': revision } },
  ] }, setHeaderOptions('Content-Type', PatchStrategy.JsonPatch))
}
