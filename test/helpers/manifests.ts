// Manifests the tests apply with kubectl, written as data.
import { stringify } from 'yaml'
import { container, deployment, manifest } from './objects.ts'

export interface AppOptions {
  readonly namespace: string
  readonly name?: string
  /** Left out by default, so that the server's default (1) applies. */
  readonly replicas?: number
  readonly image?: string
  readonly annotations?: Record<string, string>
  readonly labels?: Record<string, string>
  /** The selector's (and pods') label key, `app` by default. */
  readonly selectorLabel?: string
  readonly podAnnotations?: Record<string, string>
  /** Extra pod spec fields (env, volumes, nodeSelector). */
  readonly podSpec?: Record<string, unknown>
  readonly containerExtra?: Record<string, unknown>
}

/** The Deployment of an app (podinfo, port 9898) as kubectl applies it. */
export function app(o: AppOptions): string {
  const name = o.name ?? 'podinfo'
  const key = o.selectorLabel ?? 'app'
  // Labels merge key by key: another selector key replaces the default `app` rather than joining it.
  const labels = { app: key === 'app' ? name : null, [key]: name }
  return yamlOf(manifest(deployment({
    metadata: { name, namespace: o.namespace, labels: o.labels, annotations: o.annotations },
    spec: {
      replicas: o.replicas ?? null,
      selector: { matchLabels: labels },
      template: {
        metadata: { labels, annotations: o.podAnnotations },
        spec: { containers: [container({ image: o.image, ...o.containerExtra })], ...o.podSpec },
      },
    },
  })))
}

export function yamlOf(obj: unknown): string {
  return stringify(obj)
}
