// The controller benchmark's reading of a histogram between two scrapes of /metrics, one labelled series at a time.
import t from 'tap'
import { histogramDelta, parseExposition } from '../../../bench/controller/telemetry.ts'

const exposition = (urgent: readonly number[], routine: readonly number[]): string => {
  const lines: string[] = []
  for (const [lane, counts] of [['urgent', urgent], ['routine', routine]] as const) {
    const [fast, slow, all, sum] = counts
    lines.push(
      `sluice_workqueue_wait_seconds_bucket{le="0.01",lane="${lane}"} ${fast}`,
      `sluice_workqueue_wait_seconds_bucket{le="10",lane="${lane}"} ${slow}`,
      `sluice_workqueue_wait_seconds_bucket{le="+Inf",lane="${lane}"} ${all}`,
      `sluice_workqueue_wait_seconds_sum{lane="${lane}"} ${sum}`,
      `sluice_workqueue_wait_seconds_count{lane="${lane}"} ${all}`,
    )
  }
  return lines.join('\n')
}

t.test("each lane's observations in the window, from its own series", async t => {
  const before = parseExposition(exposition([5, 5, 5, 0.01], [2, 3, 3, 4]))
  const after = parseExposition(exposition([105, 105, 105, 0.21], [2, 43, 53, 904]))
  const urgent = histogramDelta(before, after, 'sluice_workqueue_wait_seconds', { lane: 'urgent' })
  t.equal(urgent.count, 100)
  t.equal(urgent.meanMs, 2, 'the sum and count of the window')
  t.ok(urgent.p99Ms <= 10, 'every urgent wait within the first bucket')
  const routine = histogramDelta(before, after, 'sluice_workqueue_wait_seconds', { lane: 'routine' })
  t.equal(routine.count, 50)
  t.equal(routine.meanMs, 18_000)
  t.equal(routine.p99Ms, 10_000, 'past the last finite bucket: its bound, as Prometheus reports it')
  t.equal(routine.p50Ms > 10 && routine.p50Ms <= 10_000, true, 'the median in the 10 ms … 10 s bucket')
})
