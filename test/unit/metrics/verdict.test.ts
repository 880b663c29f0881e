import t from 'tap'
import { MultipleValuesError, NoValuesError, QueryError } from '../../../src/metrics/provider.ts'
import { effectiveRange, metricVerdict, outcomeOfError } from '../../../src/metrics/verdict.ts'
import type { CanaryMetric } from '../../../src/api/types.ts'

const time = new Date('2026-01-01T00:00:00Z')
const rate: CanaryMetric = { name: 'request-success-rate', interval: '1m', thresholdRange: { min: 99 } }
const duration: CanaryMetric = { name: 'request-duration', interval: '1m', thresholdRange: { max: 500 } }

t.test('a value below the minimum fails, in percent', async t => {
  const r = metricVerdict(rate, { kind: 'value', value: 91.2 }, { time })
  t.same(r, {
    name: 'request-success-rate', value: 91.2, range: { min: 99 }, window: '1m', verdict: 'fail',
    message: 'request-success-rate 91.2% is below the minimum 99% (window 1m)', time: '2026-01-01T00:00:00.000Z',
  })
})

t.test('a value above the maximum fails, in milliseconds', async t => {
  const r = metricVerdict(duration, { kind: 'value', value: 612.04 }, { time })
  t.equal(r.verdict, 'fail')
  t.equal(r.message, 'request-duration 612ms is above the maximum 500ms (window 1m)')
})

t.test('values within range pass; bounds are inclusive', async t => {
  t.equal(metricVerdict(rate, { kind: 'value', value: 99 }, { time }).verdict, 'pass')
  t.equal(metricVerdict(duration, { kind: 'value', value: 500 }, { time }).verdict, 'pass')
  const r = metricVerdict(rate, { kind: 'value', value: 99.5 }, { time })
  t.equal(r.message, 'request-success-rate 99.5% is within range (minimum 99%) (window 1m)')
})

t.test('custom metrics are plain numbers and both bounds are checked', async t => {
  const m: CanaryMetric = { name: 'queue-depth', interval: '30s', thresholdRange: { min: 1, max: 10 } }
  t.equal(metricVerdict(m, { kind: 'value', value: 12 }, { time }).message, 'queue-depth 12 is above the maximum 10 (window 30s)')
  t.equal(metricVerdict(m, { kind: 'value', value: 0.5 }, { time }).message, 'queue-depth 0.5 is below the minimum 1 (window 30s)')
  t.equal(metricVerdict(m, { kind: 'value', value: 5 }, { time }).message, 'queue-depth 5 is within range (minimum 1, maximum 10) (window 30s)')
})

t.test('a failing value is never printed equal to its bound', async t => {
  const r = metricVerdict({ name: 'request-success-rate', thresholdRange: { min: 100 } }, { kind: 'value', value: 99.99999 }, { time })
  t.equal(r.verdict, 'fail')
  t.equal(r.message, 'request-success-rate 99.99999% is below the minimum 100% (window 1m)')
})

t.test('+Inf fails a maximum', async t => {
  const r = metricVerdict(duration, { kind: 'value', value: Infinity }, { time })
  t.equal(r.verdict, 'fail')
  t.equal(r.message, 'request-duration +Infms is above the maximum 500ms (window 1m)')
})

t.test('the deprecated threshold is a minimum for success rate and a maximum otherwise', async t => {
  t.same(effectiveRange({ name: 'request-success-rate', threshold: 99 }), { min: 99 })
  t.same(effectiveRange({ name: 'request-duration', threshold: 500 }), { max: 500 })
  t.same(effectiveRange({ name: 'request-duration', threshold: 500, thresholdRange: { max: 200 } }), { max: 200 })
  t.equal(effectiveRange({ name: 'x' }), undefined)
  t.equal(metricVerdict({ name: 'request-success-rate', threshold: 99 }, { kind: 'value', value: 98 }, { time }).verdict, 'fail')
  t.equal(metricVerdict({ name: 'request-duration', threshold: 500 }, { kind: 'value', value: 501 }, { time }).verdict, 'fail')
})

t.test('no threshold at all passes and says so', async t => {
  const r = metricVerdict({ name: 'x', interval: '1m' }, { kind: 'value', value: 3 }, { time })
  t.equal(r.verdict, 'pass')
  t.equal(r.message, 'x 3 (no threshold set) (window 1m)')
  t.notOk('range' in r)
})

t.test('no values is no-data with a null value, and says it holds', async t => {
  const r = metricVerdict(rate, outcomeOfError(new NoValuesError('empty')), { time })
  t.equal(r.verdict, 'no-data')
  t.equal(r.value, null)
  t.equal(r.message, 'request-success-rate: no values (no traffic in the last 1m, or the query matches no series): holding')
  t.equal(metricVerdict(rate, { kind: 'value', value: NaN }, { time }).verdict, 'no-data', 'NaN is never a pass')
})

t.test('several series is an error naming them', async t => {
  const r = metricVerdict(rate, outcomeOfError(new MultipleValuesError(2, [{ pod: 'a' }, { pod: 'b' }])), { time })
  t.equal(r.verdict, 'error')
  t.equal(r.value, null)
  t.equal(r.message, 'request-success-rate: the query returned 2 series ({pod="a"}, {pod="b"}); aggregate it to one, e.g. with sum(): holding')
})

t.test('a query error is an error carrying its message', async t => {
  const e = new QueryError('timeout', 'Prometheus at http://prom:9090 did not answer within 5s')
  const r = metricVerdict(rate, outcomeOfError(e), { time })
  t.equal(r.verdict, 'error')
  t.equal(r.message, 'request-success-rate: Prometheus at http://prom:9090 did not answer within 5s: holding')
  t.equal(metricVerdict(rate, outcomeOfError('boom'), { time }).message, 'request-success-rate: boom: holding')
})

t.test('the window defaults to the metric interval and can be overridden', async t => {
  t.equal(metricVerdict({ name: 'x' }, { kind: 'value', value: 1 }, { time }).window, '1m')
  t.equal(metricVerdict(rate, { kind: 'value', value: 100 }, { time, window: '2m' }).window, '2m')
})
