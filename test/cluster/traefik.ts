// Installs Traefik's TraefikService CRD (the one the traefik router writes) and IngressRoute (the user's object
// that routes to it, which the tests create) into the test cluster, from the manifest Traefik publishes in its Go
// module (docs/content/reference/dynamic-configuration/kubernetes-crd-definition-v1.yml), read from the Go module
// cache at test time. The API server then validates sluice's TraefikService with Traefik's own schema.
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { parseAllDocuments } from 'yaml'
import { installCrds } from './crds.ts'
import { goModuleDir } from './go-module.ts'

export const TRAEFIK_VERSION = process.env.SLUICE_TRAEFIK_VERSION ?? 'v3.7.13'
export const TRAEFIK_CRDS = ['traefikservices.traefik.io', 'ingressroutes.traefik.io'] as const

/** Applies (server-side, idempotent) the TraefikService and IngressRoute CRDs and waits until they are Established. */
export async function installTraefikCrds(kubeconfigPath: string, version = TRAEFIK_VERSION): Promise<void> {
  const dir = await goModuleDir('github.com/traefik/traefik/v3', version)
  const all = await readFile(join(dir, 'docs/content/reference/dynamic-configuration/kubernetes-crd-definition-v1.yml'), 'utf8')
  // The file holds every Traefik CRD; only the ones sluice and its tests write are installed.
  const wanted = parseAllDocuments(all).filter(d => (TRAEFIK_CRDS as readonly unknown[]).includes(d.getIn(['metadata', 'name'])))
  if (wanted.length !== TRAEFIK_CRDS.length) throw new Error(`github.com/traefik/traefik/v3@${version}: expected ${TRAEFIK_CRDS.join(', ')} in kubernetes-crd-definition-v1.yml`)
  await installCrds(kubeconfigPath, `Traefik ${version}`, wanted.map(d => d.toString()).join('---\n'), TRAEFIK_CRDS)
}
