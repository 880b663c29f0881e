// `make cluster-up` / `make cluster-down`: a long-lived local cluster for development.
import { parseArgs } from 'node:util'
import { clusterDown, clusterUp, readState } from './cluster.ts'
import { installGatewayApiCrds } from './gateway-api.ts'
import { installIstioCrds } from './istio.ts'
import { installTraefikCrds } from './traefik.ts'
import { installContourCrds } from './contour.ts'
import { installLinkerdCrds } from './linkerd.ts'
import { installLoadTester, installSluice, SLUICE_NAMESPACE } from './install-sluice.ts'
import { startLocalEnvironment, stopLocalEnvironment } from './local-env.ts'
import { startDetachedLoadTester, stopDetachedLoadTester } from './loadtester.ts'
import { freePort } from './process.ts'
import { startSluiceWebhook, stopDetachedWebhook } from './sluice-webhook.ts'

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: { dir: { type: 'string' }, 'bin-dir': { type: 'string' }, sluice: { type: 'boolean' } },
})
const cmd = positionals[0]
const dir = values.dir ?? '.cache/cluster'
const log = (m: string): void => { process.stderr.write(`cluster: ${m}\n`) }

async function main(): Promise<void> {
  if (cmd === 'up') {
    const binDir = values['bin-dir']
    if (!binDir) throw new Error('cluster up: --bin-dir is required (run test/cluster/build-bins.sh)')
    const s = await clusterUp({ dir, binDir, log })
    if (values.sluice) {
      await stopDetachedWebhook(dir)
      await stopDetachedLoadTester(dir)
      const sluice = await installSluice(s)
      // examples/podinfo.yaml routes through Gateway API; the CRDs come from the Go module cache.
      await installGatewayApiCrds(s.kubeconfig)
      // The istio router's VirtualService and DestinationRule, from istio.io/api in the Go module cache.
      await installIstioCrds(s.kubeconfig)
      // The traefik router's TraefikService (and the IngressRoute that routes to it), from Traefik's Go module.
      await installTraefikCrds(s.kubeconfig)
      // The contour router's HTTPProxy, from github.com/projectcontour/contour in the Go module cache.
      await installContourCrds(s.kubeconfig)
      // The linkerd router's TrafficSplit (its HTTPRoute path uses the Gateway API CRDs above): a schema in test/cluster/linkerd.ts.
      await installLinkerdCrds(s.kubeconfig)
      const env = await startLocalEnvironment(s)
      log(`traffic simulator at ${env.simulatorUrl}, Prometheus at ${env.prometheusUrl}`)
      const telemetry = await freePort()
      const serve = await startSluiceWebhook(s, sluice.kubeconfig, [
        `--metrics-server=${env.prometheusUrl}`, `--telemetry-listen=127.0.0.1:${telemetry}`, '--lease-duration=5s',
      ], true, 'serve')
      log(`sluice serve (webhook at ${serve.url}, controller metrics at http://127.0.0.1:${telemetry}/metrics) as ${sluice.username} (log: ${serve.log})`)
      const tester = await startDetachedLoadTester(s, (await installLoadTester(s)).kubeconfig, SLUICE_NAMESPACE)
      log(`sluice loadtester at ${tester.url}, gates in ConfigMap ${SLUICE_NAMESPACE}/sluice-loadtester-gates (log: ${tester.log})`)
    }
    process.stdout.write(`export KUBECONFIG=${s.kubeconfig}\nexport PATH=${binDir}:$PATH\n`)
  } else if (cmd === 'down') {
    const had = readState(dir) !== undefined
    if (await stopDetachedWebhook(dir)) log('stopped sluice')
    if (await stopDetachedLoadTester(dir)) log('stopped the load tester')
    if (await stopLocalEnvironment(dir)) log('stopped the traffic simulator and Prometheus')
    await clusterDown(dir, log)
    log(had ? 'cluster stopped' : 'no cluster running')
  } else {
    throw new Error(`usage: cli.ts up|down [--dir DIR] [--bin-dir DIR] (got ${cmd ?? 'nothing'})`)
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`cluster: ${e instanceof Error ? e.message : String(e)}\n`)
  process.exitCode = 1
})
