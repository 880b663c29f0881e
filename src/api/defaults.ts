// Flagger's defaults (pkg/apis/flagger/v1beta1), with one deliberate change: revertOnDeletion is on, so
// deleting a Canary gives the app back instead of leaving the target at zero replicas (Flagger #686).
import { parseDuration } from '../util/duration.ts'
import type { CanaryAnalysis, CanarySpec, CanaryWebhook, HookType, Provider, Strategy } from './types.ts'

// The router of a Canary without spec.provider: kubernetes unless the process was started with
// --default-provider (Flagger's -mesh-provider). One value per process, set once at start, so that the
// webhook's validation and the controller (one process under `sluice serve`) cannot disagree.
let defaultProvider: Provider = 'kubernetes'

/** Called once at start from the --default-provider flag (src/cli/flags.ts validates the value). */
export function setDefaultProvider(provider: Provider): void {
  defaultProvider = provider
}

export const DEFAULTS = {
  get provider(): Provider { return defaultProvider },
  progressDeadlineSeconds: 600,
  revertOnDeletion: true,
  skipAnalysis: false,
  suspend: false,
  portName: 'http',
  interval: '1m',
  threshold: 1,
  maxWeight: 100,
  primaryReadyThreshold: 100,
  canaryReadyThreshold: 100,
  metricInterval: '1m',
  webhookTimeout: '10s',
  webhookType: 'rollout',
  webhookRetries: 0,
  alertSeverity: 'info',
  sessionAffinityMaxAge: 86_400,
} as const

/** Flagger clamps shorter intervals to 10s; sluice rejects them instead (see validate.ts). */
export const MIN_INTERVAL_MS = 10_000

/** The same rule as Flagger's DeploymentStrategy(): iterations with match is A/B, iterations alone blue/green. */
/** A webhook's type, '' and absent meaning rollout as in Flagger. */
export function webhookType(w: CanaryWebhook): HookType {
  return w.type === undefined || w.type === '' ? DEFAULTS.webhookType : w.type
}

/** The webhooks of one type, in the order written: the controller's stages and the hook runner both pick them so. */
export function hooksOfType(webhooks: readonly CanaryWebhook[] | undefined, type: HookType): CanaryWebhook[] {
  return (webhooks ?? []).filter(w => webhookType(w) === type)
}

export function strategyOf(spec: Pick<CanarySpec, 'analysis'>): Strategy {
  const iterations = spec.analysis?.iterations ?? 0
  if (iterations > 0) return (spec.analysis?.match?.length ?? 0) > 0 ? 'ab' : 'blue-green'
  return 'canary'
}

export function intervalMs(analysis: CanaryAnalysis | undefined): number {
  return parseDuration(analysis?.interval ?? DEFAULTS.interval) ?? parseDuration(DEFAULTS.interval) ?? 60_000
}

/** With stepWeights the last step is the maximum and maxWeight is ignored, as in Flagger. */
export function effectiveMaxWeight(analysis: CanaryAnalysis | undefined): number {
  const ladder = analysis?.stepWeights ?? []
  const last = ladder[ladder.length - 1]
  if (last !== undefined) return Math.min(100, last)
  return analysis?.maxWeight ?? DEFAULTS.maxWeight
}

function analysisWithDefaults(analysis: CanaryAnalysis): CanaryAnalysis {
  return {
    ...analysis,
    interval: analysis.interval ?? DEFAULTS.interval,
    threshold: analysis.threshold ?? DEFAULTS.threshold,
    maxWeight: effectiveMaxWeight(analysis),
    primaryReadyThreshold: analysis.primaryReadyThreshold ?? DEFAULTS.primaryReadyThreshold,
    canaryReadyThreshold: analysis.canaryReadyThreshold ?? DEFAULTS.canaryReadyThreshold,
    ...(analysis.sessionAffinity && {
      sessionAffinity: { ...analysis.sessionAffinity, maxAge: analysis.sessionAffinity.maxAge ?? DEFAULTS.sessionAffinityMaxAge },
    }),
    ...(analysis.metrics && {
      metrics: analysis.metrics.map(m => ({ ...m, interval: m.interval ?? DEFAULTS.metricInterval })),
    }),
    ...(analysis.webhooks && {
      webhooks: analysis.webhooks.map(w => ({
        ...w,
        type: w.type === undefined || w.type === '' ? DEFAULTS.webhookType : w.type,
        timeout: w.timeout ?? DEFAULTS.webhookTimeout,
        retries: w.retries ?? DEFAULTS.webhookRetries,
      })),
    }),
    ...(analysis.alerts && {
      alerts: analysis.alerts.map(a => ({ ...a, severity: a.severity ?? DEFAULTS.alertSeverity })),
    }),
  }
}

/**
 * The spec with every default filled in, for the code that acts on it. The stored Canary keeps what the user
 * wrote, so a change of defaults in a later sluice does not count as a change of the user's spec.
 */
export function withDefaults(spec: CanarySpec): CanarySpec {
  return {
    ...spec,
    provider: spec.provider ?? DEFAULTS.provider,
    progressDeadlineSeconds: spec.progressDeadlineSeconds ?? DEFAULTS.progressDeadlineSeconds,
    revertOnDeletion: spec.revertOnDeletion ?? DEFAULTS.revertOnDeletion,
    skipAnalysis: spec.skipAnalysis ?? DEFAULTS.skipAnalysis,
    suspend: spec.suspend ?? DEFAULTS.suspend,
    service: {
      ...spec.service,
      name: spec.service.name ?? spec.targetRef.name,
      portName: spec.service.portName ?? DEFAULTS.portName,
      targetPort: spec.service.targetPort ?? spec.service.port,
    },
    analysis: analysisWithDefaults(spec.analysis ?? {}),
  }
}
