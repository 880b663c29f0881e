// Installs the SMI TrafficSplit CRD the linkerd router writes (split.smi-spec.io/v1alpha2) into the test cluster.
// No module the Go proxy serves ships it in a form a current API server takes: smi-sdk-go v0.5.0's crds/split.yaml
// is apiextensions.k8s.io/v1beta1 (gone since Kubernetes 1.22) and serves v1alpha4 only, and Linkerd's SMI
// extension, which serves v1alpha2, is not a served module. So the schema is written here: every field sluice
// writes, typed as smi-sdk-go's v1alpha2 TrafficSplit (service string; backends of {service string, weight int}).
import { stringify } from 'yaml'
import { installCrds } from './crds.ts'

export const TRAFFIC_SPLIT_CRD = 'trafficsplits.split.smi-spec.io'

const str = (description: string): object => ({ type: 'string', description })

/** The CRD as Linkerd's SMI extension names it, serving the one version sluice writes. */
export const trafficSplitCrd = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: TRAFFIC_SPLIT_CRD },
  spec: {
    group: 'split.smi-spec.io',
    scope: 'Namespaced',
    names: { kind: 'TrafficSplit', listKind: 'TrafficSplitList', plural: 'trafficsplits', singular: 'trafficsplit', shortNames: ['ts'] },
    versions: [{
      name: 'v1alpha2', served: true, storage: true,
      additionalPrinterColumns: [{ name: 'Service', type: 'string', description: 'The apex service of this split.', jsonPath: '.spec.service' }],
      schema: {
        openAPIV3Schema: {
          type: 'object',
          properties: {
            spec: {
              type: 'object',
              required: ['service', 'backends'],
              properties: {
                service: str('The apex service of this split.'),
                backends: {
                  type: 'array', description: 'The backend services of this split.',
                  items: {
                    type: 'object', required: ['service', 'weight'],
                    properties: { service: str('Name of the Kubernetes service.'), weight: { type: 'integer', description: 'Traffic weight value of this backend.' } },
                  },
                },
              },
            },
          },
        },
      },
    }],
  },
}

/** Applies (server-side, idempotent) the TrafficSplit CRD and waits until it is Established. */
export async function installLinkerdCrds(kubeconfigPath: string): Promise<void> {
  await installCrds(kubeconfigPath, 'SMI TrafficSplit', stringify(trafficSplitCrd), [TRAFFIC_SPLIT_CRD])
}
