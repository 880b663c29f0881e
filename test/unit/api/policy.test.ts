import t from 'tap'
import { lintDeployment, lintPolicy } from '../../../src/api/lint.ts'
import { choosePolicy, matchesSelector } from '../../../src/api/policy.ts'
import type { DeliveryPolicySpec } from '../../../src/api/types.ts'
import { annotated, canaryAnnotations, policy } from './fixtures.ts'

const D = 'Deployment shop/podinfo'

t.test('label selectors follow Kubernetes semantics', async t => {
  const labels = { tier: 'prod', team: 'web' }
  t.ok(matchesSelector(undefined, labels), 'no selector selects everything')
  t.ok(matchesSelector({}, undefined))
  t.ok(matchesSelector({ matchLabels: { tier: 'prod' } }, labels))
  t.notOk(matchesSelector({ matchLabels: { tier: 'dev' } }, labels))
  t.ok(matchesSelector({ matchExpressions: [{ key: 'tier', operator: 'In', values: ['prod', 'staging'] }] }, labels))
  t.notOk(matchesSelector({ matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['prod'] }] }, labels))
  t.ok(matchesSelector({ matchExpressions: [{ key: 'zone', operator: 'NotIn', values: ['a'] }] }, labels), 'NotIn holds for an absent label')
  t.ok(matchesSelector({ matchExpressions: [{ key: 'team', operator: 'Exists' }] }, labels))
  t.notOk(matchesSelector({ matchExpressions: [{ key: 'team', operator: 'DoesNotExist' }] }, labels))
})

t.test('the named policy supplies defaults; every selecting policy constrains', async t => {
  const strict = policy('strict', { mode: 'enforce', namespaceSelector: { matchLabels: { tier: 'prod' } } })
  const lax = policy('lax', { mode: 'audit', selector: { matchLabels: { team: 'web' } } })
  const other = policy('other', { mode: 'audit', namespaceSelector: { matchLabels: { tier: 'dev' } } })
  const input = { policies: [lax, other, strict], namespaceLabels: { tier: 'prod' }, labels: { team: 'web' } }
  const selected = choosePolicy(input)
  t.equal(selected.policy?.metadata.name, 'strict', 'enforce before audit')
  t.same(selected.constraining.map(p => p.metadata.name), ['strict', 'lax'])
  const named = choosePolicy({ ...input, named: 'other' })
  t.equal(named.policy?.metadata.name, 'other')
  t.same(named.constraining.map(p => p.metadata.name), ['other', 'strict', 'lax'], 'naming a policy escapes none')
})

const constraints = (mode: 'enforce' | 'audit', c: DeliveryPolicySpec['constraints']): DeliveryPolicySpec => ({ mode, constraints: c })

function report(spec: DeliveryPolicySpec, overrides: Record<string, string | undefined> = {}) {
  return lintDeployment(annotated(canaryAnnotations(overrides)), { policies: [policy('prod', spec)] })
}

t.test('maxStepWeight limits stepWeight and every rise of stepWeights', async t => {
  t.same(report(constraints('enforce', { maxStepWeight: 10 })).rejections,
    [`${D}: annotation sluice.dev/analysis: stepWeight must be at most 10 under DeliveryPolicy prod (got 20)`])
  const ladder = report(constraints('enforce', { maxStepWeight: 25 }), {
    'sluice.dev/analysis': 'interval: 1m\nthreshold: 5\nstepWeights: [5, 25, 60, 80]\nmetrics: [{name: request-success-rate, thresholdRange: {min: 99}}]',
  })
  t.same(ladder.rejections, [`${D}: annotation sluice.dev/analysis: stepWeights[2] rises by 35 (from 25 to 60); DeliveryPolicy prod allows at most 25 per step`])
})

t.test('minInterval applies to the interval, including the default one', async t => {
  t.same(report(constraints('enforce', { minInterval: '2m' })).rejections,
    [`${D}: annotation sluice.dev/analysis: interval must be at least 2m under DeliveryPolicy prod (got 1m)`])
  const defaulted = report(constraints('enforce', { minInterval: '90s' }), {
    'sluice.dev/analysis': 'threshold: 5\nstepWeight: 20\nmetrics: [{name: request-success-rate, thresholdRange: {min: 99}}]',
  })
  t.same(defaulted.rejections,
    [`${D}: annotation sluice.dev/analysis: interval must be at least 1m30s under DeliveryPolicy prod (got the default 1m)`])
})

t.test('requiredMetrics must all be checked, and analysis cannot be skipped', async t => {
  t.same(report(constraints('enforce', { requiredMetrics: ['request-success-rate', 'request-duration'] })).rejections,
    [`${D}: annotation sluice.dev/analysis: metrics must include request-duration: DeliveryPolicy prod requires it`])
  t.same(report(constraints('enforce', { requiredMetrics: ['request-success-rate'] }), {
    'sluice.dev/spec': 'ingressRef: {name: podinfo}\nskipAnalysis: true',
  }).rejections, [`${D}: annotation sluice.dev/spec: skipAnalysis must not be true: DeliveryPolicy prod requires the metrics request-success-rate`])
})

t.test('allowedProviders restricts the router', async t => {
  t.same(report(constraints('enforce', { allowedProviders: ['istio', 'gatewayapi:v1'] })).rejections,
    [`${D}: annotation sluice.dev/provider must be one of istio, gatewayapi:v1 under DeliveryPolicy prod (got nginx)`])
  t.same(report(constraints('enforce', { allowedProviders: ['gatewayapi:v1'] }), {
    'sluice.dev/provider': 'gatewayapi', 'sluice.dev/spec': 'service: {gatewayRefs: [{name: public}]}',
  }).rejections, [], 'gatewayapi is gatewayapi:v1')
})

t.test('audit mode turns violations into warnings, other errors still reject', async t => {
  const audited = report(constraints('audit', { maxStepWeight: 10 }), { 'sluice.dev/port': '0' })
  t.same(audited.rejections, [`${D}: annotation sluice.dev/port must be between 1 and 65535 (got 0)`])
  t.same(audited.warnings, [`${D}: annotation sluice.dev/analysis: stepWeight must be at most 10 under DeliveryPolicy prod (got 20)`])
})

t.test('policy defaults named in a message are blamed on the policy', async t => {
  const spec: DeliveryPolicySpec = { mode: 'audit', defaults: { analysis: { threshold: 0 } } }
  const r = lintDeployment(annotated(canaryAnnotations({
    'sluice.dev/analysis': 'interval: 1m\nstepWeight: 20\nmetrics: [{name: request-success-rate, thresholdRange: {min: 99}}]',
  })), { policies: [policy('prod', spec)] })
  t.same(r.rejections, [`${D}: DeliveryPolicy prod defaults: analysis.threshold must be at least 1 (got 0)`])
})

t.test('a DeliveryPolicy is validated by its own schema and rules', async t => {
  t.same(lintPolicy(policy('prod', { mode: 'strict' as 'enforce', constraints: { minInterval: 'soon', maxStepWeight: 10 }, defaults: { analysis: { stepWeight: 20 } } })), [
    'DeliveryPolicy prod: spec.mode must be one of enforce, audit (got "strict")',
    'DeliveryPolicy prod: spec.constraints.minInterval must be a duration such as 30s, 1m or 1m30s (got "soon")',
    'DeliveryPolicy prod: spec.defaults.analysis.stepWeight must be at most constraints.maxStepWeight (10) (got 20)',
  ])
  t.same(lintPolicy(policy('ok', { mode: 'enforce', defaults: { strategy: 'canary', analysis: { stepWeight: 5, stepWeights: [5, 10] } } })),
    ['DeliveryPolicy ok: spec.defaults.analysis.stepWeights cannot be combined with stepWeight; keep one of them'])
})
