import t from 'tap'
import { backoffDelay } from '../../../src/util/backoff.ts'

t.test('grows by the factor from the first retry and stops at the cap', async t => {
  const b = { initialMs: 1000, factor: 2, maxMs: 30_000 }
  t.same([1, 2, 3, 4, 5, 6, 7].map(n => backoffDelay(b, n)), [1000, 2000, 4000, 8000, 16_000, 30_000, 30_000])
})

t.test('without a cap it keeps growing', async t => {
  t.same([1, 2, 3].map(n => backoffDelay({ initialMs: 10, factor: 5 }, n)), [10, 50, 250])
})

t.test('jitter lengthens a wait by up to its fraction, and only when given', async t => {
  t.equal(backoffDelay({ initialMs: 100, factor: 2, jitter: 0.5 }, 2, () => 0.5), 250)
  t.equal(backoffDelay({ initialMs: 100, factor: 2, jitter: 0.1 }, 2, () => 0), 200)
  t.equal(backoffDelay({ initialMs: 100, factor: 2 }, 2, () => 1), 200)
})
