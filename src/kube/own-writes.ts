// What a controller wrote last, per object, so that it can tell a cache that has not caught up with its own
// write yet. Deciding on such a read would run that decision's checks (hooks: side effects) a second time,
// only for the conditional write to be refused; the caller decides on the object as written (the API
// server's answer to that write, kept here until the cache catches up) or, without one, reads it fresh.

export class OwnWrites<T = never> {
  readonly #last = new Map<string, { readonly replaced: string; readonly written: string; readonly object?: T }>()

  /** A write of `key` turned resourceVersion `replaced` into `written`; `object` is the object as written, if kept. */
  note(key: string, replaced: string | undefined, written: string | undefined, object?: T): void {
    if (replaced === undefined || written === undefined) this.#last.delete(key)
    else this.#last.set(key, { replaced, written, ...(object !== undefined && { object }) })
  }

  /** The object as this process last wrote it, while a read is behind that write (kept by note()). */
  written(key: string): T | undefined {
    return this.#last.get(key)?.object
  }

  /** True when a read of `key` at `resourceVersion` predates this process's last write of it. */
  behind(key: string, resourceVersion: string | undefined): boolean {
    const last = this.#last.get(key)
    if (last === undefined || resourceVersion === undefined) return false
    if (resourceVersion === last.replaced) return true
    // The cache has seen that write (or a later one): nothing to remember any more.
    this.#last.delete(key)
    return false
  }

  forget(key: string): void {
    this.#last.delete(key)
  }
}
