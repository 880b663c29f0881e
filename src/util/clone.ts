// A deep copy of JSON data (what JSON.parse, a YAML mapping or a watch event gives), for the copies the
// webhook makes on every review: several times cheaper than structuredClone, which serializes.

/** Plain objects and arrays are copied, primitives kept; anything else (a Date, a Map) goes to structuredClone. */
export function cloneJson<T>(value: T): T {
  if (typeof value !== 'object' || value === null) return value
  if (Array.isArray(value)) return value.map(cloneJson) as T
  const proto: unknown = Object.getPrototypeOf(value)
  if (proto !== Object.prototype && proto !== null) return structuredClone(value)
  const out: Record<string, unknown> = {}
  for (const key of Object.keys(value)) {
    const copy = cloneJson((value as Record<string, unknown>)[key])
    // A key named __proto__ (JSON.parse makes it an own property) must stay one, not set the copy's prototype.
    if (key === '__proto__') Object.defineProperty(out, key, { value: copy, enumerable: true, writable: true, configurable: true })
    else out[key] = copy
  }
  return out as T
}
