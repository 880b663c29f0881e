// The flags `sluice plan` and `sluice lint` share: the inputs, and the webhook's own settings that change
// its answers (the default provider, the shortest interval), so that the check matches the cluster's.
import { readFileSync } from 'node:fs'
import { MIN_INTERVAL_MS } from '../../api/defaults.ts'
import { CliError, EXIT } from '../exit.ts'
import { applyDefaultProvider, durationMs, list, str, type Values } from '../flags.ts'
import { check, type CheckResult } from './check.ts'
import { readInputs } from './documents.ts'

export const OFFLINE_FLAGS = {
  filename: { type: 'string', short: 'f', multiple: true }, recursive: { type: 'boolean', short: 'R' },
  namespace: { type: 'string', short: 'n' }, 'default-provider': { type: 'string' }, 'min-interval': { type: 'string' },
} as const

export const OFFLINE_HELP = `\
  -f, --filename PATH      a manifest file, a directory of them (*.yaml, *.yml, *.json), or - for stdin;
                           repeatable; DeliveryPolicies, MetricTemplates and AlertProviders among them are
                           what references and policies resolve to
  -R, --recursive          read the subdirectories of directories too
  -n, --namespace NS       the namespace of objects that name none (default: default)
  --default-provider P     the webhook's --default-provider (default kubernetes)
  --min-interval D         the webhook's --min-interval (default 10s)
`

/** Reads and checks the inputs the flags name. No cluster is contacted. */
export function runCheck(values: Values): CheckResult {
  try {
    applyDefaultProvider(values)
  } catch (e) {
    throw new CliError(EXIT.usage, (e as Error).message)
  }
  let minIntervalMs: number
  try {
    minIntervalMs = durationMs('min-interval', str(values, 'min-interval'), MIN_INTERVAL_MS)
  } catch (e) {
    throw new CliError(EXIT.usage, (e as Error).message)
  }
  const inputs = readInputs(list(values, 'filename'), values.recursive === true, () => readFileSync(0, 'utf8'))
  return check(inputs, { namespace: str(values, 'namespace') ?? 'default', minIntervalMs })
}
