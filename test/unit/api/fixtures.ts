// Small builders shared by the spec tests: a Deployment with sluice annotations, and policies.
import type { DeploymentLike } from '../../../src/api/resolve.ts'
import { deployment } from '../../helpers/objects.ts'
import type { DeliveryPolicy, DeliveryPolicySpec } from '../../../src/api/types.ts'

/** The Deployment podinfo (uid uid-1234) with `annotations`; `matchLabels`, when given, is its whole selector. */
export function annotated(annotations: Record<string, string>, matchLabels?: Record<string, string>): DeploymentLike {
  const selector = matchLabels && { matchLabels: { app: null, ...matchLabels } }
  return deployment({ metadata: { uid: 'uid-1234', annotations }, spec: { selector } })
}

/** A valid canary configuration on nginx; tests override one key at a time. */
export function canaryAnnotations(overrides: Record<string, string | undefined> = {}): Record<string, string> {
  const base: Record<string, string | undefined> = {
    'sluice.dev/strategy': 'canary',
    'sluice.dev/provider': 'nginx',
    'sluice.dev/port': '9898',
    'sluice.dev/spec': 'ingressRef: {apiVersion: networking.k8s.io/v1, kind: Ingress, name: podinfo}',
    'sluice.dev/analysis': 'interval: 1m\nthreshold: 5\nstepWeight: 20\nmetrics:\n  - name: request-success-rate\n    thresholdRange: {min: 99}',
    ...overrides,
  }
  return Object.fromEntries(Object.entries(base).filter((e): e is [string, string] => e[1] !== undefined))
}

export function policy(name: string, spec: DeliveryPolicySpec): DeliveryPolicy {
  return { apiVersion: 'sluice.dev/v1beta1', kind: 'DeliveryPolicy', metadata: { name }, spec }
}
