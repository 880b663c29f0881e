// Loads the client configuration: an explicit file, else $KUBECONFIG, ~/.kube/config or the in-cluster account.
import { KubeConfig } from '@kubernetes/client-node'

export interface KubeConfigOptions {
  /** A kubeconfig file; without it client-node's default search applies. */
  readonly path?: string
  readonly context?: string
}

export function loadKubeConfig(opts: KubeConfigOptions = {}): KubeConfig {
  const kc = new KubeConfig()
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
