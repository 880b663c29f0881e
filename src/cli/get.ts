// `sluice get [NAME]`: the releases as a table, or one in detail; -w follows them through a watch.
import { stringify } from 'yaml'
import type { Canary } from '../api/types.ts'
import { nameArgument, parseCommand } from './args.ts'
import { findCanary, getCanary, listCanaries, readRelease, type Release } from './canaries.ts'
import { ALL_NAMESPACES_FLAG, ALL_NAMESPACES_HELP, CLUSTER_FLAGS, CLUSTER_HELP, connect, type Cluster } from './cluster.ts'
import { CliError, EXIT } from './exit.ts'
import { str } from './flags.ts'
import { renderDetail } from './render/detail.ts'
import { renderTable } from './render/table.ts'
import { redraw, releaseLines, tableLines } from './render/watch.ts'
import type { Subcommand } from './subcommand.ts'
import { watchCanaries, watchRelease } from './watch.ts'

export const GET_FLAGS = {
  ...CLUSTER_FLAGS, ...ALL_NAMESPACES_FLAG, watch: { type: 'boolean', short: 'w' }, output: { type: 'string', short: 'o' },
} as const

const HELP = `Usage: sluice get [NAME] [options]

Without NAME: a table of the releases (Canaries) of the namespace: phase, traffic weight, step k of n,
failed checks, the last check and age. With NAME: one release in detail: its plan with the current step
marked, what happens next and when, the primary and canary replicas, the last checks (value, range,
window, verdict), the hooks and gates, and the recent Events.

Options:
  -w, --watch              follow the release(s) through a watch: redrawn in place on a terminal, one plain
                           line per change otherwise (a log); stop with Ctrl-C
  -o, --output FORMAT      text (default), json, yaml, or name (canary.sluice.dev/NAME per line)
${CLUSTER_HELP}${ALL_NAMESPACES_HELP}
Exit codes: 0 shown, 2 usage, 3 no such Canary, 4 forbidden, 6 API server unreachable.
`

const FORMATS = ['text', 'json', 'yaml', 'name'] as const
type Format = typeof FORMATS[number]

function formatOf(value: string | undefined): Format {
  const format = value ?? 'text'
  if ((FORMATS as readonly string[]).includes(format)) return format as Format
  throw new CliError(EXIT.usage, `--output: "${format}" is not one of ${FORMATS.join(', ')}`)
}

function machineOutput(format: Exclude<Format, 'text'>, objects: readonly Canary[], single: boolean): string {
  if (format === 'name') return objects.map(c => `canary.sluice.dev/${c.metadata.name ?? ''}\n`).join('')
  const value = single ? objects[0] : { apiVersion: 'v1', kind: 'List', items: objects }
  return format === 'json' ? `${JSON.stringify(value, null, 2)}\n` : stringify(value)
}

const untilStopped = (): Promise<void> => new Promise(resolve => {
  process.once('SIGINT', () => resolve())
  process.once('SIGTERM', () => resolve())
})

async function one(cluster: Cluster, name: string, all: boolean): Promise<Canary> {
  return all ? findCanary(cluster, name) : getCanary(cluster, cluster.namespace, name)
}

async function followRelease(cluster: Cluster, canary: Canary): Promise<number> {
  const tty = process.stdout.isTTY === true
  let previous: Release | undefined
  let frame: string | undefined
  const draw = (r: Release): void => {
    const now = new Date()
    if (tty) {
      const next = renderDetail(r, now)
      process.stdout.write(redraw(next, frame))
      frame = next
    } else for (const line of releaseLines(previous, r, now)) process.stdout.write(`${line}\n`)
    previous = r
  }
  const watching = await watchRelease(cluster, canary, r => {
    if (r) return draw(r)
    process.stdout.write(`Canary ${canary.metadata.namespace ?? ''}/${canary.metadata.name ?? ''} was deleted\n`)
    process.kill(process.pid, 'SIGTERM')
  })
  // On a terminal the countdowns ("next checks in 7s") are redrawn every second from what was last seen.
  const clock = tty ? setInterval(() => { if (previous) draw(previous) }, 1000) : undefined
  await untilStopped()
  clearInterval(clock)
  watching.stop()
  return EXIT.ok
}

async function followTable(cluster: Cluster, namespace: string | undefined): Promise<number> {
  const tty = process.stdout.isTTY === true
  const seen = new Map<string, string>()
  let frame: string | undefined
  const watching = await watchCanaries(cluster, namespace, canaries => {
    const now = new Date()
    if (!tty) {
      for (const line of tableLines(seen, canaries, now, namespace === undefined)) process.stdout.write(`${line}\n`)
      return
    }
    const next = canaries.length === 0 ? noneText(namespace) : renderTable(canaries, now, namespace === undefined)
    process.stdout.write(redraw(next, frame))
    frame = next
  })
  await untilStopped()
  watching.stop()
  return EXIT.ok
}

function noneText(namespace: string | undefined): string {
  return namespace === undefined ? 'No Canaries in any namespace.\n' : `No Canaries in namespace ${namespace} (another: -n NS, or -A for all).\n`
}

async function show(cluster: Cluster, name: string | undefined, all: boolean, format: Format): Promise<number> {
  if (name !== undefined) {
    const canary = await one(cluster, name, all)
    process.stdout.write(format === 'text' ? renderDetail(await readRelease(cluster, canary), new Date()) : machineOutput(format, [canary], true))
    return EXIT.ok
  }
  const namespace = all ? undefined : cluster.namespace
  const canaries = await listCanaries(cluster, namespace)
  if (format !== 'text') process.stdout.write(machineOutput(format, canaries, false))
  else process.stdout.write(canaries.length === 0 ? noneText(namespace) : renderTable(canaries, new Date(), all))
  return EXIT.ok
}

export const getCommand: Subcommand = {
  options: GET_FLAGS,
  async run(args) {
    const parsed = parseCommand('get', args, GET_FLAGS, HELP)
    if (!parsed) return EXIT.ok
    const { values, positionals } = parsed
    const name = positionals.length === 0 ? undefined : nameArgument('get', positionals)
    const format = formatOf(str(values, 'output'))
    const cluster = connect(values)
    const all = values['all-namespaces'] === true
    if (values.watch !== true) return show(cluster, name, all, format)
    if (format !== 'text') throw new CliError(EXIT.usage, '--watch shows text only; drop --output')
    if (name !== undefined) return followRelease(cluster, await one(cluster, name, all))
    return followTable(cluster, all ? undefined : cluster.namespace)
  },
}
