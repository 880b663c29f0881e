// Runs a command tied to the process that started it: `node tether.ts CMD ARGS…` with stdin a pipe from
// the parent. When the parent dies, however it dies (SIGKILL, a test runner's timeout), the pipe closes
// and the command is stopped, so no test leaves a Prometheus or a controller behind.
import { spawn } from 'node:child_process'

const [command, ...args] = process.argv.slice(2)
if (!command) {
  process.stderr.write('usage: node tether.ts COMMAND [ARGS…]\n')
  process.exit(2)
}
const child = spawn(command, args, { stdio: ['ignore', 'inherit', 'inherit'] })
const stop = (signal: NodeJS.Signals): void => {
  if (child.exitCode === null && child.signalCode === null) child.kill(signal)
}
process.on('SIGTERM', () => { stop('SIGTERM') })
process.on('SIGINT', () => { stop('SIGINT') })
// SIGKILL cannot be forwarded (it would only kill the tether): SIGUSR2 asks for the command's SIGKILL.
process.on('SIGUSR2', () => { stop('SIGKILL') })
process.stdin.on('end', () => {
  stop('SIGTERM')
  setTimeout(() => { stop('SIGKILL') }, 5000).unref()
})
process.stdin.on('error', () => { stop('SIGTERM') })
process.stdin.resume()
child.on('exit', (code, signal) => { process.exit(code ?? (signal === 'SIGKILL' ? 137 : 143)) })
child.on('error', e => {
  process.stderr.write(`tether: ${command}: ${e.message}\n`)
  process.exit(127)
})
