import t from 'tap'
import { DEFAULTS, effectiveMaxWeight, intervalMs, strategyOf, withDefaults } from '../../../src/api/defaults.ts'

t.test('Flagger\'s defaults, except revertOnDeletion', async t => {
  const spec = withDefaults({
    targetRef: { name: 'podinfo' },
    service: { port: 9898 },
    analysis: {
      stepWeight: 10,
      metrics: [{ name: 'request-success-rate', thresholdRange: { min: 99 } }],
      webhooks: [{ name: 'load', url: 'http://t/', type: '' }],
      alerts: [{ name: 'on-call', providerRef: { name: 'slack' } }],
      sessionAffinity: { cookieName: 'c' },
    },
  })
  t.equal(spec.revertOnDeletion, true, 'sluice reverts on deletion by default')
  t.equal(spec.provider, 'kubernetes')
  t.equal(spec.progressDeadlineSeconds, 600)
  t.equal(spec.skipAnalysis, false)
  t.equal(spec.suspend, false)
  t.same(spec.service, { port: 9898, name: 'podinfo', portName: 'http', targetPort: 9898 })
  t.match(spec.analysis, {
    interval: '1m', threshold: 1, maxWeight: 100, primaryReadyThreshold: 100, canaryReadyThreshold: 100,
    sessionAffinity: { cookieName: 'c', maxAge: 86400 },
  })
  t.equal(spec.analysis?.metrics?.[0]?.interval, '1m')
  t.match(spec.analysis?.webhooks?.[0], { type: 'rollout', timeout: '10s', retries: 0 })
  t.equal(spec.analysis?.alerts?.[0]?.severity, 'info')
})

t.test('written values win over defaults', async t => {
  const spec = withDefaults({ targetRef: { name: 'a' }, service: { port: 80, name: 'web', portName: 'grpc' }, revertOnDeletion: false, analysis: { interval: '30s' } })
  t.equal(spec.revertOnDeletion, false)
  t.equal(spec.service.name, 'web')
  t.equal(spec.service.portName, 'grpc')
  t.equal(spec.analysis?.interval, '30s')
})

t.test('maxWeight follows the last of stepWeights', async t => {
  t.equal(effectiveMaxWeight({ stepWeights: [5, 40], maxWeight: 100 }), 40)
  t.equal(effectiveMaxWeight({ maxWeight: 50 }), 50)
  t.equal(effectiveMaxWeight(undefined), DEFAULTS.maxWeight)
})

t.test('strategy follows Flagger\'s rule', async t => {
  t.equal(strategyOf({ analysis: { stepWeight: 10 } }), 'canary')
  t.equal(strategyOf({ analysis: { iterations: 10 } }), 'blue-green')
  t.equal(strategyOf({ analysis: { iterations: 10, match: [{ headers: {} }] } }), 'ab')
  t.equal(strategyOf({}), 'canary')
})

t.test('interval falls back to 1m', async t => {
  t.equal(intervalMs({ interval: '2m' }), 120_000)
  t.equal(intervalMs(undefined), 60_000)
})
