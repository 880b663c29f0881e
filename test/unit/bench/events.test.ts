// The controller benchmark's tally of the Events created in its window, by reporting component and reason.
import t from 'tap'
import { tallyEvents } from '../../../bench/controller/telemetry.ts'

t.test('Events first recorded in the window, by reporting component (or source) and reason, busiest first', async t => {
  const from = Date.parse('2026-12-05T00:00:10.400Z')
  const to = from + 10_000
  const at = (s: string): Date => new Date(`2026-12-05T00:00:${s}Z`)
  const tally = tallyEvents([
    { reportingComponent: 'sluice', reason: 'Advanced', firstTimestamp: at('12') },
    { reportingComponent: 'sluice', reason: 'Advanced', firstTimestamp: at('15') },
    { reportingComponent: 'sluice', reason: 'Advanced', firstTimestamp: at('10'), metadata: {} },
    { reportingComponent: '', source: { component: 'deployment-controller' }, reason: 'ScalingReplicaSet', firstTimestamp: at('13') },
    { reportingComponent: 'sluice', reason: 'Advanced', firstTimestamp: at('09') },
    { reportingComponent: 'sluice', reason: 'Started', firstTimestamp: at('21') },
    { reason: 'Scheduled', eventTime: at('14') },
  ], from, to)
  t.same(tally, [
    { component: 'sluice', reason: 'Advanced', perSecond: 0.3 },
    { component: 'deployment-controller', reason: 'ScalingReplicaSet', perSecond: 0.1 },
    { component: '(none)', reason: 'Scheduled', perSecond: 0.1 },
  ], "the window's first second counts (one-second timestamps); before it and after it do not")
})
