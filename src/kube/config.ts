// Loads the client configuration: an explicit file, else $KUBECONFIG, ~/.kube/config or the in-cluster account.
import { KubeConfig, type ApiConstructor, type ApiType, type Configuration } from '@kubernetes/client-node'
import { dispatcherHttpLibrary, type Dispatcher } from './http-library.ts'

export interface KubeConfigOptions {
  /** A kubeconfig file; without it client-node's default search applies. */
  readonly path?: string
  readonly context?: string
}

type RequestContext = Parameters<KubeConfig['applySecurityAuthentication']>[0]
type DispatcherOptions = ReturnType<KubeConfig['createDispatcherOptions']>

/**
 * client-node 2.0 gives every request a new undici Agent, so every API call opened (and held until idle)
 * its own TLS connection: the controller spent most of its CPU in handshakes and grew its RSS with
 * lingering sessions. Requests for the same cluster and user share one Agent here (HTTP/2 multiplexes
 * them), keyed as client-node keys its own https.Agent cache; once it exists no other is built. The API
 * clients send through it with dispatcher.request rather than fetch (http-library.ts).
 */
export class PooledKubeConfig extends KubeConfig {
  readonly #dispatchers = new Map<string, Dispatcher>()

  #key(): string {
    return JSON.stringify([this.getCurrentCluster()?.name, this.getCurrentCluster()?.server, this.getCurrentUser()?.name])
  }

  // 'none' makes client-node skip building an Agent; applySecurityAuthentication then sets the shared one.
  override createDispatcherOptions(...args: Parameters<KubeConfig['createDispatcherOptions']>): DispatcherOptions {
    return this.#dispatchers.has(this.#key()) ? { type: 'none' } : super.createDispatcherOptions(...args)
  }

  override async applySecurityAuthentication(context: RequestContext): Promise<void> {
    await super.applySecurityAuthentication(context)
    const key = this.#key()
    const fresh = context.getDispatcher()
    if (fresh && !this.#dispatchers.has(key)) this.#dispatchers.set(key, fresh)
    const shared = this.#dispatchers.get(key)
    if (shared) context.setDispatcher(shared)
  }

  override makeApiClient<T extends ApiType>(apiClientType: ApiConstructor<T>): T {
    // client-node builds the configuration (server, auth, its middleware); only the transport is swapped.
    function withTransport(config: Configuration): T {
      return new apiClientType({ ...config, httpApi: dispatcherHttpLibrary })
    }
    return super.makeApiClient(withTransport as unknown as ApiConstructor<T>)
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
