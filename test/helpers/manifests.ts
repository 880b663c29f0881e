// Manifests the tests apply with kubectl, written as data.
import { stringify } from 'yaml'

export interface AppOptions {
  readonly namespace: string
  readonly name?: string
  readonly replicas?: number
  readonly image?: string
  readonly annotations?: Record<string, string>
  readonly labels?: Record<string, string>
  readonly selectorLabel?: string
  readonly podAnnotations?: Record<string, string>
}

export function app(o: AppOptions): string {
  const name = o.name ?? 'podinfo'
  const key = o.selectorLabel ?? 'app'
  return stringify({
    apiVersion: 'apps/v1', kind: 'Deployment',
    metadata: { name, namespace: o.namespace, ...(o.labels && { labels: o.labels }), ...(o.annotations && { annotations: o.annotations }) },
    spec: {
      ...(o.replicas !== undefined && { replicas: o.replicas }),
      selector: { matchLabels: { [key]: name } },
      template: {
        metadata: { labels: { [key]: name }, ...(o.podAnnotations && { annotations: o.podAnnotations }) },
        spec: { containers: [{ name: 'app', image: o.image ?? 'ghcr.io/stefanprodan/podinfo:6.7.0', ports: [{ name: 'http', containerPort: 9898 }] }] },
      },
    },
  })
}

export function yamlOf(obj: unknown): string {
  return stringify(obj)
}
