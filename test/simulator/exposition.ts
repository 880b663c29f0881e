// The Prometheus text exposition (format 0.0.4) of the simulator's counters. Pure.
import { contourSeries } from './contour.ts'
import { LINKERD } from './linkerd.ts'
import { DEFAULT_BUCKETS, ERROR_STATUS, OK_STATUS, SIDES, type AppState, type Histogram, type Outcomes, type Side, type TrafficState } from './traffic.ts'

export const CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8'

export type Labels = readonly (readonly [name: string, value: string])[]

export function escapeLabelValue(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')
}

function labelText(labels: Labels): string {
  return labels.map(([k, v]) => `${k}="${escapeLabelValue(v)}"`).join(',')
}

// Go's and the client libraries' spelling: integers without a dot, +Inf for the last bucket.
function num(n: number): string {
  return Number.isFinite(n) ? String(n) : n > 0 ? '+Inf' : n < 0 ? '-Inf' : 'NaN'
}

function header(out: string[], name: string, type: 'counter' | 'histogram', help: string): void {
  out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`)
}

/** Histogram lines; several histograms with the same labels are added up (nginx's duration has no status). */
export function histogramLines(out: string[], name: string, labels: Labels, les: readonly string[], hs: readonly Histogram[]): void {
  const base = labelText(labels)
  const prefix = base ? `${base},` : ''
  let count = 0
  let sum = 0
  for (const h of hs) { count += h.count; sum += h.sum }
  les.forEach((le, i) => {
    let n = 0
    for (const h of hs) n += h.buckets[i] ?? 0
    out.push(`${name}_bucket{${prefix}le="${le}"} ${n}`)
  })
  out.push(`${name}_bucket{${prefix}le="+Inf"} ${count}`)
  out.push(`${name}_sum{${base}} ${num(sum)}`)
  out.push(`${name}_count{${base}} ${count}`)
}

const STATUSES = [['ok', OK_STATUS], ['error', ERROR_STATUS]] as const

function nginxLabels(namespace: string, ingress: string, canary: string): Labels {
  return [['namespace', namespace], ['ingress', ingress], ['canary', canary]]
}

function renderNginx(out: string[], state: TrafficState, les: readonly string[]): void {
  const apps = [...state.values()].filter(a => a.nginx)
  if (apps.length === 0) return
  header(out, 'nginx_ingress_controller_requests', 'counter', 'The total number of client requests (simulated).')
  for (const a of apps) {
    const n = a.nginx!
    for (const side of SIDES) {
      const labels = nginxLabels(a.namespace, n.ingress, side === 'canary' ? n.canaryService : '')
      for (const [outcome, status] of STATUSES) {
        out.push(`nginx_ingress_controller_requests{${labelText([...labels, ['status', status]])}} ${n[side][outcome].count}`)
      }
    }
  }
  const name = 'nginx_ingress_controller_response_duration_seconds'
  header(out, name, 'histogram', 'The time spent on receiving the response from the upstream server (simulated).')
  for (const a of apps) {
    const n = a.nginx!
    for (const side of SIDES) {
      const o: Outcomes = n[side]
      histogramLines(out, name, nginxLabels(a.namespace, n.ingress, side === 'canary' ? n.canaryService : ''), les, [o.ok, o.error])
    }
  }
}

/** A mesh sidecar's request counter and millisecond histogram, per side's workload (its Deployment) and outcome. */
export interface SidecarMetrics {
  readonly counter: string
  readonly histogram: string
  series(a: AppState): Record<Side, Outcomes> | undefined
  /** The labels of one series; `counter` false for the histogram's. */
  labels(namespace: string, workload: string, outcome: 'ok' | 'error', status: string, counter: boolean): Labels
}

// Istio's standard metrics as a server sidecar reports them: the workload is the side's Deployment.
const ISTIO: SidecarMetrics = {
  counter: 'istio_requests_total', histogram: 'istio_request_duration_milliseconds', series: a => a.istio,
  labels: (namespace, workload, _outcome, status) =>
    [['reporter', 'destination'], ['destination_workload', workload], ['destination_workload_namespace', namespace], ['response_code', status]],
}

// The duration is in milliseconds: bounds, and the sum, scaled from the seconds the simulator counts in.
const toMs = (seconds: number): number => Math.round(seconds * 1e6) / 1e3

function renderSidecar(out: string[], state: TrafficState, bounds: readonly number[], m: SidecarMetrics): void {
  const apps = [...state.values()].filter(a => m.series(a))
  if (apps.length === 0) return
  const workload = (name: string, side: string): string => side === 'primary' ? `${name}-primary` : name
  const each = (f: (a: AppState, side: Side, outcome: 'ok' | 'error', status: string) => void): void => {
    for (const a of apps) for (const side of SIDES) for (const [outcome, status] of STATUSES) f(a, side, outcome, status)
  }
  header(out, m.counter, 'counter', 'Total requests (simulated).')
  each((a, side, outcome, status) => {
    out.push(`${m.counter}{${labelText(m.labels(a.namespace, workload(a.name, side), outcome, status, true))}} ${m.series(a)![side][outcome].count}`)
  })
  header(out, m.histogram, 'histogram', 'Request duration in milliseconds (simulated).')
  const les = bounds.map(b => num(toMs(b)))
  each((a, side, outcome, status) => {
    const h = m.series(a)![side][outcome]
    histogramLines(out, m.histogram, m.labels(a.namespace, workload(a.name, side), outcome, status, false), les, [{ ...h, sum: toMs(h.sum) }])
  })
}

// Traefik's service metrics: requests by code, and the duration in seconds, labelled with each side's Service.
function renderTraefik(out: string[], state: TrafficState, les: readonly string[]): void {
  const apps = [...state.values()].filter(a => a.traefik)
  if (apps.length === 0) return
  header(out, 'traefik_service_requests_total', 'counter', 'How many HTTP requests processed on a service (simulated).')
  for (const a of apps) {
    for (const side of SIDES) {
      for (const [outcome, status] of STATUSES) {
        out.push(`traefik_service_requests_total{${labelText([...traefikLabels(a.traefik!.labels[side]), ['code', status]])}} ${a.traefik![side][outcome].count}`)
      }
    }
  }
  const name = 'traefik_service_request_duration_seconds'
  header(out, name, 'histogram', 'How long it took to process the request on a service (simulated).')
  for (const a of apps) {
    for (const side of SIDES) {
      for (const [outcome, status] of STATUSES) {
        histogramLines(out, name, [...traefikLabels(a.traefik!.labels[side]), ['code', status]], les, [a.traefik![side][outcome]])
      }
    }
  }
}

const traefikLabels = (service: string): Labels => [['method', 'GET'], ['protocol', 'http'], ['service', service]]

// Envoy's upstream stats of the clusters Contour names after the side Services: requests by response code, and
// the upstream request time, a histogram in milliseconds over all responses.
function renderContour(out: string[], state: TrafficState, bounds: readonly number[]): void {
  const series = contourSeries(state)
  if (series.length === 0) return
  header(out, 'envoy_cluster_upstream_rq', 'counter', 'Upstream requests by response code (simulated).')
  for (const { cluster, outcomes } of series) {
    for (const [outcome, status] of STATUSES) out.push(`envoy_cluster_upstream_rq{${labelText([['envoy_cluster_name', cluster], ['envoy_response_code', status]])}} ${outcomes[outcome].count}`)
  }
  header(out, 'envoy_cluster_upstream_rq_time', 'histogram', 'Upstream request time in milliseconds (simulated).')
  const inMs = ({ ok, error }: Outcomes): Outcomes[keyof Outcomes][] => [ok, error].map(h => ({ ...h, sum: toMs(h.sum) }))
  for (const { cluster, outcomes } of series) histogramLines(out, 'envoy_cluster_upstream_rq_time', [['envoy_cluster_name', cluster]], bounds.map(b => num(toMs(b))), inMs(outcomes))
}

function renderHttp(out: string[], state: TrafficState, les: readonly string[]): void {
  const name = 'http_request_duration_seconds'
  header(out, name, 'histogram', 'Duration of HTTP requests served by the pod (simulated).')
  for (const a of state.values()) {
    for (const [pod, o] of a.pods) {
      for (const [outcome, status] of STATUSES) {
        histogramLines(out, name, [['kubernetes_namespace', a.namespace], ['kubernetes_pod_name', pod], ['status', status]], les, [o[outcome]])
      }
    }
  }
}

/** The whole /metrics body. `bounds` must be the ones the state was counted with. */
export function renderExposition(state: TrafficState, bounds: readonly number[] = DEFAULT_BUCKETS): string {
  const out: string[] = []
  const les = bounds.map(num)
  renderNginx(out, state, les)
  renderSidecar(out, state, bounds, ISTIO)
  renderSidecar(out, state, bounds, LINKERD)
  renderTraefik(out, state, les)
  renderContour(out, state, bounds)
  renderHttp(out, state, les)
  out.push('')
  return out.join('\n')
}
