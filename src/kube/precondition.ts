// Writes computed from a cached read, made conditional on that read still being current.
//
// The precondition is the API server's optimistic lock: an update whose object carries a
// metadata.resourceVersion other than the stored one is refused with 409 Conflict, also on the status
// subresource and also when the resourceVersion comes from a patch. A JSON patch `test` op on
// /metadata/resourceVersion is honoured too, but a failed test is answered 422 Invalid, the same code as
// a status the schema refuses; the 409 says "stale" and nothing else, so the patch sets the version
// instead of testing it (test/integration/kube/precondition.test.ts shows both answers).
import { isConflict } from './errors.ts'

export interface JsonPatchOp {
  readonly op: 'add' | 'remove' | 'replace' | 'move' | 'copy' | 'test'
  readonly path: string
  readonly value?: unknown
}

/** `ops` applied only while the object is still at `resourceVersion`; the API server answers 409 otherwise. */
export function ifUnchanged(resourceVersion: string | undefined, ops: readonly JsonPatchOp[]): JsonPatchOp[] {
  if (resourceVersion === undefined || resourceVersion === '') throw new Error('a conditional write needs the resourceVersion it was computed from')
  return [{ op: 'replace', path: '/metadata/resourceVersion', value: resourceVersion }, ...ops]
}

/** A conditional write found the object changed since it was read: the decision behind it is void. */
export class StaleRead extends Error {
  readonly object: string
  readonly resourceVersion: string

  constructor(object: string, resourceVersion: string, options?: ErrorOptions) {
    super(`${object} changed since resourceVersion ${resourceVersion} was read`, options)
    this.name = 'StaleRead'
    this.object = object
    this.resourceVersion = resourceVersion
  }
}

/** Runs a conditional write; its 409 becomes a StaleRead, any other failure is passed on as it is. */
export async function conditionally<T>(object: string, resourceVersion: string, write: () => Promise<T>): Promise<T> {
  try {
    return await write()
  } catch (e) {
    if (isConflict(e)) throw new StaleRead(object, resourceVersion, { cause: e })
    throw e
  }
}

export type Latest = 'done' | 'gone' | 'stale'

/**
 * Decides on `first` (a cached object); when a conditional write of that decision finds the object moved on,
 * re-reads it (`reread`, from the API server) and decides again, `attempts` decisions in all. 'gone' when the
 * re-read finds no object, 'stale' when every attempt lost the race (the caller tries again a little later).
 * Any other failure is thrown.
 */
export async function decideOnLatest<T>(first: T, reread: () => Promise<T | undefined>, decide: (obj: T) => Promise<void>, attempts: number): Promise<Latest> {
  let obj: T | undefined = first
  for (let attempt = 1; ; attempt++) {
    try {
      await decide(obj)
      return 'done'
    } catch (e) {
      if (!(e instanceof StaleRead)) throw e
      if (attempt >= attempts) return 'stale'
    }
    obj = await reread()
    if (obj === undefined) return 'gone'
  }
}
