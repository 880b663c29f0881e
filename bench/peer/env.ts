// The environment of one contender: the controller benchmark's fresh cluster, simulator and Prometheus, with
// either sluice (its webhook and controller, as bench-controller runs them) or Flagger beside them, alone.
import type { Base, BaseOptions } from '../controller/env.ts'
import { startBase, startEnv } from '../controller/env.ts'
import { envWords, sluiceUnderTest } from '../args.ts'
import type { ControllerKind } from './apps.ts'
import { installFlaggerCrds } from '../../test/cluster/flagger.ts'
import { startFlagger } from './flagger.ts'

export interface Contender {
  /** As reported: sluice, flagger, flagger-qps500. */
  readonly name: string
  readonly kind: ControllerKind
  /** Extra flags of the controller. */
  readonly args: readonly string[]
  /** Run only when named in --controllers, not by default. */
  readonly onRequest?: true
  /** sluice as baselineUnderTest() says, to weigh a change against it in the same run. */
  readonly baseline?: true
}

/**
 * The sluice the baseline runs: another build (BENCH_BASELINE_BIN), other Node flags (BENCH_BASELINE_NODE_ARGS),
 * or both; what neither names is the sluice under test's. An error naming the variables when both are unset.
 */
export function baselineUnderTest(): { controllerNodeArgs: string[]; controllerBin?: string } {
  const bin = process.env.BENCH_BASELINE_BIN
  const flags = process.env.BENCH_BASELINE_NODE_ARGS
  if (!bin && flags === undefined) {
    throw new Error('--controllers sluice-baseline: set BENCH_BASELINE_BIN to the sluice to compare with (e.g. another checkout\'s ' +
      '.cache/bundle/bin/sluice.mjs), BENCH_BASELINE_NODE_ARGS to the Node flags to compare with, or both')
  }
  const underTest = sluiceUnderTest()
  const controllerBin = bin || underTest.controllerBin
  return { controllerNodeArgs: flags === undefined ? underTest.controllerNodeArgs : envWords('BENCH_BASELINE_NODE_ARGS'), ...(controllerBin && { controllerBin }) }
}

export const CONTENDERS: readonly Contender[] = [
  { name: 'sluice', kind: 'sluice', args: [] },
  // sluice without an Event per step (README, "Step Events"): a third fewer of its writes per step.
  { name: 'sluice-no-step-events', kind: 'sluice', args: ['--step-events=off'], onRequest: true },
  // The same sluice flags, another build or other Node flags: before against after on the same day and machine.
  { name: 'sluice-baseline', kind: 'sluice', args: [], onRequest: true, baseline: true },
  { name: 'flagger', kind: 'flagger', args: [] },
  { name: 'flagger-qps500', kind: 'flagger', args: ['-kubeconfig-qps=500', '-kubeconfig-burst=1000'] },
]

export interface PeerEnv extends Base {
  /** The controller under test; `port` serves its /metrics. */
  readonly controller: { readonly pid: number; readonly port: number; readonly log: string; exited(): boolean }
}

export async function startPeerEnv(c: Contender, o: BaseOptions): Promise<PeerEnv> {
  if (c.kind === 'sluice') {
    // As bench-controller runs it: the bundle when make passes it, the controller container's Node flags (bench/args.ts).
    const e = await startEnv({ ...o, controllerArgs: c.args, command: 'controller', ...(c.baseline ? baselineUnderTest() : sluiceUnderTest()) })
    return { ...e, controller: { ...e.controller, port: e.controller.telemetryPort } }
  }
  const base = await startBase(o)
  o.log(`installing Flagger's CRDs and starting flagger ${c.args.join(' ')}`)
  await installFlaggerCrds(base.state.kubeconfig)
  const controller = await startFlagger(base, c.args, o)
  o.log(`flagger pid ${controller.pid}, metrics on 127.0.0.1:${controller.port} (log: ${controller.log})`)
  return { ...base, controller, pids: { controller: controller.pid, ...base.pids } }
}
