// One release: where it stands (the CLI's phase, step, next-step and replica texts), its plan with the current
// step, charts of its weight and metrics over the run, the check log, hooks and gates, Events, and its buttons.
import { DEFAULTS, strategyOf } from '../../api/defaults.ts'
import { MAX_STATUS_CHECKS, type Canary } from '../../api/types.ts'
import { amount } from '../../controller/machine/checks.ts'
import type { Release } from '../canaries.ts'
import { notPassing } from '../promote.ts'
import { CHECK_HEADER, checkRows, EVENT_HEADER, eventRows, HOOK_HEADER, hookRows, replicas } from '../render/detail.ts'
import { whatNext } from '../render/next.ts'
import { markedRows, stepText } from '../render/steps.ts'
import { phaseText } from '../render/table.ts'
import { since } from '../render/text.ts'
import { isGenerated } from '../../controller/generate.ts'
import { ACTIONS, unavailable, type Action } from './actions.ts'
import { chartSvg, valueDomain, type Domain } from './chart.ts'
import type { History } from './history.ts'
import { esc, releasePath, table } from './html.ts'
import { page } from './layout.ts'

function summary(r: Release, now: Date): string {
  const c = r.canary
  const s = c.status ?? {}
  const target = c.spec.targetRef.name
  const origin = isGenerated(c) ? `generated from the annotations of Deployment ${target}` : `written by hand, target Deployment ${target}`
  const rows: [string, string][] = [
    ['Phase', `<span id="phase" class="phase ${esc(s.phase ?? '')}">${esc(phaseText(c))}</span> <span class="muted">since ${esc(since(s.lastTransitionTime, now))}</span>`],
    ['Weight', `<span id="weight">${esc(s.canaryWeight ?? 0)}%</span> to the canary`],
    ['Step', `<span id="step">${esc(stepText(c.spec, strategyOf(c.spec), s))}</span>`],
    ['Failed checks', `${esc(s.failedChecks ?? 0)} of ${esc(c.spec.analysis?.threshold ?? DEFAULTS.threshold)}`],
    ['Next', `<span id="next">${esc(whatNext(c, now))}</span>`],
    ['Replicas', esc(`primary ${replicas(`${target}-primary`, r.primary)}; canary ${replicas(target, r.target)}`)],
    ['Router', esc(`${c.spec.provider ?? DEFAULTS.provider}, Service ${c.spec.service.name ?? target}`)],
    ['Canary', esc(origin)],
  ]
  return `<dl>${rows.map(([k, v]) => `<dt>${esc(k)}</dt><dd>${v}</dd>`).join('')}</dl>`
}

function plan(c: Canary): string {
  const marks = { done: '✓', now: '▶', '': '' } as const
  const rows = markedRows(c.spec, strategyOf(c.spec), c.status ?? {})
  const body = rows.map(r => `<tr class="${r.mark}"><td class="mark">${marks[r.mark]}</td><td>${esc(r.label)}</td><td>${esc(r.at ?? '')}</td><td>${esc(r.note ?? '')}</td></tr>`)
  return `<table><tbody>${body.join('')}</tbody></table>`
}

function timeDomain(h: History | undefined, now: Date): Domain {
  const times = [h?.since ?? now.getTime(), ...(h?.weights ?? []).map(p => p.t), ...Object.values(h?.metrics ?? {}).flatMap(m => m.points.map(p => p.t))]
  return { min: Math.min(...times), max: Math.max(now.getTime(), ...times) }
}

function charts(c: Canary, h: History | undefined, now: Date): string {
  const time = timeDomain(h, now)
  const weight = chartSvg({ title: 'Canary weight (%)', time, y: { min: 0, max: 100 }, points: h?.weights ?? [], step: true, label: v => `${Math.round(v)}%` })
  const metrics = (c.spec.analysis?.metrics ?? []).map(m => {
    const hist = h?.metrics[m.name]
    const points = hist?.points ?? []
    const band = hist?.range ?? m.thresholdRange ?? {}
    const values = points.flatMap(p => p.v === null ? [] : [p.v])
    return chartSvg({ title: `${m.name} (passing range shaded)`, time, y: valueDomain(values, band), points, band, label: v => amount(v, m.name) })
  })
  return [weight, ...metrics].join('\n')
}

const CONFIRM: Readonly<Record<Action, (c: Canary) => string>> = {
  promote: c => `Promote ${name(c)} now, skipping its remaining steps? (writes sluice.dev/promote, as sluice promote)`,
  'promote-full': c => `Promote ${name(c)} now WHATEVER ITS CHECKS SAY, skipping the remaining steps and the analysis?` +
    `${notPassing(c) ? `\n\nIts analysis is not passing: ${notPassing(c) ?? ''}` : ''}\n\n(as sluice promote --full)`,
  abort: c => `Roll ${name(c)} back now? All traffic returns to the primary and the canary is scaled to zero (as sluice abort).`,
  retry: c => `Run ${name(c)} again with the same revision, from the first step (as sluice retry)?`,
  pause: c => `Pause ${name(c)} where it stands: no step, check, promotion or rollback until it is resumed (as sluice pause)?`,
  resume: c => `Resume ${name(c)} from where it stood (as sluice resume)?`,
}

const LABEL: Readonly<Record<Action, string>> = { promote: 'Promote', 'promote-full': 'Promote (skip analysis)…', abort: 'Abort', retry: 'Retry', pause: 'Pause', resume: 'Resume' }

function name(c: Canary): string {
  return `${c.metadata.namespace ?? ''}/${c.metadata.name ?? ''}`
}

function buttons(c: Canary): string {
  const path = releasePath(c.metadata.namespace ?? '', c.metadata.name ?? '')
  return ACTIONS.map(a => {
    const why = unavailable(c, a)
    const cls = a === 'abort' || a === 'promote-full' ? ' class="danger"' : ''
    return `<button type="button"${cls} data-action="${a}" data-url="${esc(`${path}/actions/${a}`)}" data-confirm="${esc(CONFIRM[a](c))}"` +
      `${why ? ` disabled title="${esc(why)}"` : ''}>${esc(LABEL[a])}</button>`
  }).join('')
}

const listOr = (header: readonly string[], rows: string[][], none: string, raw?: ReadonlySet<number>): string =>
  rows.length === 0 ? `<p class="muted">${esc(none)}</p>` : table(header, rows, raw)

/** The sections that live updates replace, by element id. */
export function releaseSections(r: Release, h: History | undefined, now: Date): Record<string, string> {
  const c = r.canary
  const checks = checkRows(c, now, MAX_STATUS_CHECKS).reverse().map(row => row.map((cell, i) => i === 5 ? `<span class="verdict-${esc(cell)}">${esc(cell)}</span>` : esc(cell)))
  const events = eventRows(r.events, now).reverse().map(row => row.map((cell, i) => i === 1 ? `<span class="${esc(cell)}">${esc(cell)}</span>` : esc(cell)))
  const all = new Set(CHECK_HEADER.keys())
  return {
    summary: summary(r, now),
    plan: plan(c),
    actions: buttons(c),
    charts: charts(c, h, now),
    checks: listOr(CHECK_HEADER, checks, 'No checks yet.', all),
    hooks: listOr(HOOK_HEADER, hookRows(c, now), 'No hooks or gates.'),
    events: listOr(EVENT_HEADER, events, 'No Events (or you may not list Events in this namespace).', new Set(EVENT_HEADER.keys())),
  }
}

export function releasePage(r: Release, h: History | undefined, now: Date, scope: string): string {
  const s = releaseSections(r, h, now)
  const c = r.canary
  const live = `${releasePath(c.metadata.namespace ?? '', c.metadata.name ?? '')}/live`
  const body = `<h1>${esc(name(c))}</h1>
<div class="grid"><div>
<section id="summary">${s.summary}</section>
<h2>Actions</h2><section><div id="actions" class="actions">${s.actions}</div></section>
<h2>Plan</h2><section id="plan">${s.plan}</section>
</div><div>
<h2 style="margin-top:0">Over the run</h2><section id="charts" class="charts">${s.charts}</section>
</div></div>
<h2>Check log (newest first)</h2><section id="checks">${s.checks}</section>
<h2>Hooks and gates</h2><section id="hooks">${s.hooks}</section>
<h2>Events (newest first)</h2><section id="events">${s.events}</section>`
  return page({ title: name(c), scope, live, body })
}
