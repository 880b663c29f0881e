import t from 'tap'
import type { V1Deployment, V1Ingress, V1Pod, V1Service } from '@kubernetes/client-node'
import type { Canary } from '../../../src/api/types.ts'
import { canary, deployment } from '../../helpers/objects.ts'
import {
  appInputs, behaviourOf, deploymentOfPod, indexPods, isApp, podReady, routingOf, type ClusterView,
} from '../../simulator/apps.ts'

function pod(deploymentName: string, suffix: string, ready = true, deleting = false): V1Pod {
  return {
    metadata: {
      name: `${deploymentName}-7f8b6c4d9-${suffix}`, namespace: 'shop', labels: { 'pod-template-hash': '7f8b6c4d9' },
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: `${deploymentName}-7f8b6c4d9`, uid: 'u', controller: true }],
      ...(deleting && { deletionTimestamp: new Date() }),
    },
    status: { conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] },
  }
}

const NGINX_SPEC = 'ingressRef: {apiVersion: networking.k8s.io/v1, kind: Ingress, name: web}\n'

interface World {
  deployments?: V1Deployment[]; canaries?: Canary[]; ingresses?: V1Ingress[]; services?: V1Service[]
  routes?: { metadata: { name: string }; spec: unknown }[]; virtualServices?: { metadata: { name: string }; spec: unknown }[]; pods?: V1Pod[]
  traefikServices?: { metadata: { name: string }; spec: unknown }[]
  httpProxies?: { metadata: { name: string }; spec: unknown }[]
  trafficSplits?: { metadata: { name: string }; spec: unknown }[]
}

function view(w: World): ClusterView {
  const byName = <T extends { metadata?: { name?: string } }>(list: T[] | undefined, name: string): T | undefined => list?.find(o => o.metadata?.name === name)
  const pods = indexPods(w.pods ?? [])
  return {
    deployments: () => w.deployments ?? [],
    deployment: (_ns, name) => byName(w.deployments, name),
    canaries: () => w.canaries ?? [],
    ingress: (_ns, name) => byName(w.ingresses, name),
    service: (_ns, name) => byName(w.services, name),
    httpRoute: (_ns, name) => byName(w.routes, name),
    virtualService: (_ns, name) => byName(w.virtualServices, name),
    traefikService: (_ns, name) => byName(w.traefikServices, name),
    httpProxy: (_ns, name) => byName(w.httpProxies, name),
    trafficSplit: (_ns, name) => byName(w.trafficSplits, name),
    pods: (ns, name) => pods.get(`${ns}/${name}`) ?? [],
  }
}

t.test('apps are the opted-in Deployments sluice did not generate', async t => {
  t.ok(isApp(deployment({ metadata: { annotations: { 'sluice.dev/strategy': 'canary' } } })))
  t.notOk(isApp(deployment()))
  t.notOk(isApp(deployment({ metadata: { name: 'podinfo-primary', annotations: { 'sluice.dev/strategy': 'canary' }, labels: { 'app.kubernetes.io/managed-by': 'sluice' } } })))
})

t.test('routing: the Canary object wins; without one, the annotations as resolved', async t => {
  const d = deployment({ metadata: { annotations: { 'sluice.dev/strategy': 'canary', 'sluice.dev/provider': 'nginx', 'sluice.dev/port': '9898', 'sluice.dev/spec': NGINX_SPEC } } })
  t.same(routingOf(d, undefined), { provider: 'nginx', service: 'podinfo', ingress: 'web', port: 9898 })
  t.same(routingOf(d, canary({ spec: { provider: 'gatewayapi', service: { port: 80, name: 'front' } } })), { provider: 'gatewayapi', service: 'front', port: 80 })
  t.same(routingOf(deployment({ metadata: { name: 'plain', annotations: { 'sluice.dev/strategy': 'canary' } } }), undefined), { provider: 'kubernetes', service: 'plain' }, 'kubernetes by default')
})

t.test('behaviour from the pod template annotations, with defaults', async t => {
  t.same(behaviourOf(deployment({ metadata: { name: 'a' } })), { errorRate: 0, latencySeconds: 0.005 })
  t.same(behaviourOf(deployment({ metadata: { name: 'a' }, spec: { template: { metadata: { annotations: { 'simulator.sluice.dev/error-rate': '0.25', 'simulator.sluice.dev/latency-ms': '120' } } } } })), { errorRate: 0.25, latencySeconds: 0.12 })
  t.same(behaviourOf(deployment({ metadata: { name: 'a' }, spec: { template: { metadata: { annotations: { 'simulator.sluice.dev/error-rate': '3', 'simulator.sluice.dev/latency-ms': 'slow' } } } } })), { errorRate: 1, latencySeconds: 0.005 }, 'clamped; invalid is the default')
  t.same(behaviourOf(undefined), { errorRate: 0, latencySeconds: 0.005 }, 'no Deployment')
})

t.test('pods: owner by the ReplicaSet name, readiness from the Ready condition', async t => {
  t.equal(deploymentOfPod(pod('podinfo-primary', 'abcde')), 'podinfo-primary')
  t.equal(deploymentOfPod({ metadata: { name: 'bare' } }), undefined)
  t.ok(podReady(pod('podinfo', 'abcde')))
  t.notOk(podReady(pod('podinfo', 'abcde', false)))
  t.notOk(podReady(pod('podinfo', 'abcde', true, true)), 'a terminating pod does not serve')
  const index = indexPods([pod('podinfo', 'a'), pod('podinfo-primary', 'b'), pod('podinfo', 'c')])
  t.same([...index.keys()], ['shop/podinfo', 'shop/podinfo-primary'])
  t.equal(index.get('shop/podinfo')?.length, 2)
})

t.test('appInputs: nginx app with its canary Ingress, sides, pods and behaviour', async t => {
  const target = deployment({
    metadata: { annotations: { 'sluice.dev/strategy': 'canary', 'sluice.dev/provider': 'nginx', 'sluice.dev/port': '9898', 'sluice.dev/spec': NGINX_SPEC } },
    spec: { template: { metadata: { annotations: { 'simulator.sluice.dev/error-rate': '0.5' } } } },
  })
  const inputs = appInputs(view({
    deployments: [target, deployment({ metadata: { name: 'podinfo-primary', labels: { 'app.kubernetes.io/managed-by': 'sluice' } }, spec: { template: { metadata: { annotations: { 'simulator.sluice.dev/latency-ms': '20' } } } } }), deployment({ metadata: { name: 'other' } })],
    ingresses: [{ metadata: { name: 'web-canary', annotations: { 'nginx.ingress.kubernetes.io/canary': 'true', 'nginx.ingress.kubernetes.io/canary-weight': '50' } } }],
    pods: [pod('podinfo', 'a'), pod('podinfo-primary', 'b'), pod('podinfo-primary', 'c', false)],
  }))
  t.equal(inputs.length, 1)
  t.same(inputs[0], {
    namespace: 'shop', name: 'podinfo', canaryShare: 0.5,
    primary: { pods: [{ name: 'podinfo-primary-7f8b6c4d9-b', ready: true }, { name: 'podinfo-primary-7f8b6c4d9-c', ready: false }], errorRate: 0, latencySeconds: 0.02 },
    canary: { pods: [{ name: 'podinfo-7f8b6c4d9-a', ready: true }], errorRate: 0.5, latencySeconds: 0.005 },
    nginx: { ingress: 'web', canaryService: 'podinfo-canary' },
  })
})

t.test('appInputs: gatewayapi reads the HTTPRoute named after the Service; kubernetes the apex selector', async t => {
  const gw = deployment({ metadata: { name: 'front', annotations: { 'sluice.dev/strategy': 'canary' } } })
  const bg = deployment({ metadata: { name: 'back', annotations: { 'sluice.dev/strategy': 'blue-green' } } })
  const inputs = appInputs(view({
    deployments: [gw, bg],
    canaries: [canary({ metadata: { name: 'front' }, spec: { provider: 'gatewayapi', service: { port: 80, name: 'www' } } })],
    routes: [{ metadata: { name: 'www' }, spec: { rules: [{ backendRefs: [{ name: 'www-primary', weight: 70 }, { name: 'www-canary', weight: 30 }] }] } }],
    services: [{ metadata: { name: 'back' }, spec: { selector: { app: 'back' } } }],
  }))
  t.same(inputs.map(i => [i.name, i.canaryShare, i.nginx]), [['front', 0.3, undefined], ['back', 1, undefined]])
})

t.test('appInputs: istio reads the VirtualService named after the Service, and marks the app for istio\'s metrics', async t => {
  const app = deployment({ metadata: { name: 'front', annotations: { 'sluice.dev/strategy': 'canary' } } })
  const route = (host: string, weight: number): unknown => ({ destination: { host, port: { number: 80 } }, weight })
  const inputs = appInputs(view({
    deployments: [app],
    canaries: [canary({ metadata: { name: 'front' }, spec: { provider: 'istio', service: { port: 80, name: 'www' } } })],
    virtualServices: [{ metadata: { name: 'www' }, spec: { http: [{ route: [route('www-primary', 60), route('www-canary', 40)] }] } }],
  }))
  t.same(inputs.map(i => [i.name, i.canaryShare, i.istio, i.nginx]), [['front', 0.4, true, undefined]])
  t.same(appInputs(view({ deployments: [app], canaries: [canary({ metadata: { name: 'front' }, spec: { provider: 'istio', service: { port: 80, name: 'www' } } })] }))
    .map(i => i.canaryShare), [0], 'no VirtualService yet: all to the primary')
  const mirrored = appInputs(view({
    deployments: [app],
    canaries: [canary({ metadata: { name: 'front' }, spec: { provider: 'istio', service: { port: 80, name: 'www' } } })],
    virtualServices: [{ metadata: { name: 'www' }, spec: { http: [{
      route: [route('www-primary', 100), route('www-canary', 0)], mirror: { host: 'www-canary', port: { number: 80 } }, mirrorPercentage: { value: 25 },
    }] } }],
  }))
  t.same(mirrored.map(i => [i.canaryShare, i.mirrorShare]), [[0, 0.25]], 'mirroring: no routed share, a quarter of the requests copied')
})

t.test('appInputs: linkerd reads the TrafficSplit named after the Service (or its HTTPRoute), and marks the app for linkerd\'s metrics', async t => {
  const app = deployment({ metadata: { name: 'front', annotations: { 'sluice.dev/strategy': 'canary' } } })
  const canaries = [canary({ metadata: { name: 'front' }, spec: { provider: 'linkerd', service: { port: 80, name: 'www' } } })]
  const split = { metadata: { name: 'www' }, spec: { service: 'www', backends: [{ service: 'www-canary', weight: 30 }, { service: 'www-primary', weight: 70 }] } }
  const inputs = appInputs(view({ deployments: [app], canaries, trafficSplits: [split] }))
  t.same(inputs.map(i => [i.name, i.canaryShare, i.linkerd, i.istio]), [['front', 0.3, true, undefined]])
  const route = { metadata: { name: 'www' }, spec: { rules: [{ backendRefs: [{ name: 'www-primary', weight: 40 }, { name: 'www-canary', weight: 60 }] }] } }
  t.same(appInputs(view({ deployments: [app], canaries, routes: [route] })).map(i => i.canaryShare), [0.6], 'the HTTPRoute of the Gateway API path')
  t.same(appInputs(view({ deployments: [app], canaries })).map(i => i.canaryShare), [0], 'no TrafficSplit yet: all to the primary')
})

t.test('appInputs: traefik reads the TraefikService named after the Service, and labels each side as Traefik names its Service', async t => {
  const app = deployment({ metadata: { name: 'front', annotations: { 'sluice.dev/strategy': 'canary' } } })
  const written = canary({ metadata: { name: 'front' }, spec: { provider: 'traefik', service: { port: 80, name: 'www' } } })
  const inputs = appInputs(view({
    deployments: [app], canaries: [written],
    traefikServices: [{ metadata: { name: 'www' }, spec: { weighted: { services: [{ name: 'www-primary', port: 80, weight: 70 }, { name: 'www-canary', port: 80, weight: 30 }] } } }],
  }))
  t.same(inputs.map(i => [i.name, i.canaryShare, i.traefik, i.istio]), [['front', 0.3, { primary: 'shop-www-primary-80@kubernetescrd', canary: 'shop-www-canary-80@kubernetescrd' }, undefined]])
  t.same(appInputs(view({ deployments: [app], canaries: [written] })).map(i => i.canaryShare), [0], 'no TraefikService yet: all to the primary')
})

t.test('appInputs: the target of a hand-written Canary is an app, without any sluice.dev annotation', async t => {
  const written = canary({ metadata: { name: 'release' }, spec: {
    provider: 'nginx', ingressRef: { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', name: 'web' }, targetRef: { name: 'podinfo' },
  } })
  const inputs = appInputs(view({
    deployments: [deployment(), deployment({ metadata: { name: 'podinfo-primary', labels: { 'app.kubernetes.io/managed-by': 'sluice' } } }), deployment({ metadata: { name: 'bystander' } })],
    canaries: [written],
    ingresses: [{ metadata: { name: 'web-canary', annotations: { 'nginx.ingress.kubernetes.io/canary': 'true', 'nginx.ingress.kubernetes.io/canary-weight': '20' } } }],
  }))
  t.same(inputs.map(i => [i.name, i.canaryShare, i.nginx]), [['podinfo', 0.2, { ingress: 'web', canaryService: 'podinfo-canary' }]],
    'routed by the Canary (whatever its own name); the primary and a Deployment without Canary or annotation are no apps')
})

t.test('appInputs: a generated <app>-primary is never a second app, even when a Canary names it or it carries the annotations', async t => {
  const primary = deployment({ metadata: { name: 'podinfo-primary', annotations: { 'sluice.dev/strategy': 'canary' }, labels: { 'app.kubernetes.io/managed-by': 'sluice' } } })
  const inputs = appInputs(view({
    deployments: [deployment({ metadata: { annotations: { 'sluice.dev/strategy': 'canary' } } }), primary],
    canaries: [canary(), canary({ metadata: { name: 'podinfo-primary' } })],
  }))
  t.same(inputs.map(i => i.name), ['podinfo'])
})

t.test('appInputs: a Flagger <app>-primary (annotations copied, controlled by its Canary, no sluice label) is never a second app', async t => {
  const primary = deployment({ metadata: {
    name: 'podinfo-primary', annotations: { 'sluice.dev/strategy': 'canary' },
    ownerReferences: [{ apiVersion: 'flagger.app/v1beta1', kind: 'Canary', name: 'podinfo', uid: 'u', controller: true }],
  } })
  t.notOk(isApp(primary))
  const flagger = canary({ spec: { provider: 'nginx', ingressRef: { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', name: 'web' } } })
  t.same(appInputs(view({ deployments: [deployment(), primary], canaries: [flagger] })).map(i => i.name), ['podinfo'])
})

t.test('appInputs: Canaries of other kinds of target are not apps', async t => {
  const daemon = canary({ metadata: { name: 'agent' }, spec: { targetRef: { kind: 'DaemonSet' } } })
  t.same(appInputs(view({ deployments: [deployment({ metadata: { name: 'agent' } })], canaries: [daemon] })), [])
})
