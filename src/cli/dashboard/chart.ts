// The dashboard's charts as inline SVG drawn here: a step line, dots and a shaded threshold band need no
// charting library, no script and no build, and read the same in a screenshot.
import { esc } from './html.ts'

export interface Domain { readonly min: number; readonly max: number }
export interface Point { readonly t: number; readonly v: number | null; readonly ok?: boolean }

/** Maps `from` linearly onto `to`; a domain of no width maps to the middle of `to`. */
export function scale(from: Domain, to: Domain): (v: number) => number {
  const span = from.max - from.min
  if (span === 0) return () => (to.min + to.max) / 2
  return v => to.min + (v - from.min) / span * (to.max - to.min)
}

/** A y domain covering the values and the band's edges, with a tenth of headroom either side. */
export function valueDomain(values: readonly number[], band: Partial<Domain> = {}): Domain {
  const all = [...values, ...[band.min, band.max].filter((v): v is number => v !== undefined)]
  if (all.length === 0) return { min: 0, max: 1 }
  const lo = Math.min(...all)
  const hi = Math.max(...all)
  const pad = hi === lo ? Math.max(1, Math.abs(hi) / 10) : (hi - lo) / 10
  return { min: lo - pad, max: hi + pad }
}

export interface ChartSpec {
  readonly title: string
  readonly time: Domain
  readonly y: Domain
  readonly points: readonly Point[]
  /** Hold each value until the next one (a weight), rather than joining the points (a measurement). */
  readonly step?: boolean
  /** The passing range of a metric, shaded; open ends run to the chart's edge. */
  readonly band?: Partial<Domain>
  readonly label: (v: number) => string
}

export const SIZE = { width: 520, height: 150, left: 56, right: 10, top: 22, bottom: 22 } as const

const clock = (t: number): string => new Date(t).toISOString().slice(11, 19)
const n = (v: number): string => v.toFixed(1)

function linePath(points: readonly Point[], x: (v: number) => number, y: (v: number) => number, step: boolean, end: number): string {
  const known = points.filter((p): p is Point & { v: number } => p.v !== null)
  const parts: string[] = []
  known.forEach((p, i) => {
    if (i === 0) parts.push(`M${n(x(p.t))},${n(y(p.v))}`)
    else if (step) parts.push(`H${n(x(p.t))}V${n(y(p.v))}`)
    else parts.push(`L${n(x(p.t))},${n(y(p.v))}`)
  })
  if (step && known.length > 0) parts.push(`H${n(x(end))}`)
  return parts.join('')
}

function bandRect(band: Partial<Domain>, y: (v: number) => number, plot: { top: number; bottom: number; left: number; right: number }): string {
  const top = band.max === undefined ? plot.top : Math.max(plot.top, y(band.max))
  const bottom = band.min === undefined ? plot.bottom : Math.min(plot.bottom, y(band.min))
  if (bottom <= top) return ''
  return `<rect class="band" x="${plot.left}" y="${n(top)}" width="${plot.right - plot.left}" height="${n(bottom - top)}"><title>passing range</title></rect>`
}

function dots(points: readonly Point[], x: (v: number) => number, y: (v: number) => number, floor: number, label: (v: number) => string): string {
  return points.map(p => {
    const cls = p.ok === false ? 'dot fail' : 'dot'
    if (p.v === null) return `<text class="nodata" x="${n(x(p.t))}" y="${floor - 2}">×<title>${clock(p.t)} no data</title></text>`
    return `<circle class="${cls}" cx="${n(x(p.t))}" cy="${n(y(p.v))}" r="3"><title>${clock(p.t)} ${esc(label(p.v))}</title></circle>`
  }).join('')
}

/** One chart as an <svg> element. */
export function chartSvg(s: ChartSpec): string {
  const plot = { left: SIZE.left, right: SIZE.width - SIZE.right, top: SIZE.top, bottom: SIZE.height - SIZE.bottom }
  const x = scale(s.time, { min: plot.left, max: plot.right })
  const y = scale(s.y, { min: plot.bottom, max: plot.top })
  const ticks = [s.y.min, s.y.max].map(v => `<text class="tick" x="${plot.left - 4}" y="${n(y(v) + 4)}" text-anchor="end">${esc(s.label(v))}</text>`)
  const times = `<text class="tick" x="${plot.left}" y="${SIZE.height - 6}">${clock(s.time.min)}</text>` +
    `<text class="tick" x="${plot.right}" y="${SIZE.height - 6}" text-anchor="end">${clock(s.time.max)} UTC</text>`
  const path = linePath(s.points, x, y, s.step === true, s.time.max)
  return [
    `<svg class="chart" viewBox="0 0 ${SIZE.width} ${SIZE.height}" role="img" aria-label="${esc(s.title)}">`,
    `<text class="title" x="${plot.left}" y="14">${esc(s.title)}</text>`,
    s.band ? bandRect(s.band, y, plot) : '',
    `<rect class="frame" x="${plot.left}" y="${plot.top}" width="${plot.right - plot.left}" height="${plot.bottom - plot.top}"/>`,
    ...ticks, times,
    path === '' ? '' : `<path class="${s.step ? 'line step' : 'line'}" d="${path}"/>`,
    s.step ? '' : dots(s.points, x, y, plot.bottom, s.label),
    '</svg>',
  ].join('')
}
