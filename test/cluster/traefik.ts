// Installs Traefik's TraefikService CRD (the one the traefik router writes) and IngressRoute (the user's object
// that routes to it, which the tests create) into the test cluster, from the manifest Traefik publishes in its Go
// module (docs/content/reference/dynamic-configuration/kubernetes-crd-definition-v1.yml), read from the Go module
// cache at test time. The API server then validates sluice's TraefikService with Traefik's own schema.
import { installGoModuleCrds } from './crds.ts'

export const TRAEFIK_VERSION = process.env.SLUICE_TRAEFIK_VERSION ?? 'v3.7.13'
export const TRAEFIK_CRDS = ['traefikservices.traefik.io', 'ingressroutes.traefik.io'] as const

/** Applies (server-side, idempotent) the TraefikService and IngressRoute CRDs and waits until they are Established. */
export async function installTraefikCrds(kubeconfigPath: string, version = TRAEFIK_VERSION): Promise<void> {
  await installGoModuleCrds(kubeconfigPath, {
    what: 'Traefik', module: 'github.com/traefik/traefik/v3', version,
    file: 'docs/content/reference/dynamic-configuration/kubernetes-crd-definition-v1.yml', names: TRAEFIK_CRDS,
  })
}
