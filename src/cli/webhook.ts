// `sluice webhook`: the HTTPS admission server.
import { parseArgs } from 'node:util'
import { pino } from 'pino'
import { runWebhook } from '../admission/run.ts'
import { loadKubeConfig } from '../kube/config.ts'
import { parseDuration } from '../spec/duration.ts'
import { DEFAULT_ROTATION_POLICY, type RotationPolicy } from '../certs/rotation.ts'
import type { Subcommand } from './main.ts'

const HELP = `Usage: sluice webhook [options]

Serves the admission webhooks (Deployment interception, guard) over HTTPS and keeps their certificates
and configurations current.

Options:
  --kubeconfig FILE        kubeconfig (default: $KUBECONFIG, ~/.kube/config, or in-cluster)
  --namespace NS           sluice's namespace (default sluice-system)
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
  --min-interval D         shortest analysis interval accepted (default 10s)
  --sluice-user NAME       sluice's own identity (default system:serviceaccount:<namespace>:sluice)
  --no-register            do not write the webhook configurations
  --scope-label K=V        only namespaces with this label are sent (repeatable; for tests)
`

function duration(flag: string, value: string | undefined, fallbackSeconds: number): number {
  if (value === undefined) return fallbackSeconds
  const ms = parseDuration(value)
  if (ms === undefined) throw new Error(`--${flag}: "${value}" is not a duration (e.g. 90s, 10m, 24h)`)
  return ms / 1000
}

function hostPort(text: string): { host: string; port: number } {
  const i = text.lastIndexOf(':')
  const port = Number(text.slice(i + 1))
  if (i < 0 || !Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--listen: "${text}" is not HOST:PORT`)
  return { host: text.slice(0, i), port }
}

function labels(pairs: readonly string[] | undefined): Record<string, string> | undefined {
  if (!pairs || pairs.length === 0) return undefined
  return Object.fromEntries(pairs.map(p => {
    const i = p.indexOf('=')
    if (i <= 0) throw new Error(`--scope-label: "${p}" is not KEY=VALUE`)
    return [p.slice(0, i), p.slice(i + 1)]
  }))
}

export const webhookCommand: Subcommand = {
  summary: 'serve the admission webhooks (interception, validation, plan preview, guard, policy)',
  async run(args) {
    const { values } = parseArgs({
      args: [...args],
      options: {
        help: { type: 'boolean', short: 'h' }, kubeconfig: { type: 'string' }, namespace: { type: 'string' },
        service: { type: 'string' }, listen: { type: 'string' }, url: { type: 'string' },
        'cert-ip': { type: 'string', multiple: true }, 'cert-dns': { type: 'string', multiple: true },
        'ca-lifetime': { type: 'string' }, 'cert-lifetime': { type: 'string' }, 'ca-renew-before': { type: 'string' },
        'cert-renew-before': { type: 'string' }, 'cert-overlap': { type: 'string' }, 'cert-check-interval': { type: 'string' },
        'min-interval': { type: 'string' }, 'sluice-user': { type: 'string' }, 'no-register': { type: 'boolean' },
        'scope-label': { type: 'string', multiple: true },
      },
    })
    if (values.help) { process.stdout.write(HELP); return 0 }
    const namespace = values.namespace ?? 'sluice-system'
    const d = DEFAULT_ROTATION_POLICY
    const rotation: RotationPolicy = {
      caLifetimeSeconds: duration('ca-lifetime', values['ca-lifetime'], d.caLifetimeSeconds),
      caRenewBeforeSeconds: duration('ca-renew-before', values['ca-renew-before'], d.caRenewBeforeSeconds),
      servingLifetimeSeconds: duration('cert-lifetime', values['cert-lifetime'], d.servingLifetimeSeconds),
      servingRenewBeforeSeconds: duration('cert-renew-before', values['cert-renew-before'], d.servingRenewBeforeSeconds),
      overlapSeconds: duration('cert-overlap', values['cert-overlap'], d.overlapSeconds),
    }
    const { host, port } = hostPort(values.listen ?? '0.0.0.0:9443')
    const logger = pino({ level: process.env.SLUICE_LOG_LEVEL ?? 'info' })
    const scope = labels(values['scope-label'])
    const running = await runWebhook({
      kc: loadKubeConfig(values.kubeconfig ? { path: values.kubeconfig } : {}),
      logger, namespace, host, port,
      service: values.service ?? 'sluice',
      sluiceUsername: values['sluice-user'] ?? `system:serviceaccount:${namespace}:sluice`,
      ...(values.url && { url: values.url }),
      extraIps: values['cert-ip'] ?? [], extraDnsNames: values['cert-dns'] ?? [],
      rotation,
      certCheckIntervalMs: duration('cert-check-interval', values['cert-check-interval'], 60) * 1000,
      minIntervalMs: duration('min-interval', values['min-interval'], 10) * 1000,
      register: values['no-register'] !== true,
      ...(scope && { namespaceLabels: scope }),
    })
    await new Promise<void>(resolveStop => {
      const stop = (sig: string): void => {
        logger.info({ signal: sig }, 'stopping')
        void running.stop().finally(resolveStop)
      }
      process.once('SIGTERM', () => stop('SIGTERM'))
      process.once('SIGINT', () => stop('SIGINT'))
    })
    return 0
  },
}
