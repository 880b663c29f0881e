// `sluice get NAME`: one release in detail: where it stands in its plan, what comes next and when, the last
// checks with value, range, window and verdict, the hooks and gates, both Deployments, the recent Events.
import type { CoreV1Event, V1Deployment } from '@kubernetes/client-node'
import { DEFAULTS, strategyOf, webhookType } from '../../api/defaults.ts'
import { planText } from '../../api/timing.ts'
import type { Canary, CanaryWebhook } from '../../api/types.ts'
import { isGenerated } from '../../controller/generate.ts'
import { displayUrl } from '../../util/http.ts'
import type { Release } from '../canaries.ts'
import { rangeText, valueText } from './checks.ts'
import { whatNext } from './next.ts'
import { markedRows, type Mark } from './steps.ts'
import { phaseText } from './table.ts'
import { columns, since } from './text.ts'

export const CHECKS_SHOWN = 8
export const EVENTS_SHOWN = 10

const MARKS: Readonly<Record<Mark, string>> = { done: '[x]', now: '[>]', '': '[ ]' }

function field(label: string, value: string): string {
  return `${label.padEnd(10)}  ${value}`
}

function overview(c: Canary, now: Date): string[] {
  const s = c.status ?? {}
  const origin = isGenerated(c) ? `generated from the annotations of Deployment ${c.spec.targetRef.name}` : `written by hand, target Deployment ${c.spec.targetRef.name}`
  const threshold = c.spec.analysis?.threshold ?? DEFAULTS.threshold
  return [
    field('Canary', `${c.metadata.namespace ?? ''}/${c.metadata.name ?? ''} (${origin})`),
    field('Phase', `${phaseText(c)}, since ${since(s.lastTransitionTime, now)}; weight ${s.canaryWeight ?? 0}%; failed checks ${s.failedChecks ?? 0} of ${threshold}`),
    field('Router', `${c.spec.provider ?? `${DEFAULTS.provider} (default)`}, Service ${c.spec.service.name ?? c.spec.targetRef.name}`),
    field('Plan', planText({ namespace: c.metadata.namespace ?? '', name: c.metadata.name ?? '' }, c.spec, strategyOf(c.spec))),
  ]
}

function steps(c: Canary): string[] {
  const rows = markedRows(c.spec, strategyOf(c.spec), c.status ?? {})
  return columns(rows.map(r => [MARKS[r.mark], r.label, r.at ?? '', r.note ?? '']), ' '.repeat(12))
}

export const CHECK_HEADER = ['AGE', 'NAME', 'VALUE', 'RANGE', 'WINDOW', 'VERDICT', 'MESSAGE'] as const

/** The last `shown` checks as rows of CHECK_HEADER. */
export function checkRows(c: Canary, now: Date, shown = CHECKS_SHOWN): string[][] {
  return (c.status?.checks ?? []).slice(-shown).map(r => [
    `${since(r.time, now)} ago`, r.name, valueText(r), rangeText(r.range, r.name), r.window ?? '-', r.verdict,
    r.verdict === 'pass' ? '' : r.message ?? '',
  ])
}

function checks(c: Canary, now: Date): string[] {
  const rows = checkRows(c, now)
  if (rows.length === 0) return ['Checks      none yet']
  return [`Checks (last ${rows.length} of ${c.status?.checks?.length ?? 0})`, ...columns([[...CHECK_HEADER], ...rows], '  ')]
}

function hookUrl(w: CanaryWebhook): string {
  try {
    return displayUrl(new URL(w.url))
  } catch {
    return '(not a URL)'
  }
}

export const HOOK_HEADER = ['TYPE', 'NAME', 'URL', 'LAST'] as const

/** The hooks and gates of the spec as rows of HOOK_HEADER, each with its latest result. */
export function hookRows(c: Canary, now: Date): string[][] {
  return (c.spec.analysis?.webhooks ?? []).map(w => {
    const type = webhookType(w)
    const last = (c.status?.checks ?? []).findLast(r => r.name === `${type}:${w.name}`)
    return [type, w.name, hookUrl(w), last ? `${last.verdict} ${since(last.time, now)} ago` : '-']
  })
}

function hooks(c: Canary, now: Date): string[] {
  const rows = hookRows(c, now)
  if (rows.length === 0) return ['Hooks       none']
  return ['Hooks and gates', ...columns([[...HOOK_HEADER], ...rows], '  ')]
}

export const EVENT_HEADER = ['AGE', 'TYPE', 'REASON', 'MESSAGE'] as const

/** The last EVENTS_SHOWN Events as rows of EVENT_HEADER. */
export function eventRows(list: readonly CoreV1Event[], now: Date): string[][] {
  return list.slice(-EVENTS_SHOWN).map(e => [
    `${since(e.lastTimestamp ?? e.eventTime ?? e.firstTimestamp, now)} ago`, e.type ?? '', e.reason ?? '',
    `${e.message ?? ''}${(e.count ?? 1) > 1 ? ` (x${e.count})` : ''}`,
  ])
}

function events(list: readonly CoreV1Event[], now: Date): string[] {
  const rows = eventRows(list, now)
  if (rows.length === 0) return ['Events      none']
  return [`Events (last ${rows.length})`, ...columns([[...EVENT_HEADER], ...rows], '  ')]
}

/** "podinfo-primary 2/2 ready", or "(not there)". */
export function replicas(name: string, d: V1Deployment | undefined): string {
  if (!d) return `${name} (not there)`
  const want = d.spec?.replicas ?? 0
  return `${name} ${d.status?.readyReplicas ?? 0}/${want} ready`
}

/** The whole view, ending with a newline. */
export function renderDetail(r: Release, now: Date): string {
  const c = r.canary
  return [
    ...overview(c, now),
    field('Steps', '').trimEnd(),
    ...steps(c),
    field('Next', whatNext(c, now)),
    field('Replicas', `primary ${replicas(`${c.spec.targetRef.name}-primary`, r.primary)}; canary ${replicas(c.spec.targetRef.name, r.target)}`),
    '',
    ...checks(c, now),
    '',
    ...hooks(c, now),
    '',
    ...events(r.events, now),
  ].join('\n') + '\n'
}
