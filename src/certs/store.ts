// Where the certificates live: a Secret in sluice's namespace, shared by every replica. Behind a
// small interface so that the manager's logic is tested without a cluster and the Secret against one.
import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node'
import type { CoreV1Api, V1Secret } from '@kubernetes/client-node'
import { isNotFound } from '../kube/errors.ts'
import { joinPemBundle, splitPemBundle } from './inspect.ts'
import type { CertificateSet } from './rotation.ts'

export interface StoredCertificates {
  /** Undefined when the Secret exists but lacks a usable set (it is then overwritten). */
  readonly set: CertificateSet | undefined
  readonly resourceVersion: string
}

export interface CertificateStore {
  /** Undefined when nothing is stored yet. */
  load(): Promise<StoredCertificates | undefined>
  /** Creates (no resourceVersion), or updates only if unchanged since `resourceVersion`; a 409 error otherwise. */
  save(set: CertificateSet, resourceVersion: string | undefined): Promise<void>
}

// tls.crt/tls.key are what kubernetes.io/tls requires; ca.crt as cert-manager names it.
export const SECRET_KEYS = {
  caCert: 'ca.crt',
  caKey: 'ca.key',
  servingCert: 'tls.crt',
  servingKey: 'tls.key',
  bundle: 'ca-bundle.crt',
} as const

const b64 = (s: string) => Buffer.from(s).toString('base64')
const unb64 = (s: string) => Buffer.from(s, 'base64').toString('utf8')

export function toSecretData(set: CertificateSet): Record<string, string> {
  return {
    [SECRET_KEYS.caCert]: b64(set.ca.certPem),
    [SECRET_KEYS.caKey]: b64(set.ca.keyPem),
    [SECRET_KEYS.servingCert]: b64(set.serving.certPem),
    [SECRET_KEYS.servingKey]: b64(set.serving.keyPem),
    [SECRET_KEYS.bundle]: b64(joinPemBundle(set.trusted)),
  }
}

/** The set a Secret's data holds; undefined when a key is missing. Contents are judged by the rotation logic. */
export function fromSecretData(data: Readonly<Record<string, string>> | undefined): CertificateSet | undefined {
  const get = (key: string) => (data && Object.hasOwn(data, key) && typeof data[key] === 'string' ? unb64(data[key]) : undefined)
  const [caCert, caKey, servingCert, servingKey, bundle] =
    [SECRET_KEYS.caCert, SECRET_KEYS.caKey, SECRET_KEYS.servingCert, SECRET_KEYS.servingKey, SECRET_KEYS.bundle].map(get)
  if (!caCert || !caKey || !servingCert || !servingKey || bundle === undefined) return undefined
  return { ca: { certPem: caCert, keyPem: caKey }, serving: { certPem: servingCert, keyPem: servingKey }, trusted: splitPemBundle(bundle) }
}

export interface SecretRef {
  readonly namespace: string
  readonly name: string
}

export const MANAGED_LABELS = { 'app.kubernetes.io/managed-by': 'sluice', 'app.kubernetes.io/component': 'webhook-certificates' }

export function secretStore(core: CoreV1Api, ref: SecretRef): CertificateStore {
  return {
    async load() {
      let secret: V1Secret
      try {
        secret = await core.readNamespacedSecret(ref)
      } catch (err) {
        if (isNotFound(err)) return undefined
        throw err
      }
      return { set: fromSecretData(secret.data), resourceVersion: secret.metadata?.resourceVersion ?? '' }
    },
    async save(set, resourceVersion) {
      const data = toSecretData(set)
      if (resourceVersion === undefined) {
        // Two replicas creating at once: the loser gets 409 AlreadyExists and reloads the winner's set.
        await core.createNamespacedSecret({
          namespace: ref.namespace,
          body: { apiVersion: 'v1', kind: 'Secret', metadata: { name: ref.name, namespace: ref.namespace, labels: MANAGED_LABELS }, type: 'kubernetes.io/tls', data },
        })
        return
      }
      // A resourceVersion in a merge patch is a precondition: the API server answers 409 if the Secret changed.
      await core.patchNamespacedSecret(
        { name: ref.name, namespace: ref.namespace, body: { metadata: { resourceVersion }, data } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      )
    },
  }
}
