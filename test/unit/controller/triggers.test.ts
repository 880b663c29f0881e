// Which Deployment changes send the generator to look again: only what resolve() reads (metadata), not a
// rollout's status updates nor a template change (those wake the Canary's own reconcile instead).
import t from 'tap'
import type {
  V1Deployment, V1Ingress, V1Namespace, V1Service, V2HorizontalPodAutoscaler,
} from '@kubernetes/client-node'
import { MANAGED_BY_LABEL, MANAGED_BY_VALUE } from '../../../src/api/resolve.ts'
import type { AlertProvider, Canary, DeliveryPolicy, MetricTemplate } from '../../../src/api/types.ts'
import type { Caches, ConfigSummary } from '../../../src/controller/caches.ts'
import { generatorInputs, keyOf, splitKey, wireTriggers } from '../../../src/controller/triggers.ts'
import type { Handler, Informer, InformerEvent } from '../../../src/kube/informer.ts'

const deployment = (): V1Deployment => ({
  apiVersion: 'apps/v1', kind: 'Deployment',
  metadata: {
    name: 'podinfo', namespace: 'shop', uid: 'u-1', generation: 3, resourceVersion: '100',
    labels: { app: 'podinfo' }, annotations: { 'sluice.dev/strategy': 'canary', 'sluice.dev/analysis': 'interval: 1m' },
  },
  spec: { replicas: 2, selector: { matchLabels: { app: 'podinfo' } }, template: { metadata: { labels: { app: 'podinfo' } }, spec: { containers: [{ name: 'app', image: 'podinfo:6.0.0' }] } } },
  status: { replicas: 2, readyReplicas: 2, observedGeneration: 3 },
})

t.test('a status update, a new resourceVersion or a new template leave the inputs as they were', async t => {
  const before = generatorInputs(deployment())
  const status = deployment()
  status.metadata = { ...status.metadata, resourceVersion: '101' }
  status.status = { replicas: 3, readyReplicas: 1, observedGeneration: 4, updatedReplicas: 1 }
  t.equal(generatorInputs(status), before, 'status')
  const template = deployment()
  template.metadata = { ...template.metadata, generation: 4 }
  template.spec!.template.spec!.containers[0]!.image = 'podinfo:6.0.1'
  t.equal(generatorInputs(template), before, 'template')
  const others = deployment()
  others.metadata!.annotations = { ...others.metadata!.annotations, 'deployment.kubernetes.io/revision': '7', 'kubectl.kubernetes.io/last-applied-configuration': '{}', 'status.sluice.dev/revision': 'abc' }
  t.equal(generatorInputs(others), before, "annotations others write on every rollout, and sluice's state")
})

t.test('annotations, labels, a new object of the same name and a deletion change them', async t => {
  const before = generatorInputs(deployment())
  const changes: [string, (d: V1Deployment) => void][] = [
    ['an annotation', d => { d.metadata!.annotations!['sluice.dev/analysis'] = 'interval: 2m' }],
    ['an annotation removed', d => { delete d.metadata!.annotations!['sluice.dev/strategy'] }],
    ['a label (policies select by labels)', d => { d.metadata!.labels!.tier = 'web' }],
    ['another uid', d => { d.metadata!.uid = 'u-2' }],
    ['a deletion', d => { d.metadata!.deletionTimestamp = new Date() }],
  ]
  for (const [what, change] of changes) {
    const d = deployment()
    change(d)
    t.not(generatorInputs(d), before, what)
  }
})

t.test('work keys split back into kind, namespace and name', async t => {
  t.same(splitKey(keyOf('d', 'shop', 'podinfo')), { kind: 'd', namespace: 'shop', name: 'podinfo' })
  t.same(splitKey(keyOf('c', 'shop', 'a/b')), { kind: 'c', namespace: 'shop', name: 'a/b' })
})

/** An in-memory Informer (sluice's own interface): what the handlers see, without a cluster. */
// Typed by src/api (timestamps as strings) or by client-node's models: only name and namespace are read.
function memoryInformer<T extends { metadata?: { name?: string; namespace?: string } }>() {
  const objects = new Map<string, T>()
  const handlers: Handler<T>[] = []
  const key = (o: T): string => `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`
  const informer: Informer<T> = {
    synced: true,
    start: () => Promise.resolve(),
    stop: () => undefined,
    on: h => { handlers.push(h) },
    get: (name, namespace) => objects.get(`${namespace ?? ''}/${name}`),
    list: namespace => [...objects.values()].filter(o => namespace === undefined || o.metadata?.namespace === namespace),
  }
  const emit = (o: T, event: InformerEvent): void => {
    if (event === 'delete') objects.delete(key(o))
    else objects.set(key(o), o)
    for (const h of handlers) h(o, event)
  }
  return { informer, emit }
}

function wired() {
  const all = {
    deployments: memoryInformer<V1Deployment>(), canaries: memoryInformer<Canary>(), configMaps: memoryInformer<ConfigSummary>(),
    secrets: memoryInformer<ConfigSummary>(), autoscalers: memoryInformer<V2HorizontalPodAutoscaler>(), policies: memoryInformer<DeliveryPolicy>(),
    namespaces: memoryInformer<V1Namespace>(), templates: memoryInformer<MetricTemplate>(), alertProviders: memoryInformer<AlertProvider>(),
    services: memoryInformer<V1Service>(), ingresses: memoryInformer<V1Ingress>(),
  }
  const caches = {
    ...Object.fromEntries(Object.entries(all).map(([k, v]) => [k, v.informer])),
    start: () => Promise.resolve(), stop: () => undefined,
  } as unknown as Caches
  const keys: string[] = []
  const routine = new Set<number>()
  wireTriggers(caches, (k, lane) => { if (lane === 'routine') routine.add(keys.length); keys.push(k) }, undefined)
  return {
    ...all, keys, take: (): string[] => { routine.clear(); return keys.splice(0) },
    /** The keys since the last take, each with its lane. */
    takeLanes: (): string[] => { const out = keys.splice(0).map((k, i) => `${k} ${routine.has(i) ? 'routine' : 'urgent'}`); routine.clear(); return out },
  }
}

const generatedCanary = (): Canary => ({
  apiVersion: 'sluice.dev/v1beta1', kind: 'Canary',
  metadata: {
    name: 'podinfo', namespace: 'shop', uid: 'c-1', generation: 1, resourceVersion: '7', labels: { [MANAGED_BY_LABEL]: MANAGED_BY_VALUE },
    ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'podinfo', uid: 'u-1', controller: true }],
  },
  spec: { targetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'podinfo' }, service: { port: 9898 } },
})

t.test("a rollout's status updates wake the Canary in the routine lane, not the generator; a new spec or metadata wakes it in the urgent lane", async t => {
  const w = wired()
  w.canaries.emit(generatedCanary(), 'add')
  w.take()
  w.deployments.emit(deployment(), 'add')
  t.same(w.takeLanes(), ['d:shop/podinfo urgent', 'c:shop/podinfo urgent'], 'a new Deployment: the generator and its Canary')
  const scaled = deployment()
  scaled.metadata!.resourceVersion = '101'
  scaled.status = { replicas: 3, readyReplicas: 1 }
  w.deployments.emit(scaled, 'update')
  t.same(w.takeLanes(), ['c:shop/podinfo routine'], 'a status update: the Canary only, behind new revisions')
  const revision = deployment()
  revision.metadata!.generation = 4
  revision.spec!.template.spec!.containers[0]!.image = 'podinfo:6.0.1'
  w.deployments.emit(revision, 'update')
  t.same(w.takeLanes(), ['c:shop/podinfo urgent'], 'a new template (a new generation): the Canary, first')
  const annotated = { ...revision, metadata: { ...revision.metadata, annotations: { ...revision.metadata!.annotations, 'sluice.dev/analysis': 'interval: 2m' } } }
  w.deployments.emit(annotated, 'update')
  t.same(w.takeLanes(), ['d:shop/podinfo urgent', 'c:shop/podinfo urgent'], 'new annotations: the generator too')
  const recorded = { ...annotated, metadata: { ...annotated.metadata, annotations: { ...annotated.metadata.annotations, 'status.sluice.dev/revision': 'abc' } } }
  w.deployments.emit(recorded, 'update')
  t.same(w.takeLanes(), ['c:shop/podinfo urgent'], "the webhook's record of a new revision: the Canary, first")
  const rolled = { ...recorded, metadata: { ...recorded.metadata, annotations: { ...recorded.metadata.annotations, 'deployment.kubernetes.io/revision': '2' } } }
  w.deployments.emit(rolled, 'update')
  t.same(w.takeLanes(), ['c:shop/podinfo routine'], "the deployment controller's revision annotation")
  const scaledBySluice = { ...rolled, metadata: { ...rolled.metadata, generation: 5 }, spec: { ...rolled.spec!, replicas: 0 } }
  w.deployments.emit(scaledBySluice, 'update')
  t.same(w.takeLanes(), ['c:shop/podinfo routine'], 'a new replica count alone (sluice scaling the target)')
  const primary: V1Deployment = { ...deployment(), metadata: { ...deployment().metadata, name: 'podinfo-primary', labels: { [MANAGED_BY_LABEL]: MANAGED_BY_VALUE } } }
  w.deployments.emit(primary, 'add')
  w.deployments.emit({ ...primary, status: { readyReplicas: 2 } }, 'update')
  w.deployments.emit({ ...primary, metadata: { ...primary.metadata, generation: 9 } }, 'update')
  t.same(w.takeLanes(), ['c:shop/podinfo urgent', 'c:shop/podinfo routine', 'c:shop/podinfo urgent'], 'the primary: created, ready, promoted to a new template')
  w.deployments.emit(annotated, 'delete')
  w.deployments.emit(annotated, 'add')
  t.same(w.takeLanes(), ['c:shop/podinfo urgent', 'd:shop/podinfo urgent', 'c:shop/podinfo urgent'], 'deleted and created again: the generator looks again')
})

t.test("the Canary's own status writes wake nothing; a generated Canary changed or deleted past the guard wakes the generator", async t => {
  const w = wired()
  w.canaries.emit(generatedCanary(), 'add')
  t.same(w.take(), ['c:shop/podinfo', 'd:shop/podinfo'])
  const written = { ...generatedCanary(), metadata: { ...generatedCanary().metadata, resourceVersion: '8' }, status: { phase: 'Progressing' as const } }
  w.canaries.emit(written, 'update')
  t.same(w.take(), [], 'a status write (same generation, annotations, finalizers)')
  const edited = { ...written, metadata: { ...written.metadata, generation: 2 } }
  w.canaries.emit(edited, 'update')
  t.same(w.take(), ['c:shop/podinfo', 'd:shop/podinfo'], 'a spec change')
  w.canaries.emit(edited, 'delete')
  t.same(w.take(), ['c:shop/podinfo', 'd:shop/podinfo'], 'deleted')
  const userCanary: Canary = { ...generatedCanary(), metadata: { name: 'mine', namespace: 'shop', uid: 'c-2', generation: 1 } }
  w.canaries.emit(userCanary, 'add')
  t.same(w.take(), ['c:shop/mine'], "a user's Canary: no generator")
})

t.test('a namespace change wakes the generator of every Deployment in it (policies select by its labels)', async t => {
  const w = wired()
  w.deployments.emit(deployment(), 'add')
  const other = deployment()
  other.metadata = { ...other.metadata, namespace: 'other' }
  w.deployments.emit(other, 'add')
  w.take()
  w.namespaces.emit({ metadata: { name: 'shop', labels: { tier: 'gold' } } }, 'update')
  t.same(w.take(), ['d:shop/podinfo'])
})

t.test("a Deployment's events wake the Canaries that target it or its primary, and follow a new targetRef", async t => {
  const w = wired()
  const canaryOf = (name: string, target: string, generation: number): Canary =>
    ({ ...generatedCanary(), metadata: { name, namespace: 'shop', uid: `c-${name}`, generation }, spec: { ...generatedCanary().spec, targetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: target } } })
  const deploymentNamed = (name: string, namespace = 'shop'): V1Deployment => ({ ...deployment(), metadata: { ...deployment().metadata, name, namespace, labels: { [MANAGED_BY_LABEL]: MANAGED_BY_VALUE } } })
  w.canaries.emit(canaryOf('a', 'podinfo', 1), 'add')
  w.canaries.emit(canaryOf('b', 'backend', 1), 'add')
  w.take()
  w.deployments.emit(deploymentNamed('podinfo-primary'), 'update')
  t.same(w.take(), ['c:shop/a'], 'the primary wakes its Canary only')
  w.deployments.emit(deploymentNamed('backend'), 'update')
  t.same(w.take(), ['c:shop/b'], 'the target wakes its Canary only')
  w.deployments.emit(deploymentNamed('podinfo', 'other'), 'update')
  t.same(w.take(), [], 'a Deployment of the same name in another namespace wakes none')
  w.canaries.emit(canaryOf('a', 'frontend', 2), 'update')
  w.take()
  w.deployments.emit(deploymentNamed('podinfo-primary'), 'update')
  t.same(w.take(), [], 'the old target no longer wakes it')
  w.deployments.emit(deploymentNamed('frontend'), 'update')
  t.same(w.take(), ['c:shop/a'], 'its new target does')
  w.canaries.emit(canaryOf('c', 'frontend', 1), 'add')
  w.take()
  w.deployments.emit(deploymentNamed('frontend-primary'), 'update')
  t.same(w.take(), ['c:shop/a', 'c:shop/c'], 'two Canaries of one target, both')
  w.canaries.emit(canaryOf('a', 'frontend', 2), 'delete')
  w.take()
  w.deployments.emit(deploymentNamed('frontend'), 'update')
  t.same(w.take(), ['c:shop/c'], 'a deleted Canary is woken no more')
})

