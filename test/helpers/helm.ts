// The real helm (`make helm`: test/cluster/build-helm.sh) run on the chart in charts/sluice, with its own
// configuration, cache and data directories so that a test never reads or writes the user's.
import { execFile } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { homedir, tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { parseAllDocuments } from 'yaml'

export const CHART_DIR = resolve(import.meta.dirname, '../../charts/sluice')

export function helmPath(): string {
  return process.env.SLUICE_HELM ?? join(homedir(), '.cache/sluice/helm-v4.3.2/helm')
}

const HELM_HOME = mkdtempSync(join(tmpdir(), 'sluice-helm-'))
const HELM_ENV = {
  HELM_CONFIG_HOME: join(HELM_HOME, 'config'), HELM_CACHE_HOME: join(HELM_HOME, 'cache'), HELM_DATA_HOME: join(HELM_HOME, 'data'),
}

export interface HelmResult { code: number; stdout: string; stderr: string }

/** Runs helm with argument arrays (no shell), against $KUBECONFIG when set. */
export async function helm(args: readonly string[]): Promise<HelmResult> {
  return new Promise(resolveRun => {
    execFile(helmPath(), [...args], { env: { ...process.env, ...HELM_ENV }, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      resolveRun({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr })
    })
  })
}

/** helm that must succeed; its stderr is in the error otherwise. */
export async function helmOk(args: readonly string[]): Promise<string> {
  const r = await helm(args)
  if (r.code !== 0) throw new Error(`helm ${args.join(' ')} failed (${r.code}): ${r.stderr}`)
  return r.stdout
}

export interface K8sObject {
  apiVersion: string
  kind: string
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> }
  [field: string]: unknown
}

/** The objects of a multi-document YAML text (empty documents left out). */
export function parseObjects(text: string): K8sObject[] {
  return parseAllDocuments(text).map(d => {
    if (d.errors.length > 0) throw new Error(d.errors.map(e => e.message).join('; '))
    return d.toJS() as unknown
  }).filter((o): o is K8sObject => o !== null && o !== undefined)
}

/** `helm template` of the chart (or a packaged one) as release `release` in `namespace`, with `--set`/`-f` style arguments. */
export async function renderChart(args: readonly string[] = [], release = 'sluice', namespace = 'sluice-system', chart = CHART_DIR): Promise<K8sObject[]> {
  return parseObjects(await helmOk(['template', release, chart, '--namespace', namespace, ...args]))
}
