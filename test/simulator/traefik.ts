// Traefik in the simulator: the canary's share under the stored TraefikService, and the `service` label Traefik's
// metrics give each side. Pure.
import type { SideNames } from './routing.ts'

/**
 * The name Traefik gives a Kubernetes Service that a TraefikService references with a port (its kubernetescrd
 * provider's default naming, `<namespace>-<name>-<port>@kubernetescrd`): the `service` label of its metrics.
 */
export function traefikServiceLabel(namespace: string, service: string, port: number): string {
  return `${namespace}-${service}-${port}@kubernetescrd`
}

interface WeightedChild { name?: string; kind?: string; weight?: number }

/**
 * The canary's share under a stored TraefikService spec: its weighted children's weights over the two side Services
 * (a missing weight is 1, as Traefik takes it). A mirroring TraefikService sends every request to its main service
 * (the primary); the copies it sends the canary are not counted as the canary's traffic.
 */
export function traefikCanaryShare(spec: unknown, names: SideNames): number {
  const services = (spec as { weighted?: { services?: WeightedChild[] } } | undefined)?.weighted?.services ?? []
  let primary = 0
  let canary = 0
  for (const s of services) {
    if ((s.kind ?? 'Service') !== 'Service') continue
    const w = Math.max(0, s.weight ?? 1)
    if (s.name === names.primary) primary += w
    else if (s.name === names.canary) canary += w
  }
  return primary + canary > 0 ? canary / (primary + canary) : 0
}
