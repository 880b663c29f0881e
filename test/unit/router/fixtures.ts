// A Canary as the API returns it (with a uid), for the router builders.
import type { Canary, CanarySpec } from '../../../src/api/types.ts'

export function canary(spec: Partial<CanarySpec> = {}): Canary {
  return {
    apiVersion: 'sluice.dev/v1beta1', kind: 'Canary',
    metadata: { name: 'podinfo', namespace: 'shop', uid: 'c0ffee' },
    spec: { targetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'podinfo' }, service: { port: 9898 }, ...spec },
  }
}
