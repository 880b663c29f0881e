// Writes the caBundle into sluice's own webhook configurations, touching only what differs.
import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node'
import type { AdmissionregistrationV1Api } from '@kubernetes/client-node'
import { setAt, test } from '../kube/json-patch.ts'
import type { PatchOperation } from '../kube/json-patch.ts'
import { isConflict, isNotFound, readApiError } from '../kube/errors.ts'
import { retryOn } from '../kube/retry.ts'
import type { RetryOptions } from '../kube/retry.ts'

export interface WebhookClientConfigs {
  readonly webhooks?: readonly { readonly name: string; readonly clientConfig?: { readonly caBundle?: string } }[]
}

/** JSON Patch setting every webhook's caBundle that differs; each write is guarded by a test of the webhook's name, so a reordered list fails instead of patching the wrong entry. */
export function caBundlePatch(config: WebhookClientConfigs, caBundleBase64: string): PatchOperation[] {
  const ops: PatchOperation[] = []
  const doc = { webhooks: config.webhooks ?? [] }
  doc.webhooks.forEach((webhook, i) => {
    if (webhook.clientConfig?.caBundle === caBundleBase64) return
    ops.push(test(['webhooks', i, 'name'], webhook.name), setAt(doc, ['webhooks', i, 'clientConfig', 'caBundle'], caBundleBase64))
  })
  return ops
}

export interface CaBundleWrite {
  readonly updated: readonly string[]
  readonly unchanged: readonly string[]
  /** Configurations that do not exist (yet): the API server does not call them, so nothing breaks. */
  readonly missing: readonly string[]
}

export interface CaBundleSink {
  write(bundlePem: string): Promise<CaBundleWrite>
}

export interface WebhookConfigurationNames {
  readonly mutating?: readonly string[]
  readonly validating?: readonly string[]
}

interface ConfigurationClient {
  read(name: string): Promise<WebhookClientConfigs>
  patch(name: string, ops: PatchOperation[]): Promise<unknown>
}

// A failed test op (the list changed under us) is 422; retry with a fresh read.
const retriable = (err: unknown) => isConflict(err) || readApiError(err)?.code === 422

async function writeOne(client: ConfigurationClient, name: string, caBundle: string, retry: RetryOptions): Promise<'updated' | 'unchanged' | 'missing'> {
  try {
    return await retryOn(retriable, async () => {
      const ops = caBundlePatch(await client.read(name), caBundle)
      if (ops.length === 0) return 'unchanged' as const
      await client.patch(name, ops)
      return 'updated' as const
    }, retry)
  } catch (err) {
    if (isNotFound(err)) return 'missing'
    throw err
  }
}

export function webhookConfigurationSink(api: AdmissionregistrationV1Api, names: WebhookConfigurationNames, retry: RetryOptions = {}): CaBundleSink {
  const jsonPatch = setHeaderOptions('Content-Type', PatchStrategy.JsonPatch)
  const mutating: ConfigurationClient = {
    read: name => api.readMutatingWebhookConfiguration({ name }),
    patch: (name, ops) => api.patchMutatingWebhookConfiguration({ name, body: ops }, jsonPatch),
  }
  const validating: ConfigurationClient = {
    read: name => api.readValidatingWebhookConfiguration({ name }),
    patch: (name, ops) => api.patchValidatingWebhookConfiguration({ name, body: ops }, jsonPatch),
  }
  return {
    async write(bundlePem) {
      const caBundle = Buffer.from(bundlePem).toString('base64')
      const result: Record<'updated' | 'unchanged' | 'missing', string[]> = { updated: [], unchanged: [], missing: [] }
      const targets = [
        ...(names.mutating ?? []).map(n => [mutating, n, `mutatingwebhookconfiguration/${n}`] as const),
        ...(names.validating ?? []).map(n => [validating, n, `validatingwebhookconfiguration/${n}`] as const),
      ]
      for (const [client, name, label] of targets) result[await writeOne(client, name, caBundle, retry)].push(label)
      return result
    },
  }
}
