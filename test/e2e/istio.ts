// What the istio end-to-end files share: the annotations of an istio canary, the Deployment applied and
// initialized in a test namespace with the istio CRDs installed, and readers of the stored VirtualService.
import type { Test } from 'tap'
import { installIstioCrds } from '../cluster/istio.ts'
import { kubeconfigPath } from '../helpers/kube.ts'
import { apply, deploymentYaml } from './apps.ts'
import { phase, testNamespace, watchRecorder } from './env.ts'

export const ISTIO = {
  'sluice.dev/strategy': 'canary',
  'sluice.dev/provider': 'istio',
  'sluice.dev/port': '9898',
  'sluice.dev/analysis': 'interval: 2s\nthreshold: 2\nstepWeight: 20\nmaxWeight: 60\nmetrics:\n- {name: request-success-rate, interval: 10s, thresholdRange: {min: 99}}\n',
}

export interface StoredHttpRoute {
  match?: { headers?: Record<string, Record<string, string>> }[]
  route?: { destination?: { host?: string }; weight?: number }[]
  mirror?: { host?: string }
  mirrorPercentage?: { value?: number }
}

const httpOf = (vs: unknown): StoredHttpRoute[] => (vs as { spec?: { http?: StoredHttpRoute[] } }).spec?.http ?? []

/** http[0]'s weight on podinfo-canary (0 when it has none). */
export const canaryWeightOf = (vs: unknown): number => httpOf(vs)[0]?.route?.find(r => r.destination?.host === 'podinfo-canary')?.weight ?? 0

/** Every distinct `read` of VirtualService podinfo as stored, in order, from now until stop(). */
export function virtualServiceRecorder<T>(ns: string, read: (vs: unknown) => T): ReturnType<typeof watchRecorder<T>> {
  return watchRecorder(`/apis/networking.istio.io/v1/namespaces/${ns}/virtualservices`, 'podinfo', read)
}

/** Each http route as its header matches ("name=kind:value") and its destinations ("host:weight"). */
export function httpRoutesOf(vs: unknown): { headers: string[]; route: string[] }[] {
  return httpOf(vs).map(h => ({
    headers: (h.match ?? []).flatMap(m => Object.entries(m.headers ?? {}).map(([name, v]) => `${name}=${Object.entries(v).map(([k, s]) => `${k}:${s}`).join()}`)),
    route: (h.route ?? []).map(r => `${r.destination?.host ?? ''}:${r.weight ?? 0}`),
  }))
}

export interface MirrorView { canary: number; mirror?: string; percent?: number }

/** http[0]'s canary weight and its mirror (host and percentage). */
export function mirrorViewOf(vs: unknown): MirrorView {
  const first = httpOf(vs)[0]
  const v: MirrorView = { canary: canaryWeightOf(vs) }
  if (first?.mirror?.host) v.mirror = first.mirror.host
  if (first?.mirrorPercentage?.value !== undefined) v.percent = first.mirrorPercentage.value
  return v
}

/** A test namespace whose controller reads `metricsServer`, with podinfo applied under `sluice` and Initialized. */
export async function initialized(t: Test, metricsServer: string, sluice: Record<string, string> = ISTIO): Promise<string> {
  await installIstioCrds(kubeconfigPath())
  const { ns } = await testNamespace(t, { metricsServer })
  await apply(deploymentYaml({ ns, sluice }))
  await phase(ns, 'podinfo', 'Initialized')
  return ns
}
