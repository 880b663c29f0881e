// The controller's flags as `sluice controller` and `sluice serve` read them: defaults, and a clear refusal of a bad value.
import t from 'tap'
import { parseArgs } from 'node:util'
import { KubeConfig } from '@kubernetes/client-node'
import { pino } from 'pino'
import { CONTROLLER_FLAGS, controllerOptionsFrom } from '../../../src/cli/controller.ts'

const options = (...args: string[]): ReturnType<typeof controllerOptionsFrom> =>
  controllerOptionsFrom(parseArgs({ args, options: CONTROLLER_FLAGS }).values, new KubeConfig(), pino({ level: 'silent' }))

t.test('--step-events: on unless turned off', async t => {
  t.equal(options().stepEvents, true, 'each step is an Event by default, as in Flagger')
  t.equal(options('--step-events=off').stepEvents, false)
  t.equal(options('--step-events', 'on').stepEvents, true)
  t.throws(() => options('--step-events=false'), /--step-events: "false" is neither on nor off/)
})

t.test('the other defaults', async t => {
  const o = options()
  t.equal(o.concurrency, 16)
  t.equal(o.minIntervalMs, 10_000)
  t.equal(o.namespace, 'sluice-system')
  t.same(o.telemetry, { host: '0.0.0.0', port: 8080 })
  t.throws(() => options('--concurrency=0'), /--concurrency: "0" is not a positive whole number/)
})
