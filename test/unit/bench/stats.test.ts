import t from 'tap'
import { median, slope } from '../../../bench/stats.ts'

t.test('slope: the least-squares line through the points', async t => {
  t.equal(slope([{ x: 0, y: 1 }, { x: 1, y: 3 }, { x: 2, y: 5 }]), 2)
  t.equal(slope([{ x: 0, y: 4 }, { x: 10, y: 4 }]), 0)
  // Noise around a falling line: the fit recovers the trend, not the last difference.
  t.equal(slope([{ x: 0, y: 10 }, { x: 1, y: 9.5 }, { x: 2, y: 8.5 }, { x: 3, y: 8 }]), -0.7)
  t.ok(Math.abs(slope([{ x: 0, y: 0 }, { x: 1, y: 1 }, { x: 2, y: 0 }, { x: 3, y: 1 }]) - 0.2) < 1e-12)
})

t.test('slope: undefined without two distinct x', async t => {
  t.ok(Number.isNaN(slope([])))
  t.ok(Number.isNaN(slope([{ x: 1, y: 2 }])))
  t.ok(Number.isNaN(slope([{ x: 1, y: 2 }, { x: 1, y: 5 }])))
})

t.test('median: the middle of unsorted samples, nearest rank, without sorting the caller\'s array', async t => {
  const samples = [5, 1, 4, 2, 3]
  t.equal(median(samples), 3)
  t.equal(median([4, 1, 3, 2]), 2, 'an even count: the lower middle, as quantile gives')
  t.same(samples, [5, 1, 4, 2, 3], 'the samples are left as they were')
  t.ok(Number.isNaN(median([])))
})
