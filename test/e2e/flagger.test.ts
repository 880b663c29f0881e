// Coming from Flagger: the Canary of Flagger's NGINX tutorial (docs/gitbook/tutorials/nginx-progressive-delivery.md),
// with its Deployment, HorizontalPodAutoscaler and Ingress, moved to sluice by changing only its apiVersion, then a
// new image promoted through the whole analysis. Its webhooks point at http://flagger-loadtester.test/, which does
// not resolve here: the URLs are kept, and the controller reaches them through Node's env proxy support, whose
// proxy is a stand-in for the load tester that records every call and answers 200. The same Canary written
// with canaryAnalysis (Flagger's old name of analysis) runs too.
import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { Socket } from 'node:net'
import t, { type Test } from 'tap'
import { stringify } from 'yaml'
import type { Canary } from '../../src/api/types.ts'
import { kubectlOk, sluiceKubeconfigPath } from '../helpers/kube.ts'
import { until } from '../helpers/wait.ts'
import { apply, canaryWeightAnnotation, canaryWeights, IMAGE_V1, IMAGE_V2 } from './apps.ts'
import { canary, deployment, eventsOf, phase, sharedEnvironment, testNamespace } from './env.ts'

const shared = await sharedEnvironment()
t.teardown(() => shared.stop())

interface HookCall {
  /** The host the controller asked the proxy to reach (CONNECT), and the Host header of the request. */
  readonly tunnel: string
  readonly host: string
  readonly method: string
  readonly path: string
  readonly body: Record<string, unknown>
}

/**
 * The load tester's stand-in, as the HTTP proxy of the controller: undici tunnels even http:// through CONNECT,
 * so the tunnel's socket is handed back to this same server, which then sees the hook's own request.
 */
async function loadTester(): Promise<{ port: number; calls: HookCall[]; close(): Promise<void> }> {
  const calls: HookCall[] = []
  const tunnels = new WeakMap<Socket, string>()
  const server: Server = createServer((req: IncomingMessage, res) => {
    let text = ''
    req.setEncoding('utf8').on('data', (d: string) => { text += d }).on('end', () => {
      let body: Record<string, unknown> = {}
      try { body = JSON.parse(text) as Record<string, unknown> } catch { /* recorded as empty: the assertions say so */ }
      calls.push({ tunnel: tunnels.get(req.socket) ?? '', host: req.headers.host ?? '', method: req.method ?? '', path: req.url ?? '', body })
      res.writeHead(200, { 'Content-Type': 'text/plain' }).end('ok')
    })
  })
  server.on('connect', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    tunnels.set(socket, req.url ?? '')
    socket.write('HTTP/1.1 200 Connection Established\r\n\r\n')
    if (head.length > 0) socket.unshift(head)
    server.emit('connection', socket)
  })
  await new Promise<void>(res => server.listen(0, '127.0.0.1', res))
  const port = (server.address() as { port: number }).port
  return {
    port, calls,
    async close() {
      const closed = new Promise<void>(res => server.close(() => res()))
      server.closeAllConnections()
      await closed
    },
  }
}

// Flagger's kustomize/podinfo, reduced to what the simulated cluster runs: the Deployment and its HPA.
function podinfoYaml(ns: string): string {
  return [
    {
      apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'podinfo', namespace: ns, labels: { app: 'podinfo' } },
      spec: {
        minReadySeconds: 3, revisionHistoryLimit: 5, progressDeadlineSeconds: 60,
        strategy: { rollingUpdate: { maxUnavailable: 0 }, type: 'RollingUpdate' },
        selector: { matchLabels: { app: 'podinfo' } },
        template: {
          metadata: { labels: { app: 'podinfo' } },
          spec: { containers: [{ name: 'podinfod', image: IMAGE_V1, ports: [{ name: 'http', containerPort: 9898, protocol: 'TCP' }] }] },
        },
      },
    },
    {
      apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', metadata: { name: 'podinfo', namespace: ns },
      spec: {
        scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'podinfo' }, minReplicas: 2, maxReplicas: 4,
        metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 99 } } }],
      },
    },
  ].map(o => stringify(o)).join('---\n')
}

// The tutorial's Ingress, as written there (the class by annotation, the apex Service on port 80).
function ingressYaml(ns: string): string {
  return stringify({
    apiVersion: 'networking.k8s.io/v1', kind: 'Ingress',
    metadata: { name: 'podinfo', namespace: ns, labels: { app: 'podinfo' }, annotations: { 'kubernetes.io/ingress.class': 'nginx' } },
    spec: { rules: [{ host: 'app.example.com', http: { paths: [
      { pathType: 'Prefix', path: '/', backend: { service: { name: 'podinfo', port: { number: 80 } } } },
    ] } }] },
  })
}

// The tutorial's Canary. Changed: apiVersion (flagger.app/v1beta1 → sluice.dev/v1beta1), the only change a user
// makes; and, for test speed only, analysis.interval 10s → 2s (the e2e controller honours intervals from 1s).
// The request-duration check is the one Flagger's analysis docs pair with request-success-rate.
function flaggerCanaryYaml(ns: string): string {
  return `
apiVersion: sluice.dev/v1beta1
kind: Canary
metadata:
  name: podinfo
  namespace: ${ns}
spec:
  provider: nginx
  # deployment reference
  targetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: podinfo
  # ingress reference
  ingressRef:
    apiVersion: networking.k8s.io/v1
    kind: Ingress
    name: podinfo
  # HPA reference (optional)
  autoscalerRef:
    apiVersion: autoscaling/v2
    kind: HorizontalPodAutoscaler
    name: podinfo
  # the maximum time in seconds for the canary deployment
  # to make progress before it is rollback (default 600s)
  progressDeadlineSeconds: 60
  service:
    # ClusterIP port number
    port: 80
    # container port number or name
    targetPort: 9898
  analysis:
    # schedule interval (default 60s); the tutorial says 10s, shortened for test speed
    interval: 2s
    # max number of failed metric checks before rollback
    threshold: 10
    # max traffic percentage routed to canary
    # percentage (0-100)
    maxWeight: 50
    # canary increment step
    # percentage (0-100)
    stepWeight: 5
    # NGINX Prometheus checks
    metrics:
    - name: request-success-rate
      # minimum req success rate (non 5xx responses)
      # percentage (0-100)
      thresholdRange:
        min: 99
      interval: 1m
    - name: request-duration
      # maximum req duration P99
      # milliseconds
      thresholdRange:
        max: 500
      interval: 30s
    # testing (optional)
    webhooks:
      - name: acceptance-test
        type: pre-rollout
        url: http://flagger-loadtester.test/
        timeout: 30s
        metadata:
          type: bash
          cmd: "curl -sd 'test' http://podinfo-canary/token | grep token"
      - name: load-test
        url: http://flagger-loadtester.test/
        timeout: 5s
        metadata:
          cmd: "hey -z 1m -q 10 -c 2 http://app.example.com/"
`
}

interface Release {
  readonly ns: string
  readonly weights: string[]
  readonly calls: HookCall[]
  readonly done: Canary
}

/** Applies the app and `canaryYaml`, waits for Initialized, sets a new image as the tutorial does, and waits for Succeeded. */
async function release(t: Test, canaryYaml: (ns: string) => string): Promise<Release> {
  const tester = await loadTester()
  t.teardown(() => tester.close())
  const { ns } = await testNamespace(t, {
    metricsServer: shared.prometheus.url,
    // Node 24's env proxy support: the hooks go to the stand-in, the API server and Prometheus stay direct.
    env: { NODE_USE_ENV_PROXY: '1', HTTP_PROXY: `http://127.0.0.1:${tester.port}`, NO_PROXY: '127.0.0.1,localhost' },
  })
  await apply(podinfoYaml(ns))
  await apply(ingressYaml(ns))
  await apply(canaryYaml(ns))
  await phase(ns, 'podinfo', 'Initialized', 120_000)
  await until(() => deployment(ns, 'podinfo'), d => d?.spec?.replicas === 0, 'the target scaled to 0 behind podinfo-primary', 60_000)
  t.equal(tester.calls.length, 0, 'no hook runs for the first deployment')
  const weights = await canaryWeights(ns)
  await kubectlOk(['-n', ns, 'set', 'image', 'deployment/podinfo', `podinfod=${IMAGE_V2}`])
  const done = await phase(ns, 'podinfo', 'Succeeded', 240_000, 'Failed')
  return { ns, weights: await weights.stop(), calls: tester.calls, done }
}

const STEPS = ['0', '5', '10', '15', '20', '25', '30', '35', '40', '45', '50', '0']

t.test('the Canary of Flagger\'s nginx tutorial, with only its apiVersion changed, promotes a new image through the whole analysis', async t => {
  const { ns, weights, calls, done } = await release(t, flaggerCanaryYaml)
  t.same(weights, STEPS, 'stepWeight 5 up to maxWeight 50, then all back to the primary')
  t.equal((await deployment(ns, 'podinfo-primary'))?.spec?.template?.spec?.containers[0]?.image, IMAGE_V2, 'the primary runs the new image')
  await until(() => deployment(ns, 'podinfo'), d => d?.spec?.replicas === 0, 'the canary scaled down', 60_000)
  t.equal(await kubectlOk(['-n', ns, 'get', 'hpa', 'podinfo-primary', '-o', 'jsonpath={.spec.scaleTargetRef.name}']), 'podinfo-primary',
    'the autoscalerRef HPA is followed by podinfo-primary')
  const checks = done.status?.checks ?? []
  t.ok(checks.some(c => c.name === 'request-success-rate' && c.verdict === 'pass' && c.value !== null), 'request-success-rate was measured and passed')
  t.ok(checks.some(c => c.name === 'request-duration' && c.verdict === 'pass' && c.value !== null), 'request-duration was measured and passed')

  const byCmd = (cmd: string): HookCall[] => calls.filter(c => (c.body.metadata as Record<string, string> | undefined)?.cmd === cmd)
  const acceptance = byCmd("curl -sd 'test' http://podinfo-canary/token | grep token")
  const load = byCmd('hey -z 1m -q 10 -c 2 http://app.example.com/')
  t.ok(acceptance.length >= 1, `the acceptance-test (pre-rollout) hook was called (calls: ${calls.length})`)
  t.ok(load.length >= 10, `the load-test (rollout) hook was called on every analysed step (got ${load.length})`)
  const checksum = acceptance[0]?.body.checksum
  for (const [hook, hookCalls, metadata] of [
    ['acceptance-test', acceptance, { type: 'bash', cmd: "curl -sd 'test' http://podinfo-canary/token | grep token" }],
    ['load-test', load, { cmd: 'hey -z 1m -q 10 -c 2 http://app.example.com/' }],
  ] as const) {
    const call = hookCalls[0]
    t.same(call && { tunnel: call.tunnel, host: call.host, method: call.method, path: call.path }, {
      tunnel: 'flagger-loadtester.test:80', host: 'flagger-loadtester.test', method: 'POST', path: '/',
    }, `${hook}: POST to the URL as written`)
    t.same(Object.keys(call?.body ?? {}).sort(), ['checksum', 'metadata', 'name', 'namespace', 'phase'], `${hook}: Flagger's payload fields`)
    t.match(call?.body, { name: 'podinfo', namespace: ns, phase: 'Progressing', checksum: /^[0-9a-f]+$/, metadata }, `${hook}: the Canary, its phase and the hook's metadata`)
    t.ok(hookCalls.every(c => c.body.checksum === checksum), `${hook}: one checksum for the whole rollout`)
  }
  t.match((await eventsOf(ns, 'Canary', 'podinfo')).join('\n'), /Promoted: Promotion completed!/)
})

t.test('the same Canary written with canaryAnalysis, Flagger\'s old name of analysis, is kept by the API server and run', async t => {
  const old = (ns: string): string => flaggerCanaryYaml(ns).replace('\n  analysis:\n', '\n  canaryAnalysis:\n')
  t.match(old('x'), /\n {2}canaryAnalysis:\n/, 'the fixture uses the old name')
  const { ns, weights, calls } = await release(t, old)
  const stored = await canary(ns, 'podinfo')
  t.ok(stored?.spec.canaryAnalysis && stored.spec.analysis === undefined, 'stored as written: not pruned, not renamed')
  t.same(weights, STEPS, 'the steps of canaryAnalysis')
  t.ok(calls.some(c => c.body.phase === 'Progressing'), 'its webhooks were called')
})

t.test('without spec.provider the Canary gets the controller\'s --default-provider, as Flagger\'s gets -mesh-provider', async t => {
  // The tutorial installs Flagger with meshProvider=nginx; here the Canary leaves spec.provider out.
  const { ns } = await testNamespace(t, { metricsServer: shared.prometheus.url, extraArgs: ['--default-provider', 'nginx'] })
  await apply(podinfoYaml(ns))
  await apply(ingressYaml(ns))
  // The webhook and the controller of an install share --default-provider (one Deployment's args); the tests'
  // shared webhook runs with the default, so this Canary is written as sluice's own user, which it lets through.
  await kubectlOk(['apply', '-f', '-'], flaggerCanaryYaml(ns).replace('\n  provider: nginx\n', '\n'), sluiceKubeconfigPath())
  t.equal((await canary(ns, 'podinfo'))?.spec.provider, undefined, 'stored without a provider')
  await phase(ns, 'podinfo', 'Initialized', 120_000)
  t.equal(await canaryWeightAnnotation(ns), '0', 'the nginx router made the canary Ingress podinfo-canary, at weight 0')
})
