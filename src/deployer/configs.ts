// Config tracking: the ConfigMaps and Secrets a pod template uses, their `-primary` copies, and the
// primary's template rewritten to use the copies, so a config change is released like a new image.
import type { V1Container, V1PodSpec, V1Volume } from '@kubernetes/client-node'

export type ConfigKind = 'configmap' | 'secret'

export interface ConfigRef {
  readonly kind: ConfigKind
  readonly name: string
}

/** `configmap/<name>`, the key status.trackedConfigs uses. */
export function configKey(ref: ConfigRef): string {
  return `${ref.kind}/${ref.name}`
}

export function primaryConfigName(name: string): string {
  return `${name}-primary`
}

/** Annotation on a ConfigMap or Secret that keeps it out of tracking (it is shared, or too large to copy). */
export const CONFIG_TRACKING_ANNOTATION = 'sluice.dev/config-tracking'

interface Walk {
  configMap(name: string, set: (name: string) => void): void
  secret(name: string, set: (name: string) => void): void
}

type Named = { name?: string }

function visitVolume(v: V1Volume, visit: Walk): void {
  const cm = v.configMap
  if (cm?.name) visit.configMap(cm.name, n => { cm.name = n })
  const secret = v.secret
  if (secret?.secretName) visit.secret(secret.secretName, n => { secret.secretName = n })
  for (const source of v.projected?.sources ?? []) visitRefs(source.configMap, source.secret, visit)
}

function visitRefs(configMap: Named | undefined, secret: Named | undefined, visit: Walk): void {
  if (configMap?.name) visit.configMap(configMap.name, n => { configMap.name = n })
  if (secret?.name) visit.secret(secret.name, n => { secret.name = n })
}

function visitContainer(c: V1Container, visit: Walk): void {
  for (const e of c.env ?? []) visitRefs(e.valueFrom?.configMapKeyRef, e.valueFrom?.secretKeyRef, visit)
  for (const e of c.envFrom ?? []) visitRefs(e.configMapRef, e.secretRef, visit)
}

// One walk over every place a pod spec names a ConfigMap or Secret, used both to list and to rename them.
function walk(spec: V1PodSpec, visit: Walk): void {
  for (const v of spec.volumes ?? []) visitVolume(v, visit)
  for (const c of [...spec.containers, ...(spec.initContainers ?? [])]) visitContainer(c, visit)
}

/** Every ConfigMap and Secret the pod spec names, once each, in a stable order. */
export function configRefs(spec: V1PodSpec | undefined): ConfigRef[] {
  if (!spec) return []
  const found = new Map<string, ConfigRef>()
  const add = (kind: ConfigKind) => (name: string): void => { found.set(`${kind}/${name}`, { kind, name }) }
  walk(spec, { configMap: add('configmap'), secret: add('secret') })
  return [...found.values()].sort((a, b) => configKey(a).localeCompare(configKey(b)))
}

/** A copy of the pod spec whose references to tracked configs point at their `-primary` copies. */
export function withPrimaryConfigs(spec: V1PodSpec, tracked: ReadonlySet<string>): V1PodSpec {
  const copy = structuredClone(spec)
  const rename = (kind: ConfigKind) => (name: string, set: (name: string) => void): void => {
    if (tracked.has(configKey({ kind, name }))) set(primaryConfigName(name))
  }
  walk(copy, { configMap: rename('configmap'), secret: rename('secret') })
  return copy
}
