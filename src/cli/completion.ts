// `sluice completion bash|zsh|fish`: shell completion of the commands, their flags, and Canary names (asked
// of the cluster with `sluice get -o name`, in the namespace given with -n if any).
import type { ParseArgsOptionsConfig } from 'node:util'
import { parseCommand } from './args.ts'
import { CliError, EXIT } from './exit.ts'
import type { Subcommand } from './subcommand.ts'

export interface CommandInfo {
  readonly name: string
  readonly summary: string
  readonly options?: ParseArgsOptionsConfig
}

export const SHELLS = ['bash', 'zsh', 'fish'] as const
type Shell = typeof SHELLS[number]

/** Commands whose argument is the name of a Canary. */
export const NAMED = ['get', 'status', 'promote', 'abort', 'retry', 'pause', 'resume'] as const

function flagWords(options: ParseArgsOptionsConfig | undefined): string[] {
  const words = ['--help']
  for (const [long, o] of Object.entries(options ?? {})) {
    words.push(`--${long}`)
    if (o.short) words.push(`-${o.short}`)
  }
  return words
}

const VALUE_FLAGS = '-f|--filename|--kubeconfig'

export function bashScript(commands: readonly CommandInfo[]): string {
  const cases = commands.map(c => `    ${c.name}) flags="${flagWords(c.options).join(' ')}" ;;`).join('\n')
  return `# sluice completion for bash: source <(sluice completion bash)
_sluice_canaries() {
  local ns="" i
  for ((i = 1; i < \${#COMP_WORDS[@]}; i++)); do
    case "\${COMP_WORDS[i]}" in -n|--namespace) ns="\${COMP_WORDS[i+1]}" ;; esac
  done
  sluice get -o name \${ns:+-n "$ns"} 2>/dev/null | sed 's|^canary.sluice.dev/||'
}
_sluice() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" prev="\${COMP_WORDS[COMP_CWORD-1]}" flags=""
  if [[ $COMP_CWORD -eq 1 ]]; then
    COMPREPLY=($(compgen -W "${commands.map(c => c.name).join(' ')}" -- "$cur"))
    return
  fi
  case "$prev" in
    ${VALUE_FLAGS}) COMPREPLY=($(compgen -f -- "$cur")); return ;;
    -n|--namespace) COMPREPLY=($(compgen -W "$(kubectl get namespaces -o name 2>/dev/null | sed 's|^namespace/||')" -- "$cur")); return ;;
    --context) COMPREPLY=($(compgen -W "$(kubectl config get-contexts -o name 2>/dev/null)" -- "$cur")); return ;;
    -o|--output) COMPREPLY=($(compgen -W "text json yaml name github" -- "$cur")); return ;;
  esac
  case "\${COMP_WORDS[1]}" in
${cases}
  esac
  if [[ "$cur" == -* ]]; then
    COMPREPLY=($(compgen -W "$flags" -- "$cur"))
    return
  fi
  case "\${COMP_WORDS[1]}" in
    ${NAMED.join('|')}) COMPREPLY=($(compgen -W "$(_sluice_canaries)" -- "$cur")) ;;
    completion) COMPREPLY=($(compgen -W "${SHELLS.join(' ')}" -- "$cur")) ;;
  esac
}
complete -o default -F _sluice sluice
`
}

export function zshScript(commands: readonly CommandInfo[]): string {
  // zsh runs bash completion functions through bashcompinit, which ships with zsh.
  return `#compdef sluice
# sluice completion for zsh: source <(sluice completion zsh)
autoload -U +X bashcompinit && bashcompinit
${bashScript(commands).split('\n').slice(1).join('\n')}`
}

function fishQuote(text: string): string {
  return `'${text.replaceAll('\\', '\\\\').replaceAll('\'', '\\\'')}'`
}

function fishFlags(c: CommandInfo): string[] {
  return Object.entries(c.options ?? {}).map(([long, o]) => {
    const short = o.short ? ` -s ${o.short}` : ''
    const value = o.type === 'string' ? (long === 'filename' || long === 'kubeconfig' ? ' -r -F' : ' -r') : ''
    return `complete -c sluice -n '__fish_seen_subcommand_from ${c.name}' -l ${long}${short}${value}`
  })
}

export function fishScript(commands: readonly CommandInfo[]): string {
  return [
    '# sluice completion for fish: sluice completion fish | source',
    'complete -c sluice -f',
    ...commands.map(c => `complete -c sluice -n __fish_use_subcommand -a ${c.name} -d ${fishQuote(c.summary)}`),
    ...commands.flatMap(fishFlags),
    `complete -c sluice -n '__fish_seen_subcommand_from ${NAMED.join(' ')}' -a '(sluice get -o name 2>/dev/null | string replace canary.sluice.dev/ "")'`,
    `complete -c sluice -n '__fish_seen_subcommand_from completion' -a '${SHELLS.join(' ')}'`,
    '',
  ].join('\n')
}

const HELP = `Usage: sluice completion bash|zsh|fish

Prints the shell completion script: commands, flags, Canary names (from the cluster of your kubeconfig),
namespaces and contexts.

  bash:  source <(sluice completion bash)          (or save it under /etc/bash_completion.d/)
  zsh:   source <(sluice completion zsh)
  fish:  sluice completion fish | source           (or save it as ~/.config/fish/completions/sluice.fish)

Exit codes: 0, 2 usage.
`

export function completionCommand(commands: () => Promise<readonly CommandInfo[]>): Subcommand {
  return {
    async run(args) {
      const parsed = parseCommand('completion', args, {}, HELP)
      if (!parsed) return EXIT.ok
      const shell = parsed.positionals[0]
      if (parsed.positionals.length !== 1 || !(SHELLS as readonly string[]).includes(shell ?? '')) {
        throw new CliError(EXIT.usage, `takes one of ${SHELLS.join(', ')} (got ${parsed.positionals.join(' ') || 'none'}); see sluice completion --help`)
      }
      const scripts: Record<Shell, (c: readonly CommandInfo[]) => string> = { bash: bashScript, zsh: zshScript, fish: fishScript }
      process.stdout.write(scripts[shell as Shell](await commands()))
      return EXIT.ok
    },
  }
}
