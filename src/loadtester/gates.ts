// Gates, keyed by canary: `gate` (Flagger's /gate/check|open|close) and `rollback` (/rollback/…). A gate
// nobody opened is closed, as in Flagger. Where they are kept is a GateStore: the ConfigMap in
// configmap-store.ts when running, a Map in unit tests.
import type { GateKind } from './metrics.ts'
import type { Payload } from './payload.ts'

export type Canary = Pick<Payload, 'name' | 'namespace'>

export interface GateStore {
  isOpen(kind: GateKind, canary: Canary): Promise<boolean>
  set(kind: GateKind, canary: Canary, open: boolean): Promise<void>
}

// A ConfigMap key is at most 253 characters of [-._a-zA-Z0-9].
const MAX_KEY = 253

/**
 * The store's key: `<kind>.<namespace>.<name>` (a namespace has no dots, so the key reads back
 * unambiguously), or undefined when the name is too long for a ConfigMap key.
 */
export function gateKey(kind: GateKind, c: Canary): string | undefined {
  const key = `${kind}.${c.namespace}.${c.name}`
  return key.length <= MAX_KEY ? key : undefined
}

export const OPEN = 'open'
export const CLOSED = 'closed'

/** Gates in memory, for unit tests of the handlers. */
export function memoryGateStore(): GateStore & { readonly data: Map<string, string> } {
  const data = new Map<string, string>()
  return {
    data,
    isOpen: (kind, c) => Promise.resolve(data.get(gateKey(kind, c) ?? '') === OPEN),
    set(kind, c, open) {
      data.set(gateKey(kind, c) ?? '', open ? OPEN : CLOSED)
      return Promise.resolve()
    },
  }
}
