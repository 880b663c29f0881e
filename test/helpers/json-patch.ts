// The test oracle for generated JSON Patches: rfc6902's applier, independent of the builder in
// src/kube/json-patch.ts. rfc6902 mutates in place and lists failed operations, so this patches a JSON
// copy (what the API server is sent) and throws the first failure, as the API server refuses the whole patch.
import { applyPatch as applyOperations, type Operation } from 'rfc6902'

export function applyPatch(doc: unknown, ops: readonly { op: string; path: string; value?: unknown }[]): unknown {
  const out: unknown = JSON.parse(JSON.stringify(doc))
  const failed = applyOperations(out, ops as Operation[]).find(result => result !== null)
  if (failed) throw failed
  return out
}
