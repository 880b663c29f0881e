// The shape of one size's result (JSON), shared by the run and the report.
import type { LatencySummary } from '../ipc.ts'
import type { AnalysisShape } from './apps.ts'
import type { Usage } from './sampler.ts'
import type { SoakResult } from './soak.ts'
import type { ApiRequestRate, EventTally, HistogramWindow } from './telemetry.ts'

export interface TimelinePoint {
  /** Seconds since the size started. */
  readonly t: number
  readonly stage: string
  readonly controllerCores: number
  readonly controllerRssMB: number
  readonly machineBusyCores: number | undefined
  readonly phases: Readonly<Record<string, number>>
}

export interface SizeResult {
  readonly n: number
  /** `controller` (beside a webhook process) or `serve` (both in one process): what RSS and CPU are of. */
  readonly command: 'controller' | 'serve'
  readonly namespaces: number
  readonly probes: number
  readonly analysis: AnalysisShape
  readonly controllerArgs: readonly string[]
  /** The sluice that ran (bin/sluice.ts from source, or the bundle the image runs) and its Node flags. */
  readonly controllerBin: string
  readonly controllerNodeArgs: readonly string[]
  readonly scrapeInterval: string
  /** The last stage reached: created, initialized, progressing, measured. */
  readonly reached: string
  readonly failure?: string
  readonly setup: {
    readonly clusterSeconds: number
    readonly createSeconds?: number
    readonly created?: number
    readonly createErrors: readonly string[]
    readonly initializeSeconds?: number
    readonly initialized?: number
    /** The controller while it initialized the apps (creation included). */
    readonly controllerDuringInit?: Usage
  }
  /** Every canary Initialized, nothing analysing: what N idle canaries cost. */
  readonly idle?: Usage & { readonly reconcilesPerSecond: number }
  /** All but the probes given a new revision at once. */
  readonly burst?: {
    readonly applied: number
    readonly writeErrors: readonly string[]
    readonly writeSeconds: number
    readonly progressing: number
    readonly allProgressingSeconds?: number
    /** From the write's response (what `kubectl apply` returning sees) to the watch showing Progressing; 0 when the watch was first. */
    readonly applyToProgressing: LatencySummary
    /** From the moment the write was sent. */
    readonly sendToProgressing: LatencySummary
    readonly controllerDuringBurst?: Usage
  }
  readonly window?: {
    readonly seconds: number
    readonly analysingAtStart: number
    readonly analysingAtEnd: number
    readonly controller: Usage | undefined
    readonly reconcile: HistogramWindow & { readonly perSecond: number; readonly errors: number }
    readonly queueDepth: { readonly mean: number; readonly max: number; readonly samples: number }
    /** How long keys waited in the work queue for a worker: the urgent lane (new revisions, served first) and the routine one (ticks). */
    readonly queueWait: { readonly urgent: HistogramWindow; readonly routine: HistogramWindow }
    readonly drift: {
      readonly steps: number
      /** Seen by a watch (status written and delivered) minus planned. */
      readonly observed: LatencySummary
      /** The controller's tick time minus planned: the scheduler and work queue alone. */
      readonly statusClock: LatencySummary
      /** As observed, for the steps of the second half of the window only: past the burst's first ticks. */
      readonly secondHalf: LatencySummary
      /** Analysis ticks that did not step, by the verdicts they recorded. */
      readonly holds: Readonly<Record<string, number>>
    }
    /** New revisions of single held-back apps during the window, one at a time, while N analyse. */
    readonly probes: LatencySummary
    readonly rollbacks: number
    readonly machine: {
      readonly busyCores: number | undefined
      readonly byProcess: Readonly<Record<string, number>>
      /** Busy cores not accounted to the processes above: other work on the machine. */
      readonly otherCores: number | undefined
    }
    /** What the API server handled in the window (every client), busiest first. */
    readonly apiServer: readonly ApiRequestRate[]
    /** Events created in the window, by reporting component and reason (who wrote the Event POSTs above). */
    readonly eventsCreated: readonly EventTally[]
    /** The controller's V8 heap at the end of the window (its telemetry). */
    readonly heapAtEnd: { readonly usedMB: number; readonly totalMB: number; readonly externalMB: number }
  }
  /** Canaries cycling after the window (`--soak`): memory over time and its slope. */
  readonly soak?: SoakResult
  readonly timeline: readonly TimelinePoint[]
  readonly seconds: number
}

export interface ControllerBenchReport {
  readonly when: string
  readonly machine: { readonly node: string; readonly cpus: number; readonly cpuModel: string; readonly memoryGB: number; readonly loadavg1mAtStart: number }
  readonly sizes: readonly SizeResult[]
  readonly runtimeSeconds: number
}
