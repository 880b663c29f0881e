// `sluice serve`: the webhook and the controller in one process, for local runs.
import { parseArgs } from 'node:util'
import { Registry } from 'prom-client'
import { runWebhook } from '../admission/run.ts'
import { runController } from '../controller/run.ts'
import { loadKubeConfig } from '../kube/config.ts'
import { applyDefaultProvider } from './flags.ts'
import { CONTROLLER_FLAGS, CONTROLLER_FLAG_HELP, controllerOptionsFrom } from './controller.ts'
import type { Subcommand } from './subcommand.ts'
import { COMMON_FLAG_HELP, WEBHOOK_FLAGS, WEBHOOK_FLAG_HELP, newLogger, untilSignal, webhookOptionsFrom } from './webhook.ts'

const HELP = `Usage: sluice serve [options]

Runs the admission webhooks and the controller in one process (local runs). Losing the controller's
lease stops the whole process, webhook included.

Options:
${COMMON_FLAG_HELP}${WEBHOOK_FLAG_HELP}${CONTROLLER_FLAG_HELP}`

export const serveCommand: Subcommand = {
  async run(args) {
    const { values } = parseArgs({ args: [...args], options: { help: { type: 'boolean', short: 'h' }, ...WEBHOOK_FLAGS, ...CONTROLLER_FLAGS } })
    if (values.help) { process.stdout.write(HELP); return 0 }
    // One default for both halves: the webhook validates with the router the controller will use.
    applyDefaultProvider(values)
    const logger = newLogger()
    const kc = loadKubeConfig(values.kubeconfig ? { path: values.kubeconfig } : {})
    // One registry: the controller's telemetry port serves the webhook's metrics too.
    const registry = new Registry()
    const webhook = await runWebhook({ ...webhookOptionsFrom(values, kc, logger.child({ component: 'webhook' })), registry })
    const controller = await runController({ ...controllerOptionsFrom(values, kc, logger.child({ component: 'controller' })), registry })
    await untilSignal(logger, async () => { await controller.stop(); await webhook.stop() })
    return 0
  },
}
