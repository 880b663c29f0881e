// The lint of a Deployment's delivery settings, remembered between reviews. Re-applies and new images send the
// same sluice.dev annotations again and again, and the lint was a third of a review's decision. An answer is
// reused only while none of the caches it read (DeliveryPolicies, MetricTemplates, AlertProviders, Namespaces)
// has changed: the memory is emptied whenever their generation moves.
import { isUserKey } from '../api/annotations.ts'
import type { DeploymentReport } from '../api/lint.ts'
import type { DeploymentLike } from '../api/resolve.ts'
import { setNewest } from '../util/bounded-map.ts'

// A cluster's opted-in Deployments, each with its settings; a GitOps re-sync of more than this many in turn finds none.
const CAPACITY = 1024
// The key holds the user's annotations; one larger than this (the API server has not checked sizes yet) is linted
// every time rather than kept.
const MAX_KEY_LENGTH = 32 * 1024

/** A lint's report, shared by every review that finds it (callers read it, never change it), and its plan text. */
export interface RememberedLint {
  readonly report: DeploymentReport
  plan?: string
}

export interface LintMemo {
  /** The remembered lint of `deployment` in `namespace` at cache generation `generation`, or `lint()`, then remembered. */
  lint(deployment: DeploymentLike, namespace: string, generation: number, lint: () => DeploymentReport): RememberedLint
}

/**
 * Everything the lint reads from a Deployment: its name, namespace and labels, its sluice.dev annotations (not
 * the others, which change on every write), and its selector; and the namespace of the request, which it is
 * linted in. Undefined when too large to keep.
 */
export function lintKey(deployment: DeploymentLike, namespace: string): string | undefined {
  const meta = deployment.metadata ?? {}
  const annotations: Record<string, string> = {}
  for (const [k, v] of Object.entries(meta.annotations ?? {})) if (isUserKey(k)) annotations[k] = v
  const key = JSON.stringify([namespace, meta.name, meta.namespace, meta.labels ?? {}, annotations, deployment.spec?.selector?.matchLabels ?? {}])
  return key.length > MAX_KEY_LENGTH ? undefined : key
}

export function createLintMemo(capacity = CAPACITY): LintMemo {
  const memory = new Map<string, RememberedLint>()
  let seen = Number.NaN
  return {
    lint(deployment, namespace, generation, lint) {
      if (generation !== seen) {
        memory.clear()
        seen = generation
      }
      const key = lintKey(deployment, namespace)
      const found = key === undefined ? undefined : memory.get(key)
      if (found) return found
      const remembered: RememberedLint = { report: lint() }
      if (key !== undefined) setNewest(memory, key, remembered, capacity)
      return remembered
    },
  }
}
