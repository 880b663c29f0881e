// The load tester's own metrics, on a registry of its own (one per server, so tests can build many).
import { Counter, Gauge, Registry } from 'prom-client'

export type JobMode = 'background' | 'blocking'
export type GateKind = 'gate' | 'rollback'

export interface LoadTesterMetrics {
  readonly registry: Registry
  jobStarted(mode: JobMode, program: string): void
  /** result: succeeded, failed, or what stopped it (max-duration, idle, run-ended, client-gone, shutdown). */
  jobEnded(mode: JobMode, result: string): void
  refused(reason: string): void
  gateChecked(gate: GateKind, open: boolean): void
  gateChanged(gate: GateKind, open: boolean): void
}

export function loadTesterMetrics(registry = new Registry()): LoadTesterMetrics {
  const registers = [registry]
  const started = new Counter({
    name: 'sluice_loadtester_jobs_started_total', help: 'Commands started, by mode and program',
    labelNames: ['mode', 'program'] as const, registers,
  })
  const running = new Gauge({
    name: 'sluice_loadtester_jobs_running', help: 'Commands running now, by mode', labelNames: ['mode'] as const, registers,
  })
  const ended = new Counter({
    name: 'sluice_loadtester_jobs_finished_total',
    help: 'Commands ended, by mode and result (succeeded, failed, or what stopped them: max-duration, idle, run-ended, client-gone, shutdown)',
    labelNames: ['mode', 'result'] as const, registers,
  })
  const refusals = new Counter({
    name: 'sluice_loadtester_requests_refused_total',
    help: 'Requests refused before anything ran, by reason (shell-syntax, not-allowed, type-disabled, busy, …)',
    labelNames: ['reason'] as const, registers,
  })
  const checks = new Counter({
    name: 'sluice_loadtester_gate_checks_total', help: 'Gate checks answered, by gate (gate, rollback) and answer (open, closed)',
    labelNames: ['gate', 'answer'] as const, registers,
  })
  const changes = new Counter({
    name: 'sluice_loadtester_gate_changes_total', help: 'Gates opened or closed, by gate (gate, rollback) and action (open, close)',
    labelNames: ['gate', 'action'] as const, registers,
  })
  for (const mode of ['background', 'blocking'] as const) running.set({ mode }, 0)
  return {
    registry,
    jobStarted(mode, program) { started.inc({ mode, program }); running.inc({ mode }) },
    jobEnded(mode, result) { ended.inc({ mode, result }); running.dec({ mode }) },
    refused(reason) { refusals.inc({ reason }) },
    gateChecked(gate, open) { checks.inc({ gate, answer: open ? 'open' : 'closed' }) },
    gateChanged(gate, open) { changes.inc({ gate, action: open ? 'open' : 'close' }) },
  }
}
