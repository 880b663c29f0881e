// What a `POST /` asks for, decided before anything runs: the program and its arguments, whether the
// answer waits for it, and the key that de-duplicates background jobs. Pure, so that every refusal is
// unit-tested.
//
// Flagger's types, as its load tester treats them:
// - `cmd` (the default): started in the background, answered 202 at once; a second request for the same
//   canary and command while it runs starts nothing. sluice adds `blocking: "true"`, which waits for the
//   command as the types below do (Flagger ignores the key, so such a spec still works there).
// - `bash`, `helm`/`helmv3`, `kubectl`: the answer waits (200, or 500 with the output). Flagger runs `bash -c`;
//   sluice refuses `bash` unless --enable-bash, and even then runs the command line as argv, no shell, with
//   its program on the allowlist. `helm` and `kubectl` run those programs with the command line as their
//   arguments (as Flagger does), each only when enabled by its flag.
// - Anything else (concord, ngrinder, …) is refused.
import { CommandLineError, splitCommandLine } from './argv.ts'
import { canaryKey, type Payload } from './payload.ts'

export interface TaskPolicy {
  /** Programs a command may name as its first word: a bare name, or an absolute path matched exactly. */
  readonly allow: ReadonlySet<string>
  readonly enableBash: boolean
  readonly enableHelm: boolean
  readonly enableKubectl: boolean
}

export interface Task {
  readonly canary: string
  readonly type: string
  readonly argv: readonly string[]
  readonly blocking: boolean
  readonly logOutput: boolean
  readonly returnOutput: boolean
  /** Background jobs with the same key are one job. */
  readonly key: string
}

export type Planned = { readonly ok: true; readonly task: Task } | { readonly ok: false; readonly reason: string; readonly message: string }

/** Go's strconv.ParseBool, which Flagger reads these flags with; anything else is false. */
export function flag(value: string | undefined): boolean {
  return value !== undefined && ['1', 't', 'T', 'true', 'TRUE', 'True'].includes(value)
}

const TOOL_TYPES: Readonly<Record<string, { program: string; enabled: (p: TaskPolicy) => boolean; flag: string }>> = {
  helm: { program: 'helm', enabled: p => p.enableHelm, flag: '--enable-helm' },
  helmv3: { program: 'helm', enabled: p => p.enableHelm, flag: '--enable-helm' },
  kubectl: { program: 'kubectl', enabled: p => p.enableKubectl, flag: '--enable-kubectl' },
}

function refused(reason: string, message: string): Planned {
  return { ok: false, reason, message }
}

/** Why `program` may not run, or undefined when the allowlist names it. */
export function notAllowed(program: string, allow: ReadonlySet<string>): string | undefined {
  if (allow.has(program)) return undefined
  const listed = [...allow].sort().join(', ') || 'nothing'
  const path = program.includes('/') ? ' (a path must be listed exactly as written)' : ''
  return `program "${program}" is not on the allowlist${path}: allowed are ${listed}; the operator adds programs with --allow`
}

function split(cmd: string): string[] | Planned {
  try {
    return splitCommandLine(cmd)
  } catch (e) {
    if (e instanceof CommandLineError) return refused(e.kind === 'syntax' ? 'syntax' : 'shell-syntax', `metadata.cmd: ${e.message}`)
    throw e
  }
}

/** Why this type may not run here, or undefined when it may. */
function typeRefusal(type: string, policy: TaskPolicy): Planned | undefined {
  const tool = TOOL_TYPES[type]
  if (tool) return tool.enabled(policy) ? undefined : refused('type-disabled', `type ${type} is disabled: start sluice loadtester with ${tool.flag} to run ${tool.program}`)
  if (type === 'cmd') return undefined
  if (type === 'bash') {
    return policy.enableBash ? undefined : refused('type-disabled', 'type bash is disabled: sluice loadtester runs no shell; use type cmd (with blocking: "true" to wait for it), ' +
      'or start it with --enable-bash to run bash commands as plain programs (no shell syntax, program on the allowlist)')
  }
  const enabled = ['cmd', policy.enableBash && 'bash', policy.enableHelm && 'helm', policy.enableKubectl && 'kubectl'].filter(Boolean).join(', ')
  return refused('type-unknown', `type ${type} is not supported by sluice loadtester: use ${enabled}`)
}

function argvFor(type: string, cmd: string, policy: TaskPolicy): string[] | Planned {
  const tool = TOOL_TYPES[type]
  if (tool) {
    const args = cmd.trim() === '' ? [] : split(cmd)
    return Array.isArray(args) ? [tool.program, ...args] : args
  }
  const argv = split(cmd)
  if (!Array.isArray(argv)) return argv
  const why = notAllowed(argv[0] ?? '', policy.allow)
  return why === undefined ? argv : refused('not-allowed', why)
}

/** The task a hook's payload asks for, or why it is refused (the answer is then 400 with the message). */
export function planTask(p: Payload, policy: TaskPolicy): Planned {
  const m = p.metadata
  if (Object.keys(m).length === 0) return refused('no-metadata', 'metadata not found in payload: set metadata.cmd in the Canary\'s webhook')
  const type = m.type ?? 'cmd'
  const typeRefused = typeRefusal(type, policy)
  if (typeRefused) return typeRefused
  const cmd = m.cmd
  if (cmd === undefined || (cmd.trim() === '' && TOOL_TYPES[type] === undefined)) return refused('no-cmd', 'cmd not found in metadata')
  const argv = argvFor(type, cmd, policy)
  if (!Array.isArray(argv)) return argv
  const canary = canaryKey(p)
  return {
    ok: true,
    task: {
      canary, type, argv,
      blocking: type !== 'cmd' || flag(m.blocking),
      // Flagger logs the output of blocking types always, of cmd only with logCmdOutput.
      logOutput: type !== 'cmd' || flag(m.logCmdOutput),
      returnOutput: flag(m.returnCmdOutput),
      key: JSON.stringify([canary, argv]),
    },
  }
}
