// Loads the client configuration: an explicit file, else $KUBECONFIG, ~/.kube/config or the in-cluster account.
import { KubeConfig } from '@kubernetes/client-node'

export interface KubeConfigOptions {
  /** A kubeconfig file; without it client-node's default search applies. */
  readonly path?: string
  readonly context?: string
}

type RequestContext = Parameters<KubeConfig['applySecurityAuthentication']>[0]
type Dispatcher = NonNullable<ReturnType<RequestContext['getDispatcher']>>

/**
 * client-node 2.0 gives every request a new undici Agent, so every API call opened (and held until idle)
 * its own TLS connection: the controller spent most of its CPU in handshakes and grew its RSS with
 * lingering sessions. Requests for the same cluster and user share one Agent here (HTTP/2 multiplexes
 * them), keyed as client-node keys its own https.Agent cache.
 */
export class PooledKubeConfig extends KubeConfig {
  readonly #dispatchers = new Map<string, Dispatcher>()

  override async applySecurityAuthentication(context: RequestContext): Promise<void> {
    await super.applySecurityAuthentication(context)
    const fresh = context.getDispatcher()
    if (!fresh) return
    const key = JSON.stringify([this.getCurrentCluster()?.name, this.getCurrentCluster()?.server, this.getCurrentUser()?.name])
    const shared = this.#dispatchers.get(key)
    if (shared) context.setDispatcher(shared)
    else this.#dispatchers.set(key, fresh)
  }
}

export function loadKubeConfig(opts: KubeConfigOptions = {}): KubeConfig {
  const kc = new PooledKubeConfig()
  if (opts.path) kc.loadFromFile(opts.path)
  else kc.loadFromDefault()
  if (opts.context) {
    if (!kc.getContextObject(opts.context)) {
      throw new Error(`kubeconfig: context "${opts.context}" does not exist (known: ${kc.getContexts().map(c => c.name).join(', ') || 'none'})`)
    }
    kc.setCurrentContext(opts.context)
  }
  if (!kc.getCurrentCluster()) {
    throw new Error('kubeconfig: no current cluster: set KUBECONFIG, pass a kubeconfig file, or run inside a cluster')
  }
  return kc
}
