// `sluice webhook`: the HTTPS admission server.
import { parseArgs } from 'node:util'
import { pino, type Logger } from 'pino'
import type { KubeConfig } from '@kubernetes/client-node'
import { runWebhook, type WebhookOptions } from '../admission/run.ts'
import { loadKubeConfig } from '../kube/config.ts'
import { DEFAULT_ROTATION_POLICY, type RotationPolicy } from '../certs/rotation.ts'
import { applyDefaultProvider, durationMs, hostPort, list, str, telemetryAddress, type Values } from './flags.ts'
import type { Subcommand } from './subcommand.ts'

/** The webhook's option lines, shared with `sluice serve` (--kubeconfig and --namespace are the common ones). */
export const WEBHOOK_FLAG_HELP = `\
  --service NAME           the webhook Service, for certificate names (default sluice)
  --listen HOST:PORT       address to serve on (default 0.0.0.0:9443)
  --url URL                register the webhooks by URL (local runs), e.g. https://127.0.0.1:9443
  --cert-ip IP             extra IP SAN on the serving certificate (repeatable)
  --cert-dns NAME          extra DNS SAN on the serving certificate (repeatable)
  --ca-lifetime D          CA lifetime (default 87600h)
  --cert-lifetime D        serving certificate lifetime (default 8760h)
  --ca-renew-before D      renew the CA this long before expiry (default 8760h)
  --cert-renew-before D    renew the serving certificate this long before expiry (default 2160h)
  --cert-overlap D         how long a new CA is trusted before use, and an old one after (default 10m)
  --cert-check-interval D  how often certificates are checked (default 1m)
  --min-interval D         shortest analysis interval accepted (default 10s; controller: honoured)
  --sluice-user NAME       sluice's own identity (default system:serviceaccount:<namespace>:sluice)
  --no-register            do not write the webhook configurations
  --scope-label K=V        only namespaces with this label are sent (repeatable; for tests)
`

export const COMMON_FLAG_HELP = `\
  --kubeconfig FILE        kubeconfig (default: $KUBECONFIG, ~/.kube/config, or in-cluster)
  --namespace NS           sluice's namespace (default sluice-system)
  --default-provider P     router of Canaries without spec.provider, like Flagger's -mesh-provider:
                           kubernetes (default), nginx, gatewayapi, gatewayapi:v1, gatewayapi:v1beta1, istio, linkerd, traefik,
                           contour
`

const HELP = `Usage: sluice webhook [options]

Serves the admission webhooks (Deployment interception, guard) over HTTPS and keeps their certificates
and configurations current.

Options:
${COMMON_FLAG_HELP}${WEBHOOK_FLAG_HELP}\
  --telemetry-listen H:P   /metrics, /healthz, /readyz over plain HTTP, e.g. 0.0.0.0:8081 (default off)
`

function duration(flag: string, value: string | undefined, fallbackSeconds: number): number {
  return durationMs(flag, value, fallbackSeconds * 1000) / 1000
}

function labels(pairs: readonly string[]): Record<string, string> | undefined {
  if (pairs.length === 0) return undefined
  return Object.fromEntries(pairs.map(p => {
    const i = p.indexOf('=')
    if (i <= 0) throw new Error(`--scope-label: "${p}" is not KEY=VALUE`)
    return [p.slice(0, i), p.slice(i + 1)]
  }))
}

export const WEBHOOK_FLAGS = {
  kubeconfig: { type: 'string' }, namespace: { type: 'string' }, 'default-provider': { type: 'string' },
  service: { type: 'string' }, listen: { type: 'string' }, url: { type: 'string' },
  'cert-ip': { type: 'string', multiple: true }, 'cert-dns': { type: 'string', multiple: true },
  'ca-lifetime': { type: 'string' }, 'cert-lifetime': { type: 'string' }, 'ca-renew-before': { type: 'string' },
  'cert-renew-before': { type: 'string' }, 'cert-overlap': { type: 'string' }, 'cert-check-interval': { type: 'string' },
  'min-interval': { type: 'string' }, 'sluice-user': { type: 'string' }, 'no-register': { type: 'boolean' },
  'scope-label': { type: 'string', multiple: true }, 'telemetry-listen': { type: 'string' },
} as const


/** The webhook's options from parsed flags (shared with `sluice serve`). */
export function webhookOptionsFrom(values: Values, kc: KubeConfig, logger: Logger): WebhookOptions {
  const namespace = str(values, 'namespace') ?? 'sluice-system'
  const d = DEFAULT_ROTATION_POLICY
  const rotation: RotationPolicy = {
    caLifetimeSeconds: duration('ca-lifetime', str(values, 'ca-lifetime'), d.caLifetimeSeconds),
    caRenewBeforeSeconds: duration('ca-renew-before', str(values, 'ca-renew-before'), d.caRenewBeforeSeconds),
    servingLifetimeSeconds: duration('cert-lifetime', str(values, 'cert-lifetime'), d.servingLifetimeSeconds),
    servingRenewBeforeSeconds: duration('cert-renew-before', str(values, 'cert-renew-before'), d.servingRenewBeforeSeconds),
    overlapSeconds: duration('cert-overlap', str(values, 'cert-overlap'), d.overlapSeconds),
  }
  const { host, port } = hostPort('listen', str(values, 'listen') ?? '0.0.0.0:9443')
  const scope = labels(list(values, 'scope-label'))
  const url = str(values, 'url')
  return {
    kc, logger, namespace, host, port,
    service: str(values, 'service') ?? 'sluice',
    sluiceUsername: str(values, 'sluice-user') ?? `system:serviceaccount:${namespace}:sluice`,
    ...(url && { url }),
    extraIps: list(values, 'cert-ip'), extraDnsNames: list(values, 'cert-dns'),
    rotation,
    certCheckIntervalMs: duration('cert-check-interval', str(values, 'cert-check-interval'), 60) * 1000,
    minIntervalMs: duration('min-interval', str(values, 'min-interval'), 10) * 1000,
    register: values['no-register'] !== true,
    ...(scope && { namespaceLabels: scope }),
  }
}

/** Resolves on SIGTERM or SIGINT, after `stop` has run. */
export async function untilSignal(logger: Logger, stop: () => Promise<void>): Promise<void> {
  await new Promise<void>(resolveStop => {
    const onSignal = (sig: string): void => {
      logger.info({ signal: sig }, 'stopping')
      void stop().finally(resolveStop)
    }
    process.once('SIGTERM', () => onSignal('SIGTERM'))
    process.once('SIGINT', () => onSignal('SIGINT'))
  })
}

export function newLogger(): Logger {
  return pino({ level: process.env.SLUICE_LOG_LEVEL ?? 'info' })
}

export const webhookCommand: Subcommand = {
  async run(args) {
    const { values } = parseArgs({ args: [...args], options: { help: { type: 'boolean', short: 'h' }, ...WEBHOOK_FLAGS } })
    if (values.help) { process.stdout.write(HELP); return 0 }
    applyDefaultProvider(values)
    const logger = newLogger()
    const kc = loadKubeConfig(values.kubeconfig ? { path: values.kubeconfig } : {})
    // Off unless asked: `sluice serve` has the controller's port, and the manifests name this one.
    const telemetry = telemetryAddress(str(values, 'telemetry-listen') ?? 'off')
    const running = await runWebhook({ ...webhookOptionsFrom(values, kc, logger), ...(telemetry && { telemetry }) })
    await untilSignal(logger, () => running.stop())
    return 0
  },
}
