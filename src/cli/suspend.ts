// `sluice pause` and `sluice resume`: spec.suspend, which the controller already understands (a suspended
// Canary is left where it stands). A Canary written by hand gets it in its spec; a generated one is
// rewritten by the controller from its Deployment's annotations (the guard refuses other writes to it), so
// the key goes into the Deployment's sluice.dev/spec annotation, the rest of that YAML kept as written.
import { AppsV1Api, CustomObjectsApi, PatchStrategy, setHeaderOptions, type V1Deployment } from '@kubernetes/client-node'
import { parseDocument, isMap } from 'yaml'
import { ANNOTATIONS } from '../api/annotations.ts'
import { GROUP, VERSION, type Canary } from '../api/types.ts'
import { isGenerated } from '../controller/generate.ts'
import { isConflict } from '../kube/errors.ts'
import { escapeSegment, setAnnotation, type PatchOperation } from '../kube/json-patch.ts'
import { ifUnchanged } from '../kube/precondition.ts'
import { retryOn } from '../kube/retry.ts'
import { canaryName, readDeployment } from './canaries.ts'
import type { Cluster } from './cluster.ts'
import { apiFailure, CliError, EXIT } from './exit.ts'
import { formatDuration } from '../util/duration.ts'
import { whatNext } from './render/next.ts'
import { followRelease } from './watch.ts'

const SUSPEND_LINE = /^suspend:[ \t]*true[ \t]*(#.*)?(\n|$)/m

// The user's text is kept byte for byte where a line can be added or removed: a block mapping without the
// key gets `suspend: true` appended, and a top-level `suspend: true` line is removed. Anything else (a flow
// mapping, `suspend: false`) is edited through the YAML document, which rewrites its formatting.
function editedText(text: string, suspend: boolean, hasKey: boolean): string | undefined {
  if (suspend && !hasKey) return `${text}${text === '' || text.endsWith('\n') ? '' : '\n'}suspend: true\n`
  if (!suspend && SUSPEND_LINE.test(text)) return text.replace(SUSPEND_LINE, '')
  return undefined
}

/**
 * The sluice.dev/spec annotation with `suspend: true` set, or suspend removed; undefined when the annotation
 * should go (it held nothing else).
 */
export function specWithSuspend(text: string | undefined, suspend: boolean): string | undefined {
  const doc = parseDocument(text ?? '')
  if (doc.errors.length > 0) {
    throw new CliError(EXIT.failed, `annotation ${ANNOTATIONS.spec} is not valid YAML (${doc.errors[0]?.message.split('\n')[0] ?? ''}); fix it first`)
  }
  const contents = doc.contents
  if (contents !== null && !isMap(contents)) throw new CliError(EXIT.failed, `annotation ${ANNOTATIONS.spec} is not a YAML mapping; fix it first`)
  const block = contents === null || !contents.flow
  const edited = block ? editedText(text ?? '', suspend, doc.has('suspend')) : undefined
  if (suspend) doc.set('suspend', true)
  else doc.delete('suspend')
  if (doc.contents === null || (isMap(doc.contents) && doc.contents.items.length === 0)) return undefined
  return edited ?? doc.toString()
}

/** The JSON patch of the Deployment: conditional on the version read, the annotation set or removed. */
export function deploymentPatch(d: V1Deployment, suspend: boolean): PatchOperation[] | undefined {
  const before = d.metadata?.annotations?.[ANNOTATIONS.spec]
  const after = specWithSuspend(before, suspend)
  if (after === before) return undefined
  const op: PatchOperation = after === undefined
    ? { op: 'remove', path: `/metadata/annotations/${escapeSegment(ANNOTATIONS.spec)}` }
    : setAnnotation(d, ANNOTATIONS.spec, after)
  return ifUnchanged(d.metadata?.resourceVersion, [op]) as PatchOperation[]
}

async function suspendDeployment(cluster: Cluster, c: Canary, suspend: boolean): Promise<string> {
  const ns = c.metadata.namespace ?? ''
  const name = c.spec.targetRef.name
  const apps = cluster.kc.makeApiClient(AppsV1Api)
  const doing = `patch Deployment ${ns}/${name} (annotation ${ANNOTATIONS.spec})`
  try {
    // Conditional on the version read, so that an annotation changed meanwhile is read again, never overwritten.
    await retryOn(isConflict, async () => {
      const d = await readDeployment(cluster, ns, name)
      if (!d) throw new CliError(EXIT.notFound, `the Canary's Deployment ${ns}/${name} is not there (or you may not read it)`)
      const ops = deploymentPatch(d, suspend)
      if (ops) await apps.patchNamespacedDeployment({ namespace: ns, name, body: ops }, setHeaderOptions('Content-Type', PatchStrategy.JsonPatch))
    })
  } catch (e) {
    throw apiFailure(e, doing, cluster.server)
  }
  return `Deployment ${ns}/${name}: ${suspend ? 'suspend: true set in' : 'suspend removed from'} annotation ${ANNOTATIONS.spec}`
}

async function suspendCanary(cluster: Cluster, c: Canary, suspend: boolean): Promise<string> {
  const custom = cluster.kc.makeApiClient(CustomObjectsApi)
  const body = { spec: { suspend: suspend ? true : null } }
  try {
    await custom.patchNamespacedCustomObject({
      group: GROUP, version: VERSION, plural: 'canaries', namespace: c.metadata.namespace ?? '', name: c.metadata.name ?? '', body,
    }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch))
  } catch (e) {
    throw apiFailure(e, `patch Canary ${canaryName(c)} (spec.suspend)`, cluster.server)
  }
  return `Canary ${canaryName(c)}: spec.suspend ${suspend ? 'set to true' : 'removed'}`
}

/** Waits until the Canary's spec says `suspend`: at once for a hand-written one, once regenerated otherwise. */
function settled(cluster: Cluster, c: Canary, suspend: boolean, waitMs: number): Promise<Canary | 'timeout'> {
  return followRelease<Canary | 'timeout'>(cluster, c, r => r && (r.canary.spec.suspend === true) === suspend ? r.canary : undefined, waitMs, () => 'timeout')
}

function doneText(c: Canary, suspend: boolean): string {
  const where = `Canary ${canaryName(c)}`
  if (suspend) return `paused: ${where} is suspended in phase ${c.status?.phase ?? 'unknown'} at weight ${c.status?.canaryWeight ?? 0}%; nothing moves until sluice resume ${c.metadata.name ?? ''}`
  return `resumed: ${where} goes on: ${whatNext(c, new Date())}`
}

/** Writes spec.suspend (or its annotation) unless the Canary already says so; what was done, in words. */
export async function writeSuspend(cluster: Cluster, c: Canary, suspend: boolean): Promise<{ readonly written: boolean; readonly text: string }> {
  if ((c.spec.suspend === true) === suspend) {
    return { written: false, text: `Canary ${canaryName(c)} is already ${suspend ? 'paused' : 'running (not suspended)'}; nothing written` }
  }
  return { written: true, text: isGenerated(c) ? await suspendDeployment(cluster, c, suspend) : await suspendCanary(cluster, c, suspend) }
}

/** Pauses (suspend true) or resumes a release, and says when the Canary shows it. */
export async function setSuspend(cluster: Cluster, c: Canary, suspend: boolean, waitMs: number): Promise<number> {
  const { written, text } = await writeSuspend(cluster, c, suspend)
  process.stdout.write(`${text}\n`)
  if (!written || waitMs <= 0) return EXIT.ok
  const seen = await settled(cluster, c, suspend, waitMs).catch((e: unknown) => {
    process.stdout.write(`recorded; cannot follow the Canary (${(e as Error).message})\n`)
    return undefined
  })
  if (seen !== undefined && seen !== 'timeout') process.stdout.write(`${doneText(seen, suspend)}\n`)
  else if (seen === 'timeout') {
    const policy = suspend ? '' : ' (a DeliveryPolicy that sets suspend in its defaults keeps it suspended)'
    process.stdout.write(`recorded; the controller has not rewritten the Canary within ${formatDuration(waitMs)}: it does when it next sees the Deployment${policy}\n`)
  }
  return EXIT.ok
}
