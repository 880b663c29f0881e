// The reconcile's Hooks seam wired to the webhook caller (src/hooks) and the alert providers (src/notify).
// Secrets are read from the API when needed, never cached: only metric auth and alert addresses use them.
import type { CoreV1Api } from '@kubernetes/client-node'
import type { Logger } from 'pino'
import { postEvent, runHooks } from '../hooks/webhooks.ts'
import { isNotFound } from '../kube/errors.ts'
import { decodeSecretData } from '../kube/secrets.ts'
import { sendAlerts } from '../notify/index.ts'
import type { Caches } from './caches.ts'
import type { Hooks } from './ports.ts'

export interface HookDeps {
  readonly caches: Caches
  readonly core: CoreV1Api
  readonly logger: Logger
}

export function createHooks(d: HookDeps): Hooks & { secretData(namespace: string, name: string): Promise<Record<string, string> | undefined> } {
  // The alerts of one Canary go out one after another, in the order decided: a slow or dead receiver delays
  // only that Canary's later alerts (each post times out), never a reconcile, which does not wait for them.
  const alertChains = new Map<string, Promise<unknown>>()
  async function secretData(namespace: string, name: string): Promise<Record<string, string> | undefined> {
    try {
      const secret = await d.core.readNamespacedSecret({ name, namespace })
      return decodeSecretData(secret.data)
    } catch (e) {
      if (isNotFound(e)) return undefined
      throw e
    }
  }
  return {
    secretData,
    run: (canary, type, phase) => runHooks(canary, type, { phase }),
    event(canary, type, reason, message) {
      if ((canary.spec.analysis?.webhooks ?? []).some(w => w.type === 'event')) void postEvent(canary, { type, reason, message }, { logger: d.logger })
    },
    alert(canary, severity, message) {
      const key = `${canary.metadata.namespace ?? ''}/${canary.metadata.name ?? ''}`
      const sent = (alertChains.get(key) ?? Promise.resolve()).then(() => sendAlerts(canary, severity, message, {
        getProvider: (namespace, name) => d.caches.alertProviders.get(name, namespace),
        getSecret: secretData,
        logger: d.logger,
      }))
      alertChains.set(key, sent)
      void sent.finally(() => { if (alertChains.get(key) === sent) alertChains.delete(key) })
      return sent.then(failures => failures.map(f => f.message))
    },
  }
}
