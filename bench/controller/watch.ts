// Watches every Canary and keeps what the benchmark measures from their status updates: phase counts, the
// first Progressing after a new revision was applied, and each weight step with the time it was planned for.
import { CustomObjectsApi } from '@kubernetes/client-node'
import type { KubeConfig, KubernetesObject } from '@kubernetes/client-node'
import { lastTickMs } from '../../src/controller/machine/status.ts'
import { createInformer } from '../../src/kube/informer.ts'
import { intervalMs } from '../../src/api/defaults.ts'
import { GROUP, VERSION } from '../../src/api/types.ts'
import type { Canary, CanaryPhase } from '../../src/api/types.ts'

export interface Step {
  readonly key: string
  readonly weight: number
  /** When this benchmark's watch saw the new weight in the status (wall clock, shared with the controller). */
  readonly seenAt: number
  /** The previous tick (Promoted.lastUpdateTime or the newest check, as the controller schedules from) + interval. */
  readonly plannedAt: number
  /** The controller's own time of the tick that stepped (status clock). */
  readonly tickAt: number
}

/** An analysis tick that did not step: a hold (no data), a failed check, a closed gate. */
export interface Hold {
  readonly key: string
  readonly seenAt: number
  readonly verdicts: readonly string[]
}

interface Last {
  phase: CanaryPhase | undefined
  weight: number
  tick: number | undefined
}

export interface CanaryWatch {
  /** Canaries in each phase now. */
  phases(): Map<string, number>
  count(phase: CanaryPhase): number
  /** Records the first Progressing of `key` seen from now on (call before writing the new revision). */
  arm(key: string): void
  progressingAt(key: string): number | undefined
  /** The phase of `key`'s Canary in the last status seen. */
  phaseOf(key: string): CanaryPhase | undefined
  readonly steps: readonly Step[]
  readonly holds: readonly Hold[]
  readonly rollbacks: () => number
  /** Canaries seen entering Succeeded since the watch started. */
  readonly promotions: () => number
  stop(): void
}

/** An analysis tick between two statuses seen in a row: both Progressing, and the tick clock moved. */
function isNewTick(before: Last, next: Last): boolean {
  return before.phase === 'Progressing' && next.phase === 'Progressing' &&
    before.tick !== undefined && next.tick !== undefined && next.tick !== before.tick
}

/** How many Canaries stand in each phase: what the benchmarks' waits read of a watch. */
export interface PhaseCounts {
  phases(): Map<string, number>
  count(phase: string): number
}

/** Canaries in each phase, from the last status seen of each. */
export function phaseCounts(last: ReadonlyMap<string, { readonly phase: string | undefined }>): PhaseCounts {
  return {
    phases() {
      const m = new Map<string, number>()
      for (const l of last.values()) m.set(l.phase ?? '(none)', (m.get(l.phase ?? '(none)') ?? 0) + 1)
      return m
    },
    count: phase => [...last.values()].filter(l => l.phase === phase).length,
  }
}

/** A canary listed already Succeeded did not just promote; one listed Failed counts as a rollback seen. */
function countEntry(entered: { Failed: number; Succeeded: number }, before: Last | undefined, next: Last): void {
  if (next.phase === before?.phase) return
  if (next.phase === 'Failed' || (next.phase === 'Succeeded' && before)) entered[next.phase]++
}

type Listed = { items: KubernetesObject[]; metadata?: { resourceVersion?: string } }

export async function watchCanaries(kc: KubeConfig, onError: (e: unknown) => void): Promise<CanaryWatch> {
  const custom = kc.makeApiClient(CustomObjectsApi)
  const informer = createInformer<KubernetesObject>(kc, {
    path: `/apis/${GROUP}/${VERSION}/canaries`, onError,
    list: async () => (await custom.listClusterCustomObject({ group: GROUP, version: VERSION, plural: 'canaries' })) as Listed,
  })
  const last = new Map<string, Last>()
  const armed = new Set<string>()
  const progressing = new Map<string, number>()
  const steps: Step[] = []
  const holds: Hold[] = []
  const entered = { Failed: 0, Succeeded: 0 }

  informer.on((obj, event) => {
    const c = obj as unknown as Canary
    const key = `${c.metadata.namespace ?? ''}/${c.metadata.name ?? ''}`
    if (event === 'delete') { last.delete(key); return }
    const now = Date.now()
    const s = c.status ?? {}
    const before = last.get(key)
    const next: Last = { phase: s.phase, weight: s.canaryWeight ?? 0, tick: lastTickMs(s) }
    last.set(key, next)
    if (s.phase === 'Progressing' && armed.delete(key)) progressing.set(key, now)
    countEntry(entered, before, next)
    if (!before || !isNewTick(before, next)) return
    if (next.weight > before.weight) {
      steps.push({ key, weight: next.weight, seenAt: now, plannedAt: before.tick! + intervalMs(c.spec.analysis), tickAt: next.tick! })
    } else {
      // status.checks is capped, so the newest records are the ones the last tick appended.
      holds.push({ key, seenAt: now, verdicts: (s.checks ?? []).filter(r => Date.parse(r.time) === next.tick).map(r => r.verdict) })
    }
  })
  await informer.start()
  return {
    ...phaseCounts(last),
    arm(key) {
      progressing.delete(key)
      armed.add(key)
    },
    progressingAt: key => progressing.get(key),
    phaseOf: key => last.get(key)?.phase,
    steps, holds,
    rollbacks: () => entered.Failed,
    promotions: () => entered.Succeeded,
    stop: () => { informer.stop() },
  }
}
