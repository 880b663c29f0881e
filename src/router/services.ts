// Pure builders for the three Services of a Canary: `<svc>-primary` and `<svc>-canary` select each
// side's pods, the apex `<svc>` selects one side (the primary, except while the kubernetes router has
// switched it to the canary) and, after finalize, the target's own pods.
import type { Canary, CustomMetadata } from '../api/types.ts'
import type { PodSelector } from '../api/selector.ts'
import { generatedMeta, namespaceOf, type GeneratedMeta } from '../kube/generated.ts'

/** The apex Service name: service.name, else the target's name (as in Flagger). */
export function serviceName(c: Canary): string {
  return c.spec.service.name ?? c.spec.targetRef.name
}

export type ServiceSide = 'primary' | 'canary'

export interface ServicePort {
  name: string
  port: number
  targetPort: number | string
  protocol: 'TCP'
  appProtocol?: string
}

export interface ServiceObject {
  apiVersion: 'v1'
  kind: 'Service'
  metadata: GeneratedMeta | { name: string; namespace: string }
  spec: { type: 'ClusterIP'; clusterIP?: 'None'; selector: Record<string, string>; ports: ServicePort[] }
  [key: string]: unknown
}

export function servicePort(c: Canary): ServicePort {
  const s = c.spec.service
  const port: ServicePort = { name: s.portName ?? 'http', port: s.port, targetPort: s.targetPort ?? s.port, protocol: 'TCP' }
  if (s.appProtocol) port.appProtocol = s.appProtocol
  return port
}

export function sideSelector(sel: PodSelector, side: ServiceSide | 'target'): Record<string, string> {
  return { [sel.label]: side === 'primary' ? `${sel.value}-primary` : sel.value }
}

function service(c: Canary, name: string, selector: Record<string, string>, custom: CustomMetadata | undefined, headless: boolean): ServiceObject {
  const svc: ServiceObject = {
    apiVersion: 'v1', kind: 'Service',
    metadata: generatedMeta(c, name, custom ?? {}),
    spec: { type: 'ClusterIP', selector, ports: [servicePort(c)] },
  }
  if (headless) svc.spec.clusterIP = 'None'
  return svc
}

export function primaryServiceName(c: Canary): string { return `${serviceName(c)}-primary` }
export function canaryServiceName(c: Canary): string { return `${serviceName(c)}-canary` }

/** `<svc>-primary`, selecting `<label>: <value>-primary`. headless applies to the side Services only, as in Flagger. */
export function primaryService(c: Canary, sel: PodSelector): ServiceObject {
  return service(c, primaryServiceName(c), sideSelector(sel, 'primary'), c.spec.service.primary, c.spec.service.headless === true)
}

/** `<svc>-canary`, selecting the target's pods `<label>: <value>`. */
export function canaryService(c: Canary, sel: PodSelector): ServiceObject {
  return service(c, canaryServiceName(c), sideSelector(sel, 'canary'), c.spec.service.canary, c.spec.service.headless === true)
}

/** The apex `<svc>`, the name clients use, selecting `side`'s pods. */
export function apexService(c: Canary, sel: PodSelector, side: ServiceSide = 'primary'): ServiceObject {
  return service(c, serviceName(c), sideSelector(sel, side), c.spec.service.apex, false)
}

/**
 * The apex handed back to the user on finalize: it selects the target's pods and carries neither the
 * managed-by label nor the owner reference, so deleting the Canary no longer deletes it. Applied by
 * the same field manager, it drops every field sluice owned and this object leaves out.
 */
export function releasedApexService(c: Canary, sel: PodSelector): ServiceObject {
  return {
    apiVersion: 'v1', kind: 'Service',
    metadata: { name: serviceName(c), namespace: namespaceOf(c) },
    spec: { type: 'ClusterIP', selector: sideSelector(sel, 'target'), ports: [servicePort(c)] },
  }
}

/** Which side a stored apex Service selects; undefined when it selects neither. */
export function apexSide(selector: Readonly<Record<string, string>> | undefined, sel: PodSelector): ServiceSide | undefined {
  const v = selector?.[sel.label]
  if (v === `${sel.value}-primary`) return 'primary'
  if (v === sel.value) return 'canary'
  return undefined
}
