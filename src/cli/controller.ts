// `sluice controller`: the reconciler, leader-elected; and the flags it shares with `sluice serve`.
import { parseArgs } from 'node:util'
import type { KubeConfig } from '@kubernetes/client-node'
import type { Logger } from 'pino'
import { runController, type ControllerOptions } from '../controller/run.ts'
import { loadKubeConfig } from '../kube/config.ts'
import { applyDefaultProvider, durationMs, onOff, str, telemetryAddress, type Values } from './flags.ts'
import type { Subcommand } from './subcommand.ts'
import { COMMON_FLAG_HELP, newLogger, untilSignal } from './webhook.ts'

export const CONTROLLER_FLAGS = {
  kubeconfig: { type: 'string' }, namespace: { type: 'string' }, 'default-provider': { type: 'string' },
  'watch-namespace': { type: 'string' }, 'metrics-server': { type: 'string' }, 'telemetry-listen': { type: 'string' },
  'min-interval': { type: 'string' }, concurrency: { type: 'string' }, 'lease-name': { type: 'string' },
  'lease-duration': { type: 'string' }, identity: { type: 'string' }, 'step-events': { type: 'string' },
} as const

export const CONTROLLER_FLAG_HELP = `\\
  --watch-namespace NS     act on Canaries and Deployments of this namespace only (default: all)
  --metrics-server URL     Prometheus for builtin metrics and inline queries, e.g. http://prometheus:9090
  --telemetry-listen H:P   /metrics, /healthz, /readyz (default 0.0.0.0:8080; "off" to disable)
  --min-interval D         shortest analysis interval honoured; shorter ones are raised to it (default 10s)
  --concurrency N          Canaries reconciled at once (default 16)
  --step-events on|off     also write each step ("Advance ... weight 40") as a Kubernetes Event (default on);
                           off: logged and sent to event webhooks only, a third fewer API writes per step
  --lease-name NAME        the leader-election Lease in sluice's namespace (default sluice-controller)
  --lease-duration D       how long a silent leader keeps the lease (default 15s)
  --identity NAME          this replica's name in the Lease (default <hostname>-<pid>)
`

const HELP = `Usage: sluice controller [options]

Reconciles Canaries: generates them from annotated Deployments, runs the analysis, moves traffic,
promotes or rolls back. One replica acts at a time (a Lease); the others keep warm caches.

Options:
${COMMON_FLAG_HELP}${CONTROLLER_FLAG_HELP}`

export function controllerOptionsFrom(values: Values, kc: KubeConfig, logger: Logger): ControllerOptions {
  const concurrency = Number(str(values, 'concurrency') ?? '16')
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new Error(`--concurrency: "${str(values, 'concurrency')}" is not a positive whole number`)
  const telemetry = telemetryAddress(str(values, 'telemetry-listen') ?? '0.0.0.0:8080')
  const watchNamespace = str(values, 'watch-namespace')
  const metricsServer = str(values, 'metrics-server')
  const identity = str(values, 'identity')
  return {
    kc, logger,
    namespace: str(values, 'namespace') ?? 'sluice-system',
    ...(watchNamespace && { watchNamespace }),
    ...(metricsServer && { metricsServer }),
    minIntervalMs: durationMs('min-interval', str(values, 'min-interval'), 10_000),
    stepEvents: onOff('step-events', str(values, 'step-events'), true),
    concurrency,
    leaseName: str(values, 'lease-name') ?? 'sluice-controller',
    leaseDurationMs: durationMs('lease-duration', str(values, 'lease-duration'), 15_000),
    ...(identity && { identity }),
    ...(telemetry && { telemetry }),
  }
}

export const controllerCommand: Subcommand = {
  async run(args) {
    const { values } = parseArgs({ args: [...args], options: { help: { type: 'boolean', short: 'h' }, ...CONTROLLER_FLAGS } })
    if (values.help) { process.stdout.write(HELP); return 0 }
    applyDefaultProvider(values)
    const logger = newLogger()
    const kc = loadKubeConfig(values.kubeconfig ? { path: values.kubeconfig } : {})
    const running = await runController(controllerOptionsFrom(values, kc, logger))
    await untilSignal(logger, () => running.stop())
    return 0
  },
}
