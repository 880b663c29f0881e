// Readiness with Flagger's threshold: the share of updated replicas that must be available.
import t from 'tap'
import { readiness } from '../../../../src/controller/machine/readiness.ts'
import { workload } from './fixtures.ts'

t.test('a finished rollout is ready', async t => {
  t.equal(readiness('podinfo', workload(), 100).ready, true)
})

t.test('each unfinished state says what it waits for', async t => {
  const cases: Array<[Parameters<typeof workload>[0], RegExp]> = [
    [{ exists: false }, /does not exist yet/],
    [{ replicas: 0 }, /is scaled to zero/],
    [{ generation: 3, observedGeneration: 2 }, /has not yet seen generation 3/],
    [{ updatedReplicas: 1 }, /1 of 3 replicas updated/],
    [{ totalReplicas: 4 }, /1 old replica is still terminating/],
    [{ availableReplicas: 2 }, /2 of 3 updated replicas available \(needs 3\)/],
  ]
  for (const [state, message] of cases) {
    const r = readiness('podinfo', workload(state), 100)
    t.equal(r.ready, false, String(message))
    t.match(r.message, message)
    t.match(r.message, /^podinfo: /)
  }
})

t.test('the ready threshold lowers the bar, but never to zero pods', async t => {
  t.equal(readiness('p', workload({ replicas: 4, updatedReplicas: 4, availableReplicas: 2, totalReplicas: 4 }), 50).ready, true)
  t.equal(readiness('p', workload({ replicas: 4, updatedReplicas: 4, availableReplicas: 1, totalReplicas: 4 }), 50).ready, false)
  t.equal(readiness('p', workload({ replicas: 1, updatedReplicas: 1, availableReplicas: 0, totalReplicas: 1 }), 50).ready, false)
})
