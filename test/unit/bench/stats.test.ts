import t from 'tap'
import { slope } from '../../../bench/stats.ts'

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
