// How the manifests start sluice from the image: the image's `sluice` launcher, or Node with flags of its own
// on the bundle (the webhook). The image test, the in-cluster harness and the webhook benchmark read it here.
import { readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { parseAllDocuments } from 'yaml'

/** The image's bundle, which a container's command names when it runs Node with flags of its own. */
export const IMAGE_BUNDLE = '/app/bin/sluice.mjs'

const ROOT = resolve(import.meta.dirname, '../..')

interface Container { name: string; command?: string[] }
interface Doc { kind?: string; spec?: { template?: { spec?: { containers?: Container[] } } } }

/** A container's command in manifests/deployment.yaml. */
export function manifestCommand(container: string): string[] {
  const docs = parseAllDocuments(readFileSync(join(ROOT, 'manifests/deployment.yaml'), 'utf8')).map(d => d.toJS() as Doc)
  const command = docs.find(d => d.kind === 'Deployment')?.spec?.template?.spec?.containers?.find(c => c.name === container)?.command
  if (!command) throw new Error(`manifests/deployment.yaml: no ${container} container with a command`)
  return command
}

/**
 * The Node flags of a command: none for the image's `sluice` (its launcher's own flag aside), the flags of
 * `node …flags /app/bin/sluice.mjs`. Anything else is refused, naming the container.
 */
export function nodeFlagsOf(container: string, command: readonly string[] | undefined): string[] {
  const c = command ?? []
  if (c.length === 1 && c[0] === 'sluice') return []
  const flags = c.slice(1, -1)
  if (c[0] === 'node' && c.at(-1) === IMAGE_BUNDLE && flags.every(f => f.startsWith('--'))) return flags
  throw new Error(`container ${container}: command ${JSON.stringify(command)} is neither [sluice] nor [node, …flags, ${IMAGE_BUNDLE}]`)
}
