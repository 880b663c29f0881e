// Watches the Canaries of one API group (sluice.dev or flagger.app: their status has the same phase and
// canaryWeight) and keeps, per release, when each milestone was first seen: Progressing, the first weight,
// every weight step, Succeeded or Failed.
import { CustomObjectsApi } from '@kubernetes/client-node'
import type { KubeConfig, KubernetesObject } from '@kubernetes/client-node'
import { createInformer } from '../../src/kube/informer.ts'
import { phaseCounts } from '../controller/watch.ts'

/** One release of one app, from the write of its new revision (`appliedAt`) on; times are wall-clock ms. */
export interface Release {
  /** When the write of the new revision was answered (set by the caller once it is). */
  appliedAt: number
  progressingAt?: number
  firstWeightAt?: number
  /** When each weight increase was seen, in order. */
  readonly stepsAt: number[]
  succeededAt?: number
  failedAt?: number
}

export interface ReleaseWatch {
  /** Canaries in each phase now. */
  phases(): Map<string, number>
  count(phase: string): number
  /** Starts a release of `key` (call just before writing the new revision). */
  arm(key: string): Release
  stop(): void
}

interface Seen {
  phase: string | undefined
  weight: number
}

type Listed = { items: KubernetesObject[]; metadata?: { resourceVersion?: string } }
type Status = { phase?: string; canaryWeight?: number }

/** Records what `next` adds to the release: milestones only after Progressing, so the previous release's end is not taken for this one's. */
function record(r: Release, before: Seen | undefined, next: Seen, now: number): void {
  if (next.phase === 'Progressing') r.progressingAt ??= now
  if (r.progressingAt === undefined) return
  if (next.weight > 0) r.firstWeightAt ??= now
  if (next.weight > (before?.weight ?? 0)) r.stepsAt.push(now)
  if (next.phase === 'Succeeded') r.succeededAt ??= now
  if (next.phase === 'Failed') r.failedAt ??= now
}

export async function watchReleases(kc: KubeConfig, group: string, onError: (e: unknown) => void): Promise<ReleaseWatch> {
  const custom = kc.makeApiClient(CustomObjectsApi)
  const version = 'v1beta1'
  const informer = createInformer<KubernetesObject>(kc, {
    path: `/apis/${group}/${version}/canaries`, onError,
    list: async () => (await custom.listClusterCustomObject({ group, version, plural: 'canaries' })) as Listed,
  })
  const last = new Map<string, Seen>()
  const releases = new Map<string, Release>()
  informer.on((obj, event) => {
    const key = `${obj.metadata?.namespace ?? ''}/${obj.metadata?.name ?? ''}`
    if (event === 'delete') { last.delete(key); return }
    const s = (obj as { status?: Status }).status ?? {}
    const next: Seen = { phase: s.phase, weight: s.canaryWeight ?? 0 }
    const before = last.get(key)
    last.set(key, next)
    const r = releases.get(key)
    if (r) record(r, before, next, Date.now())
  })
  await informer.start()
  return {
    ...phaseCounts(last),
    arm(key) {
      const r: Release = { appliedAt: Date.now(), stepsAt: [] }
      releases.set(key, r)
      return r
    },
    stop: () => { informer.stop() },
  }
}
