// The list of releases: the CLI's table (tableRow), as HTML with a link to each release.
import type { Canary } from '../../api/types.ts'
import { phaseText, tableRow, TABLE_HEADER } from '../render/table.ts'
import { esc, releasePath, table } from './html.ts'
import { page } from './layout.ts'

/** The sections of the list page that live updates replace, by element id. */
export function listSections(canaries: readonly Canary[], now: Date, scope: string): Record<string, string> {
  if (canaries.length === 0) return { releases: `<p class="muted">No Canaries in ${esc(scope)}.</p>` }
  const rows = canaries.map(c => {
    const [name = '', , ...rest] = tableRow(c, now)
    const ns = c.metadata.namespace ?? ''
    const link = `<a href="${esc(releasePath(ns, name))}">${esc(name)}</a>`
    const phase = `<span class="phase ${esc(c.status?.phase ?? '')}">${esc(phaseText(c))}</span>`
    return [esc(ns), link, phase, ...rest.map(cell => esc(cell))]
  })
  return { releases: table(['NAMESPACE', ...TABLE_HEADER], rows, new Set(rows[0]?.keys())) }
}

export function listPage(canaries: readonly Canary[], now: Date, scope: string): string {
  const sections = listSections(canaries, now, scope)
  return page({
    title: 'Releases', scope, live: '/live',
    body: `<h1>Releases</h1><section id="releases">${sections.releases}</section>`,
  })
}
