// What a controller wrote last, per object, so that it can tell a cache that has not caught up with its own
// write yet. Deciding on such a read would run that decision's checks (hooks: side effects) a second time,
// only for the conditional write to be refused; the caller reads the object fresh instead.

export class OwnWrites {
  readonly #last = new Map<string, { readonly replaced: string; readonly written: string }>()

  /** A write of `key` turned resourceVersion `replaced` into `written`. */
  note(key: string, replaced: string | undefined, written: string | undefined): void {
    if (replaced === undefined || written === undefined) this.#last.delete(key)
    else this.#last.set(key, { replaced, written })
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
