// The pod label that tells a Canary's primary pods from its canary pods: validation refuses a
// Deployment without one, and the deployer, the routers and the observer all read it here.

/** The pod label whose value tells primary from canary pods. */
export interface PodSelector {
  label: string
  value: string
}

// Only one label is used, the first present, so a selector never mixes two of them (Flagger #1312).
export const SELECTOR_LABELS = ['app', 'name', 'app.kubernetes.io/name'] as const

export function selectorLabel(matchLabels: Readonly<Record<string, string>> | undefined): PodSelector | undefined {
  for (const label of SELECTOR_LABELS) {
    const value = matchLabels?.[label]
    if (value) return { label, value }
  }
  return undefined
}
