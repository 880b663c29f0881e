// The caller's loop of the check protocol.
import t from 'tap'
import { advanceWithChecks } from '../../../../src/controller/machine/tick.ts'
import type { CheckStage } from '../../../../src/controller/machine/phases.ts'
import { hook, hooks, observed, passing, progressing, routes, spec } from './fixtures.ts'

t.test('runs each stage asked for, in order, and returns the decision', async t => {
  const asked: CheckStage[] = []
  const r = await advanceWithChecks(
    { spec: spec({ webhooks: hooks(['rollout', 'load']) }), status: progressing({ canaryWeight: 20 }) },
    observed({ weights: routes(20) }),
    async stage => {
      asked.push(stage)
      return stage === 'metrics' ? [passing('request-success-rate', 99.9)] : [hook('rollout', 'load', 'pass')]
    },
  )
  t.same(asked, ['rollout', 'metrics'])
  t.equal(r.status.canaryWeight, 40)
  t.notOk(r.actions.some(a => a.kind === 'check'))
})

t.test('a runner that reports nothing for a configured stage is an error, not an endless loop', async t => {
  await t.rejects(
    advanceWithChecks({ spec: spec(), status: progressing({ canaryWeight: 20 }) }, observed({ weights: routes(20) }), async () => []),
    /check stage metrics returned no outcomes/,
  )
})
