// The kubeconfig flags of the operator commands, read as kubectl reads them (--kubeconfig, $KUBECONFIG,
// ~/.kube/config; --context; -n, else the context's namespace, else default), so the user's RBAC applies.
import type { KubeConfig } from '@kubernetes/client-node'
import { loadKubeConfig } from '../kube/config.ts'
import { CliError, EXIT } from './exit.ts'
import { str, type Values } from './flags.ts'

export const CLUSTER_FLAGS = {
  kubeconfig: { type: 'string' }, context: { type: 'string' }, namespace: { type: 'string', short: 'n' },
} as const

export const ALL_NAMESPACES_FLAG = { 'all-namespaces': { type: 'boolean', short: 'A' } } as const

export const CLUSTER_HELP = `\
  --kubeconfig FILE        kubeconfig (default: $KUBECONFIG, else ~/.kube/config)
  --context NAME           kubeconfig context (default: the current context)
  -n, --namespace NS       namespace (default: the context's namespace, else default)
`

export const ALL_NAMESPACES_HELP = '  -A, --all-namespaces     every namespace you may list Canaries in\n'

export interface Cluster {
  readonly kc: KubeConfig
  readonly namespace: string
  /** The API server's address, for messages. */
  readonly server: string
}

export function connect(values: Values): Cluster {
  const path = str(values, 'kubeconfig')
  const context = str(values, 'context')
  let kc: KubeConfig
  try {
    kc = loadKubeConfig({ ...(path && { path }), ...(context && { context }) })
  } catch (e) {
    const missing = (e as { code?: unknown }).code === 'ENOENT'
    const file = path ?? (process.env.KUBECONFIG ? `$KUBECONFIG (${process.env.KUBECONFIG})` : '~/.kube/config')
    throw new CliError(EXIT.usage, missing ? `kubeconfig ${file}: no such file; give one with --kubeconfig or KUBECONFIG` : (e as Error).message)
  }
  const namespace = str(values, 'namespace') ?? kc.getContextObject(kc.getCurrentContext())?.namespace ?? 'default'
  return { kc, namespace, server: kc.getCurrentCluster()?.server ?? '' }
}
