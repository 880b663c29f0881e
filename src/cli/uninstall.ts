// `sluice uninstall`: removes sluice without taking an app's endpoints away. In order, each step safe to run
// again after a crash at any point (the plan is made again from what is in the cluster):
//   1. every opted-in app is reverted by the controller (uninstall-plan.ts says how, and why not by the CLI);
//   2. the webhook configurations go, so that no dangling failurePolicy: Fail webhook blocks a Deployment write;
//   3. the rest of the install (sluice-system, RBAC; the CRDs only with --crds), unless --keep-install.
// Nothing may opt an app in again between 1 and 2: the annotations are gone from the live Deployments and
// enforce policies are deleted, but a GitOps sync or a kubectl apply of the old sources can put annotations
// back. So before 2 and again before 3 (the controller still runs until then) the plan is read again and
// anything opted in meanwhile is reverted first; after 3 nothing intercepts or acts on the annotations.
import { setTimeout as sleep } from 'node:timers/promises'
import type { Canary } from '../api/types.ts'
import { parseCommand } from './args.ts'
import { canaryName } from './canaries.ts'
import { CLUSTER_FLAGS, connect, type Cluster } from './cluster.ts'
import { requireConfirmation } from './confirm.ts'
import { CliError, EXIT } from './exit.ts'
import { durationMs, str, type Values } from './flags.ts'
import type { Subcommand } from './subcommand.ts'
import { deleteObject, deletePolicy, exists, listCanariesIn, readSnapshot, servingText, startRevert } from './uninstall-cluster.ts'
import { planUninstall, renderPlan, WEBHOOK_OBJECTS, type Options, type Plan } from './uninstall-plan.ts'
import { INSTALL_NAMESPACE } from '../admission/manifests.ts'
import { formatDuration } from '../util/duration.ts'

const FLAGS = {
  ...CLUSTER_FLAGS, 'dry-run': { type: 'boolean' }, yes: { type: 'boolean', short: 'y' }, timeout: { type: 'string' },
  'keep-install': { type: 'boolean' }, crds: { type: 'boolean' }, 'controller-lease': { type: 'string' },
} as const

const HELP = `Usage: sluice uninstall [options]

Removes sluice from the cluster without taking an app's endpoints away, in three steps:

  1. Reverts every opted-in app, through the controller's own opt-out path: each Deployment gets its
     replicas back and is ready before its Service selects its pods again; then the generated objects
     (<app>-primary, the side Services, router objects, config copies) go. For an annotated Deployment the
     sluice.dev/ annotations are removed from the live object; a Canary written by hand is deleted (with
     spec.revertOnDeletion set to true first). DeliveryPolicies in mode enforce are deleted first, since
     they would opt the Deployments in again. Needs the controller running: without it nothing is done.
  2. Deletes the webhook configurations (MutatingWebhookConfiguration and ValidatingWebhookConfiguration
     sluice), so that nothing intercepts or blocks Deployment writes.
  3. Deletes the rest: the namespace ${INSTALL_NAMESPACE} (controller, webhook, load tester, Secrets, Lease),
     the ClusterRoles and ClusterRoleBindings; the CRDs only with --crds, which deletes every DeliveryPolicy,
     MetricTemplate and AlertProvider with them.

Safe to run again after an interruption at any step. Remove the sluice.dev/ annotations from your
manifests' sources too: a GitOps sync or kubectl apply puts them back (harmless once sluice is gone).
With -n only that namespace's apps are reverted, and steps 2 and 3 happen only if no other namespace
has apps opted in. Installed with Helm or kustomize? Use --keep-install, then helm uninstall or
kubectl delete -k.

Options:
  --dry-run                print the plan and change nothing
  -y, --yes                do not ask for a confirmation (needed where there is no terminal)
  --timeout D              how long to wait for the apps to be reverted and objects to go (default 10m)
  --keep-install           steps 1 and 2 only: leave the install to helm uninstall / kubectl delete -k
  --crds                   also delete the CRDs (and with them all DeliveryPolicies, MetricTemplates, AlertProviders)
  --controller-lease NS/NAME  the controller's Lease, to check that it runs (default ${INSTALL_NAMESPACE}/sluice-controller)
  --kubeconfig FILE        kubeconfig (default: $KUBECONFIG, else ~/.kube/config)
  --context NAME           kubeconfig context (default: the current context)
  -n, --namespace NS       revert the apps of this namespace only (default: every namespace)

Exit codes: 0 done (or --dry-run of a plan that can run), 1 refused (the controller is not running, or an enforce policy with -n),
2 usage or no confirmation, 4 forbidden, 5 --timeout passed (run it again), 6 API server unreachable.
`

interface Run {
  readonly cluster: Cluster
  readonly namespace: string | undefined
  readonly lease: { namespace: string; name: string }
  readonly options: Options
  readonly deadline: number
  readonly timeoutMs: number
}

const say = (text: string): void => { process.stdout.write(`${text}\n`) }

function leaseRef(text: string | undefined): { namespace: string; name: string } {
  if (text === undefined) return { namespace: INSTALL_NAMESPACE, name: 'sluice-controller' }
  const [namespace, name, ...rest] = text.split('/')
  if (!namespace || !name || rest.length > 0) throw new CliError(EXIT.usage, `--controller-lease: "${text}" is not NAMESPACE/NAME`)
  return { namespace, name }
}

async function plan(r: Run): Promise<Plan> {
  return planUninstall(await readSnapshot(r.cluster, r.namespace, r.lease), r.options)
}

const hasReverts = (p: Plan): boolean => p.policies.length > 0 || p.reverts.length > 0 || p.waitFor.length > 0

function timedOut(r: Run, what: string): CliError {
  return new CliError(EXIT.timeout, `${what} after ${formatDuration(r.timeoutMs)} (--timeout); nothing is lost: run sluice uninstall again to carry on`)
}

/** Says each phase the Canaries pass through, and each one gone; `phases` is what was said last. */
function report(waitFor: readonly string[], left: readonly Canary[], phases: Map<string, string>): void {
  for (const c of left) {
    const phase = c.status?.phase ?? 'Initializing'
    const message = c.status?.conditions?.find(x => x.type === 'Promoted')?.message
    if (phases.get(canaryName(c)) !== phase) say(`   Canary ${canaryName(c)}: ${phase}${message ? ` (${message})` : ''}`)
    phases.set(canaryName(c), phase)
  }
  for (const name of waitFor.filter(n => phases.get(n) !== 'gone' && !left.some(c => canaryName(c) === n))) {
    phases.set(name, 'gone')
    say(`   Canary ${name}: reverted and removed`)
  }
}

/** Waits until none of the Canaries of `p.waitFor` is left. */
async function awaitReverted(r: Run, p: Plan): Promise<void> {
  const phases = new Map<string, string>()
  for (;;) {
    const left = (await listCanariesIn(r.cluster, r.namespace)).filter(c => p.waitFor.includes(canaryName(c)))
    report(p.waitFor, left, phases)
    if (left.length === 0) return
    if (Date.now() > r.deadline) {
      throw timedOut(r, `the controller has not finished reverting ${left.map(c => `${canaryName(c)} (${c.status?.phase ?? 'Initializing'})`).join(', ')}: is it running? (a Deployment that cannot become ready keeps its Canary Terminating)`)
    }
    await sleep(1000)
  }
}

async function revert(r: Run, p: Plan): Promise<void> {
  for (const name of p.policies) {
    await deletePolicy(r.cluster, name)
    say(`   deleted DeliveryPolicy ${name} (mode enforce)`)
  }
  for (const rev of p.reverts) {
    await startRevert(r.cluster, rev)
    say(rev.kind === 'delete' ? `   Canary ${rev.namespace}/${rev.canary}: deleted; the controller reverts it` : `   Deployment ${rev.namespace}/${rev.deployment}: removed ${rev.keys.join(', ')}${rev.replicas !== undefined ? `, replicas ${rev.replicas}` : ''}`)
  }
  await awaitReverted(r, p)
  for (const rev of p.reverts) {
    const serving = await servingText(r.cluster, rev.namespace, rev.kind === 'delete' ? rev.target : rev.deployment)
    say(`   ${serving.text}${serving.serving ? ', serving on its own' : ''}`)
  }
}

/** The plan read again, after reverting whatever was opted in since the last look (a bounded number of times). */
async function settled(r: Run): Promise<Plan> {
  for (let round = 0; round < 3; round++) {
    const p = await plan(r)
    if (p.blockers.length > 0) throw new CliError(EXIT.failed, p.blockers.join('; '))
    if (!hasReverts(p)) return p
    say(`   opted in again meanwhile (${[...p.policies, ...p.waitFor, ...p.reverts.map(x => x.kind === 'delete' ? x.canary : `${x.namespace}/${x.deployment}`)].join(', ')}): reverting that first`)
    await revert(r, p)
  }
  throw new CliError(EXIT.failed, 'apps keep being opted in again (a GitOps sync or a script applying sluice.dev/ annotations?): stop it, remove the annotations from the sources, and run sluice uninstall again')
}

async function removeAll(r: Run, p: Plan, which: 'webhooks' | 'rest'): Promise<void> {
  const objects = p.remove.filter(o => WEBHOOK_OBJECTS.includes(o) === (which === 'webhooks'))
  for (const o of objects) {
    await deleteObject(r.cluster, o)
    say(`   deleted ${o.kind} ${o.name}`)
  }
  for (const o of objects.filter(o => o.kind === 'Namespace' || o.kind === 'CustomResourceDefinition')) {
    while (await exists(r.cluster, o)) {
      if (Date.now() > r.deadline) throw timedOut(r, `${o.kind} ${o.name} is still being deleted`)
      await sleep(1000)
    }
    say(`   ${o.kind} ${o.name} is gone`)
  }
}

async function uninstall(r: Run, first: Plan): Promise<void> {
  say('step 1/3: reverting the opted-in apps')
  if (hasReverts(first)) await revert(r, first)
  say('step 2/3: removing the webhook configurations')
  const second = await settled(r)
  await removeAll(r, second, 'webhooks')
  say('step 3/3: removing the install')
  const third = await settled(r)
  await removeAll(r, third, 'rest')
  for (const k of third.kept) say(`   ${k}`)
  say('done: no app depends on sluice any more. Remove the sluice.dev/ annotations from your manifests\' sources: nothing reads them now.')
}

function runOf(values: Values): Run {
  let timeoutMs: number
  try {
    timeoutMs = durationMs('timeout', str(values, 'timeout'), 600_000)
  } catch (e) {
    throw new CliError(EXIT.usage, (e as Error).message)
  }
  const lease = leaseRef(str(values, 'controller-lease'))
  if (values.crds === true && values['keep-install'] === true) throw new CliError(EXIT.usage, '--crds and --keep-install do not go together: the CRDs are part of the install')
  return {
    cluster: connect(values), namespace: str(values, 'namespace'), lease, timeoutMs, deadline: Date.now() + timeoutMs,
    options: { keepInstall: values['keep-install'] === true, crds: values.crds === true },
  }
}

export const uninstallCommand: Subcommand = {
  options: FLAGS,
  async run(args) {
    const parsed = parseCommand('uninstall', args, FLAGS, HELP)
    if (!parsed) return EXIT.ok
    if (parsed.positionals.length > 0) throw new CliError(EXIT.usage, `takes no arguments (got ${parsed.positionals.join(' ')}); see sluice uninstall --help`)
    const r = runOf(parsed.values)
    const first = await plan(r)
    process.stdout.write(`Plan${r.namespace === undefined ? '' : ` (namespace ${r.namespace})`}:\n${renderPlan(first)}`)
    if (parsed.values['dry-run'] === true) {
      for (const b of first.blockers) say(`would stop: ${b}`)
      say('--dry-run: nothing was changed')
      return first.blockers.length > 0 ? EXIT.failed : EXIT.ok
    }
    if (first.blockers.length > 0) throw new CliError(EXIT.failed, first.blockers.join('; '))
    await requireConfirmation('Uninstall sluice as planned above?', parsed.values.yes === true, 'sluice uninstall')
    await uninstall({ ...r, deadline: Date.now() + r.timeoutMs }, first)
    return EXIT.ok
  },
}
