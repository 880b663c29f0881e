// `sluice loadtester`: Flagger's load tester API, running commands without a shell, with gates kept in a
// ConfigMap.
import { parseArgs } from 'node:util'
import type { KubeConfig } from '@kubernetes/client-node'
import type { Logger } from 'pino'
import { loadKubeConfig } from '../kube/config.ts'
import { DEFAULT_GATE_CONFIGMAP } from '../loadtester/configmap-store.ts'
import { LOADTESTER_DEFAULTS, startLoadTester, type LoadTesterOptions } from '../loadtester/run.ts'
import { durationMs, hostPort, list, str, type Values } from './flags.ts'
import type { Subcommand } from './subcommand.ts'
import { newLogger, untilSignal } from './webhook.ts'

export const LOADTESTER_FLAGS = {
  kubeconfig: { type: 'string' }, namespace: { type: 'string' }, listen: { type: 'string' }, 'gate-configmap': { type: 'string' },
  allow: { type: 'string', multiple: true }, 'enable-bash': { type: 'boolean' }, 'enable-helm': { type: 'boolean' },
  'enable-kubectl': { type: 'boolean' }, 'max-jobs': { type: 'string' }, 'max-duration': { type: 'string' },
  'max-output': { type: 'string' }, 'idle-timeout': { type: 'string' },
} as const

const HELP = `Usage: sluice loadtester [options]

Flagger's load tester API, so that a Canary's webhooks work after changing only their URL:
  POST /                 run metadata.cmd: type cmd in the background (202; one job per canary and
                         command), or waiting for it (blocking: "true", bash, helm, kubectl: 200 or 500)
  /gate/check|open|close, /rollback/check|open|close   gates by canary, kept in a ConfigMap
  /gate/approve, /gate/halt                             always open, always closed
  /healthz, /metrics

Commands never run through a shell: the command line is split into arguments (quotes and backslashes
as in sh), shell operators (; | & && || > < $( \` …) are refused, and the program must be allowed.

Options:
  --kubeconfig FILE        kubeconfig (default: $KUBECONFIG, ~/.kube/config, or in-cluster)
  --namespace NS           the load tester's namespace, where its gate ConfigMap is (default sluice-system)
  --gate-configmap NAME    the ConfigMap that keeps the gates (default ${DEFAULT_GATE_CONFIGMAP})
  --listen HOST:PORT       address to serve on (default 0.0.0.0:8080)
  --allow PROGRAM          allow this program besides hey: a name looked up on PATH, or an absolute path
                           matched exactly (repeatable)
  --enable-bash            run type bash hooks, as plain programs: no shell, program on the allowlist
  --enable-helm            run type helm and helmv3 hooks (helm with metadata.cmd as its arguments)
  --enable-kubectl         run type kubectl hooks (kubectl with metadata.cmd as its arguments)
  --max-jobs N             commands running at once; one more is answered 429 (default ${LOADTESTER_DEFAULTS.maxJobs})
  --max-duration D         a command still running after D is stopped (default 1h)
  --max-output SIZE        output kept per command, e.g. 64Ki, 1Mi (default 1Mi; the end is kept)
  --idle-timeout D         a background command nobody asked for in D is stopped (default 5m; set it
                           above the longest analysis interval of the Canaries that use it)
`

function positive(flag: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback
  const n = Number(text)
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${flag}: "${text}" is not a positive whole number`)
  return n
}

/** Bytes: a whole number, or one with Ki or Mi. */
export function byteSize(flag: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback
  const m = /^([0-9]+)(Ki|Mi)?$/.exec(text)
  if (!m) throw new Error(`--${flag}: "${text}" is not a size (e.g. 65536, 64Ki, 1Mi)`)
  return Number(m[1]) * (m[2] === 'Mi' ? 1024 * 1024 : m[2] === 'Ki' ? 1024 : 1)
}

function positiveDuration(flag: string, text: string | undefined, fallback: number): number {
  const ms = durationMs(flag, text, fallback)
  if (ms <= 0) throw new Error(`--${flag}: must be longer than 0s`)
  return ms
}

export function loadTesterOptionsFrom(values: Values, kc: KubeConfig, logger: Logger): LoadTesterOptions {
  const { host, port } = hostPort('listen', str(values, 'listen') ?? '0.0.0.0:8080')
  const d = LOADTESTER_DEFAULTS
  const allow = list(values, 'allow')
  for (const program of allow) {
    if (program === '' || (program.includes('/') && !program.startsWith('/'))) throw new Error(`--allow: "${program}" is neither a program name nor an absolute path`)
  }
  return {
    kc, logger, host, port, allow,
    namespace: str(values, 'namespace') ?? 'sluice-system',
    configMapName: str(values, 'gate-configmap') ?? DEFAULT_GATE_CONFIGMAP,
    enableBash: values['enable-bash'] === true, enableHelm: values['enable-helm'] === true, enableKubectl: values['enable-kubectl'] === true,
    maxJobs: positive('max-jobs', str(values, 'max-jobs'), d.maxJobs),
    maxDurationMs: positiveDuration('max-duration', str(values, 'max-duration'), d.maxDurationMs),
    maxOutputBytes: byteSize('max-output', str(values, 'max-output'), d.maxOutputBytes),
    idleTimeoutMs: positiveDuration('idle-timeout', str(values, 'idle-timeout'), d.idleTimeoutMs),
  }
}

export const loadTesterCommand: Subcommand = {
  async run(args) {
    const { values } = parseArgs({ args: [...args], options: { help: { type: 'boolean', short: 'h' }, ...LOADTESTER_FLAGS } })
    if (values.help) { process.stdout.write(HELP); return 0 }
    const logger = newLogger()
    const kc = loadKubeConfig(values.kubeconfig ? { path: values.kubeconfig } : {})
    const running = await startLoadTester(loadTesterOptionsFrom(values, kc, logger))
    await untilSignal(logger, () => running.stop())
    return 0
  },
}
