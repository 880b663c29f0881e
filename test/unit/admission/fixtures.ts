// Shared test data: a serving certificate (made once per file), review builders, a silent logger.
import { pino } from 'pino'
import { createCA, createLeaf } from '../../../src/certs/pki.ts'
import type { KeyPairPem } from '../../../src/certs/pki.ts'
import { buildAdmissionServer } from '../../../src/admission/server.ts'
import type { AdmissionServer, AdmissionServerOptions } from '../../../src/admission/server.ts'
import { deployment, manifest } from '../../helpers/objects.ts'

export const silent = pino({ level: 'silent' })

let cached: { ca: KeyPairPem; leaf: KeyPairPem } | undefined

export function localCertificate(): { ca: KeyPairPem; leaf: KeyPairPem } {
  if (!cached) {
    const ca = createCA('admission-test-ca', 3600)
    cached = { ca, leaf: createLeaf(ca, { commonName: 'localhost', dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'], usage: 'server', lifetimeSeconds: 3600 }) }
  }
  return cached
}

export function server(opts: Partial<AdmissionServerOptions> = {}): AdmissionServer {
  return buildAdmissionServer({ tls: localCertificate().leaf, logger: silent, ...opts })
}

/** An opted-in Deployment with 3 replicas as a client sends it for review. */
export function sentDeployment(name = 'podinfo'): Record<string, unknown> {
  return manifest(deployment({ metadata: { name, labels: { app: name }, annotations: { 'sluice.dev/strategy': 'canary' } }, spec: { replicas: 3 } }))
}

export function review(request: Record<string, unknown> = {}, envelope: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview',
    request: {
      uid: '705ab4f5-6393-11e8-b7cc-42010a800002',
      kind: { group: 'apps', version: 'v1', kind: 'Deployment' },
      resource: { group: 'apps', version: 'v1', resource: 'deployments' },
      namespace: 'shop', name: 'podinfo', operation: 'CREATE',
      userInfo: { username: 'alice', groups: ['system:authenticated'] },
      object: sentDeployment(), oldObject: null, dryRun: false,
      ...request,
    },
    ...envelope,
  }
}

/** Decodes a response's base64 JSON Patch. */
export function patchOf(response: { patch?: string }): unknown[] {
  return response.patch ? JSON.parse(Buffer.from(response.patch, 'base64').toString('utf8')) as unknown[] : []
}
