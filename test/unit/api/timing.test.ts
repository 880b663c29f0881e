import t from 'tap'
import { formatDuration, parseDuration } from '../../../src/util/duration.ts'
import { canaryWeights, planOf, planText } from '../../../src/api/timing.ts'

const podinfo = { namespace: 'shop', name: 'podinfo' }

t.test('durations parse like Go\'s and print in the shortest form', async t => {
  t.equal(parseDuration('30s'), 30_000)
  t.equal(parseDuration('1m30s'), 90_000)
  t.equal(parseDuration('2h'), 7_200_000)
  t.equal(parseDuration('500ms'), 500)
  t.equal(parseDuration('1.5m'), undefined)
  t.equal(parseDuration('1 minute'), undefined)
  t.equal(parseDuration(''), undefined)
  t.equal(formatDuration(90_000), '1m30s')
  t.equal(formatDuration(3_600_000), '1h')
  t.equal(formatDuration(5_400_000), '1h30m')
  t.equal(formatDuration(1_500), '1s500ms')
  t.equal(formatDuration(0), '0s')
})

t.test('a duration parsed again, valid or not, and after more texts than are kept, reads the same', async t => {
  const texts = Array.from({ length: 600 }, (_, i) => (i % 3 === 0 ? `${i}x` : `${i}s`))
  const first = texts.map(parseDuration)
  t.same(texts.map(parseDuration), first, 'the same values the second time')
  t.same(texts.slice(0, 5).map(parseDuration), [undefined, 1000, 2000, undefined, 4000], 'the oldest texts, forgotten, parse again')
  t.equal(parseDuration('1m30s'), 90_000)
  t.equal(parseDuration('1m30s'), 90_000)
  t.equal(parseDuration('1.5m'), undefined)
  t.equal(parseDuration('1.5m'), undefined)
  const long = `${'1'.repeat(100)}ms`
  t.equal(parseDuration(long), Number('1'.repeat(100)), 'a text too long to keep still parses')
  t.equal(parseDuration(long), Number('1'.repeat(100)))
})

t.test('canary steps, including the overshoot past maxWeight', async t => {
  t.same(canaryWeights({ stepWeight: 20 }), [20, 40, 60, 80, 100])
  t.same(canaryWeights({ stepWeight: 20, maxWeight: 50 }), [20, 40, 60], 'Flagger overshoots maxWeight')
  t.same(canaryWeights({ stepWeight: 30 }), [30, 60, 90, 100], 'never above 100')
  t.same(canaryWeights({ stepWeights: [1, 2, 10, 80], maxWeight: 20 }), [1, 2, 10, 80], 'the ladder ignores maxWeight')
  t.same(canaryWeights({ stepWeight: 0 }), [], 'an invalid step does not loop')
})

t.test('canary plan text', async t => {
  t.equal(planText(podinfo, { analysis: { stepWeight: 20, threshold: 5 } }),
    'canary shop/podinfo: 5 steps of 20% every 1m (20, 40, 60, 80, 100), promotion in about 6m, done in about 7m; rollback after 5 failed checks, about 6m')
  t.equal(planText(podinfo, { analysis: { stepWeight: 20, maxWeight: 50, interval: '90s' } }),
    'canary shop/podinfo: 3 steps of 20% every 1m30s (20, 40, 60), promotion in about 6m, done in about 7m30s; rollback after 1 failed check, about 3m')
})

t.test('stepWeights are listed', async t => {
  t.equal(planText(podinfo, { analysis: { stepWeights: [1, 2, 10, 80], interval: '30s', threshold: 2 } }),
    'canary shop/podinfo: 4 steps every 30s (1, 2, 10, 80), promotion in about 2m30s, done in about 3m; rollback after 2 failed checks, about 1m30s')
})

t.test('with stepWeights, stepWeight and maxWeight do not change the plan (Flagger\'s shape)', async t => {
  const analysis = { stepWeights: [1, 2, 10, 80], stepWeight: 5, maxWeight: 50, interval: '30s', threshold: 2 }
  t.same(canaryWeights(analysis), [1, 2, 10, 80])
  t.equal(planText(podinfo, { analysis }),
    'canary shop/podinfo: 4 steps every 30s (1, 2, 10, 80), promotion in about 2m30s, done in about 3m; rollback after 2 failed checks, about 1m30s')
})

t.test('gradual promotion adds the primary\'s steps', async t => {
  const plan = planOf({ analysis: { stepWeight: 25, stepWeightPromotion: 40 } })
  t.equal(plan.promotionSteps, 3)
  t.equal(plan.promotionMs, 5 * 60_000, 'the promotion on the tick after the last step')
  t.equal(plan.doneMs, 9 * 60_000, 'then 3 steps back and Finalising')
  t.equal(planText(podinfo, { analysis: { stepWeight: 25, stepWeightPromotion: 40 } }),
    'canary shop/podinfo: 4 steps of 25% every 1m (25, 50, 75, 100), then the primary takes traffic back in 3 steps of 40%, promotion in about 5m, done in about 9m; rollback after 1 failed check, about 2m')
})

t.test('blue-green: interval × (iterations + 2) to the promotion, one more to done', async t => {
  t.equal(planText(podinfo, { analysis: { iterations: 10, threshold: 2 } }),
    'blue-green shop/podinfo: 10 iterations every 1m, promotion in about 12m, done in about 13m; rollback after 2 failed checks, about 3m')
  t.equal(planText(podinfo, { analysis: { iterations: 3, interval: '2m', mirror: true } }, 'blue-green'),
    'blue-green shop/podinfo: 3 iterations every 2m with mirrored traffic, promotion in about 10m, done in about 12m; rollback after 1 failed check, about 4m')
})

t.test('ab: interval × (iterations + 1) to the promotion, on matching requests', async t => {
  const spec = { analysis: { iterations: 5, interval: '1m30s', threshold: 3, match: [{ headers: { 'x-canary': { exact: 'insider' } } }] } }
  t.equal(planText(podinfo, spec),
    'ab shop/podinfo: 5 iterations every 1m30s on matching requests, promotion in about 9m, done in about 10m30s; rollback after 3 failed checks, about 6m')
  t.same(planOf(spec), {
    strategy: 'ab', skipAnalysis: false, intervalMs: 90_000, weights: [], mirrorStep: false, iterations: 5, promotionSteps: 0,
    promotionMs: 540_000, doneMs: 630_000, threshold: 3, rollbackMs: 360_000,
  })
})

t.test('canary with mirroring first: one interval of mirrored traffic before the steps', async t => {
  t.equal(planText(podinfo, { analysis: { stepWeight: 50, mirror: true, threshold: 1 } }, 'canary'),
    'canary shop/podinfo: 2 steps of 50% every 1m (50, 100), after one interval of mirrored traffic, promotion in about 4m, done in about 5m; rollback after 1 failed check, about 2m')
})

t.test('skipped analysis says so', async t => {
  t.equal(planText(podinfo, { skipAnalysis: true, analysis: { stepWeight: 10 } }),
    'canary shop/podinfo: analysis skipped, promotion as soon as the new version is ready')
})
