// Maps used as bounded memories (recent Events, parsed annotations, waits): insertion order is recency.

/** Sets `key` as the newest entry of `map`, dropping the oldest entries beyond `capacity`. */
export function setNewest<K, V>(map: Map<K, V>, key: K, value: V, capacity: number): void {
  map.delete(key)
  map.set(key, value)
  while (map.size > capacity) {
    const oldest = map.keys().next()
    if (oldest.done === true) break
    map.delete(oldest.value)
  }
}
