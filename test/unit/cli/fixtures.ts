// Releases as the operator commands read them, at a fixed clock.
import type { CoreV1Event, V1Deployment } from '@kubernetes/client-node'
import type { Canary } from '../../../src/api/types.ts'
import type { Release } from '../../../src/cli/canaries.ts'
import { canary, deployment, type Overrides } from '../../helpers/objects.ts'

export const NOW = new Date('2026-06-01T12:00:00Z')

/** podinfo in shop on nginx, 20% steps to 60% every 10s, at 40% with one failed check; its next tick due at 12:00:03. */
export function running(overrides: Overrides<Canary> = {}): Canary {
  return canary({
    metadata: { creationTimestamp: '2026-06-01T11:00:00Z' },
    spec: {
      provider: 'nginx',
      analysis: {
        interval: '10s', threshold: 2, stepWeight: 20, maxWeight: 60,
        metrics: [{ name: 'request-success-rate', interval: '30s', thresholdRange: { min: 99 } }],
        webhooks: [{ name: 'approve', type: 'confirm-promotion', url: 'http://user:secret@tester.test/gate/check?token=x' }],
      },
    },
    status: {
      phase: 'Progressing', canaryWeight: 40, failedChecks: 1, iterations: 0, lastAppliedSpec: 'aaaa', lastPromotedSpec: 'bbbb',
      lastTransitionTime: '2026-06-01T11:59:30Z',
      conditions: [{ type: 'Promoted', status: 'Unknown', reason: 'Progressing', lastUpdateTime: '2026-06-01T11:59:43Z', lastTransitionTime: '2026-06-01T11:59:30Z' }],
      checks: [
        { name: 'request-success-rate', value: 99.5, range: { min: 99 }, window: '30s', verdict: 'pass', time: '2026-06-01T11:59:43Z', message: 'request-success-rate 99.5% is within range' },
        { name: 'request-success-rate', value: 91.25, range: { min: 99 }, window: '30s', verdict: 'fail', time: '2026-06-01T11:59:53Z', message: 'request-success-rate 91.25% is below the minimum 99%' },
      ],
    },
    ...overrides,
  })
}

export function event(reason: string, message: string, at: string, type = 'Normal', count = 1): CoreV1Event {
  return {
    metadata: { name: `podinfo.${reason}`, namespace: 'shop', uid: `uid-${reason}` }, involvedObject: { kind: 'Canary', name: 'podinfo' },
    reason, message, type, count, lastTimestamp: new Date(at),
  }
}

function workload(name: string, replicas: number, ready: number): V1Deployment {
  const d = deployment({ metadata: { name }, spec: { replicas } })
  return { ...d, status: { readyReplicas: ready, replicas } }
}

export function release(c: Canary = running(), events: CoreV1Event[] = []): Release {
  return { canary: c, target: workload('podinfo', 2, 2), primary: workload('podinfo-primary', 2, 1), events }
}
