// Writes the Canary that a Deployment's sluice.dev annotations describe (generate.ts decides), and reports
// what stops it on the Deployment.
import type { Logger } from 'pino'
import { describeError, readApiError } from '../kube/errors.ts'
import type { ApplyClient, KubeObject } from '../kube/apply.ts'
import type { Caches } from './caches.ts'
import { generation } from './generate.ts'
import type { Recorder } from './ports.ts'
import { isGeneratedObject, keyOf } from './triggers.ts'

export interface GeneratorDeps {
  readonly caches: Caches
  readonly kube: ApplyClient
  readonly recorder: Recorder
  readonly log: Logger
  /** Asks for a reconcile of the Canary (an opt-out is the Canary's to carry out). */
  readonly enqueue: (key: string) => void
}

export function createGenerator(d: GeneratorDeps): (namespace: string, name: string) => Promise<void> {
  return async (namespace, name) => {
    const target = d.caches.deployments.get(name, namespace)
    if (!target || isGeneratedObject(target)) return
    const context = { policies: d.caches.policies.list(), namespaceLabels: d.caches.namespaces.get(namespace)?.metadata?.labels ?? {} }
    const g = generation(target, d.caches.canaries.get(name, namespace), context)
    const deployment = { apiVersion: 'apps/v1', kind: 'Deployment', name, namespace, ...(target.metadata?.uid && { uid: target.metadata.uid }) }
    if (g.kind === 'apply') {
      try {
        await d.kube.apply(g.canary as unknown as KubeObject)
      } catch (e) {
        // Refused by the API (the webhook validated with the policies of that moment): say so; retrying will not help.
        await d.recorder.record(deployment, 'Warning', 'CanaryRejected', `the Canary generated from the sluice.dev annotations was refused: ${describeError(e)}`)
        if (readApiError(e)?.code === 422) return
        throw e
      }
      d.log.info({ canary: `${namespace}/${name}` }, 'Canary generated from the Deployment annotations')
    } else if (g.kind === 'opted-out') {
      d.enqueue(keyOf('c', namespace, name))
    } else if (g.kind === 'conflict') {
      await d.recorder.record(deployment, 'Warning', 'CanaryConflict', g.message)
    }
  }
}
