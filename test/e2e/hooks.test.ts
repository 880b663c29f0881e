// Every hook type end to end, with the webhooks written as Flagger's docs write them and only the load
// tester's address changed: the gates and commands go to a real `sluice loadtester` process (its own
// ServiceAccount and RBAC from manifests/loadtester.yaml), which runs hey and curl against local servers
// standing for the canary. The file shares one namespace, one controller and one load tester, as a cluster
// does; each test releases its own apps in it, and the tests run at once.
import t, { type Test } from 'tap'
import { CoreV1Api } from '@kubernetes/client-node'
import { readFileSync } from 'node:fs'
import { stringify } from 'yaml'
import type { Canary, CheckRecord } from '../../src/api/types.ts'
import { kubeConfig, kubectl, namespace } from '../helpers/kube.ts'
import { startHttpServer } from '../helpers/http-server.ts'
import { loadTesterAccount, startLoadTesterProcess } from '../helpers/loadtester.ts'
import { alive } from '../helpers/tethered.ts'
import { until } from '../helpers/wait.ts'
import { apply, canaryWeightAnnotation, canaryWeights, deploymentYaml, ingressYaml, IMAGE_V1, IMAGE_V2, IMAGE_V3, nginxCanary } from './apps.ts'
import { canary, deployment, eventsOf, phase, sharedEnvironment, testNamespace, watchRecorder } from './env.ts'

// Every test below at once: they are releases of different apps, as in a shared cluster.
t.jobs = 9

const core = kubeConfig().makeApiClient(CoreV1Api)

const shared = await sharedEnvironment()
t.teardown(() => shared.stop())
const { ns } = await testNamespace(t, { metricsServer: shared.prometheus.url })
const ltNamespace = await namespace(t)
// --enable-bash and --allow curl: Flagger's acceptance tests are `type: bash` hooks running curl.
const lt = await startLoadTesterProcess(t, await loadTesterAccount(t, ltNamespace), ltNamespace, ['--enable-bash', '--allow', 'curl'])

const FLAGGER_LOADTESTER = 'http://flagger-loadtester.test'

/** A `webhooks:` block as Flagger's docs write it, with the load tester's address the only change. */
function flaggerWebhooks(yaml: string): string {
  return yaml.replaceAll(FLAGGER_LOADTESTER, lt.url)
}

/** The load tester's gate API, called as Flagger's docs do: curl -d '{"name": "podinfo","namespace":"test"}' …/gate/open */
async function loadTester(path: string, name: string): Promise<number> {
  const res = await fetch(`${lt.url}${path}`, { method: 'POST', body: JSON.stringify({ name, namespace: ns }) })
  await res.text()
  return res.status
}

type CanaryOptions = Parameters<typeof nginxCanary>[0]

/** nginxCanary's annotations for app `name` (no metrics unless given), with `analysis` appended. */
function annotations(name: string, analysis: string, o: CanaryOptions = {}): Record<string, string> {
  const base = nginxCanary({ metrics: false, ...o, name })
  return { ...base, 'sluice.dev/analysis': `${base['sluice.dev/analysis']}${analysis}` }
}

/** App `name` (its Ingress and a one-replica Deployment) applied and Initialized. */
async function initialized(name: string, sluice: Record<string, string>): Promise<void> {
  await apply(ingressYaml(ns, name))
  await apply(deploymentYaml({ ns, name, replicas: 1, sluice }))
  await phase(ns, name, 'Initialized', 120_000)
}

async function release(name: string, sluice: Record<string, string>, image = IMAGE_V2): Promise<void> {
  await apply(deploymentYaml({ ns, name, replicas: 1, image, sluice }))
}

function phases(name: string): ReturnType<typeof watchRecorder<string>> {
  return watchRecorder(`/apis/sluice.dev/v1beta1/namespaces/${ns}/canaries`, name, o => (o as Canary).status?.phase ?? '')
}

async function checks(name: string): Promise<CheckRecord[]> {
  return (await canary(ns, name))?.status?.checks ?? []
}

/** The check records of one hook (`type:name`) or metric, since `after` (ms). */
function recordsOf(records: readonly CheckRecord[], name: string, after = 0): CheckRecord[] {
  return records.filter(r => r.name === name && Date.parse(r.time) > after)
}

async function image(name: string): Promise<string | undefined> {
  return (await deployment(ns, name))?.spec?.template?.spec?.containers[0]?.image
}

/**
 * The Canary's Events, once one matches `pattern`: Events are written after the status a test waits for.
 * Whatever there is after 30s is returned, for the assertion to show.
 */
async function eventsMatching(name: string, pattern: RegExp): Promise<string> {
  let last = ''
  try {
    await until(async () => (last = (await eventsOf(ns, 'Canary', name)).join('\n')), e => pattern.test(e), `an Event of ${name} matching ${String(pattern)}`, 30_000)
  } catch { /* t.match shows what there is */ }
  return last
}

// A gate stays open until it is closed: the post-rollout hooks close both for the next release.
const GATES = flaggerWebhooks(`
webhooks:
  - name: "gate"
    type: confirm-rollout
    url: http://flagger-loadtester.test/gate/check
  - name: "rollback"
    type: rollback
    url: http://flagger-loadtester.test/rollback/check
  - name: "close the gate"
    type: post-rollout
    url: http://flagger-loadtester.test/gate/close
  - name: "close the rollback gate"
    type: post-rollout
    url: http://flagger-loadtester.test/rollback/close
`)

/** A gate's answer once it is `status` (the post-rollout hooks are not waited for by the release). */
async function gateBecomes(path: string, name: string, status: number): Promise<number> {
  return until(() => loadTester(path, name), s => s === status, `${path} of ${name} answering ${status}`, 30_000).catch(() => loadTester(path, name))
}

t.test('confirm-rollout: a new revision Waits on the closed gate, and /gate/open starts it', async t => {
  const sluice = annotations('gated', GATES)
  await initialized('gated', sluice)
  const seen = await phases('gated')
  await release('gated', sluice)
  const waiting = await phase(ns, 'gated', 'Waiting', 60_000, 'Progressing')
  const since = Date.parse(waiting.status?.lastTransitionTime ?? '')
  const closed = await until(() => checks('gated'), c => recordsOf(c, 'confirm-rollout:gate', since - 1000).length >= 3, 'three checks of the closed gate', 60_000)
  t.match(recordsOf(closed, 'confirm-rollout:gate').at(-1), {
    verdict: 'fail', message: `confirm-rollout hook "gate" failed: POST ${lt.url}/gate/check answered HTTP 403: Forbidden`,
  }, 'the load tester answered 403 for the closed gate')
  t.equal((await deployment(ns, 'gated'))?.spec?.replicas, 0, 'the canary is not scaled up while Waiting')
  t.equal((await canary(ns, 'gated'))?.status?.phase, 'Waiting', 'still Waiting after three checks')

  t.equal(await loadTester('/gate/open', 'gated'), 202, 'opened')
  const gates = await core.readNamespacedConfigMap({ name: 'sluice-loadtester-gates', namespace: ltNamespace })
  t.equal(gates.data?.[`gate.${ns}.gated`], 'open', 'the gate is kept in the load tester\'s ConfigMap')
  await phase(ns, 'gated', 'Succeeded', 120_000, 'Failed')
  t.same(await seen.stop(), ['Initialized', 'Waiting', 'Progressing', 'Promoting', 'Finalising', 'Succeeded'], 'Waiting, then the whole release')
  t.equal(await image('gated-primary'), IMAGE_V2, 'promoted')
  t.equal(await gateBecomes('/gate/check', 'gated', 403), 403, 'closed again by the post-rollout hook')
})

/** Failed by the rollback gate: all traffic on the primary, which keeps the old version, the canary at zero. */
async function rolledBackByGate(t: Test, name: string): Promise<void> {
  const failed = await phase(ns, name, 'Failed', 60_000, 'Succeeded')
  t.match(failed.status?.checks?.at(-1), { name: 'rollback:rollback', message: 'rollback hook "rollback" asked for a rollback' }, 'the rollback hook is the cause')
  t.equal(failed.status?.canaryWeight, 0, 'status: no canary weight')
  // The router and the Deployments follow the status.
  await until(() => canaryWeightAnnotation(ns, name), w => w === '0', 'all traffic on the primary')
  await until(() => deployment(ns, name), d => d?.spec?.replicas === 0, 'the canary at zero')
  t.equal(await image(`${name}-primary`), IMAGE_V1, 'the primary keeps the old version')
  const why = /Warning RolledBack: Canary failed! Scaling down \S+: rollback hook "rollback" asked for a rollback/
  t.match(await eventsMatching(name, why), why, 'an Event says why')
}

t.test('rollback: /rollback/open rolls back a release Waiting on its closed confirm-rollout gate', async t => {
  const sluice = annotations('held', GATES)
  await initialized('held', sluice)
  await release('held', sluice)
  const waiting = await phase(ns, 'held', 'Waiting', 60_000, 'Progressing')
  const since = Date.parse(waiting.status?.lastTransitionTime ?? '')
  await until(() => checks('held'), c => recordsOf(c, 'confirm-rollout:gate', since - 1000).length >= 2, 'the closed gate checked twice', 60_000)
  t.equal(await loadTester('/rollback/open', 'held'), 202, 'rollback gate opened')
  await rolledBackByGate(t, 'held')
  t.equal(await gateBecomes('/rollback/check', 'held', 403), 403, 'the rollback gate closed by the post-rollout hook: the next release is not rolled back at once')
  t.equal(await loadTester('/gate/check', 'held'), 403, 'its confirm-rollout gate was never opened')
})

t.test('rollback: /rollback/open rolls back a release in Progressing', async t => {
  const sluice = annotations('undo', GATES, { step: 10, max: 100 })
  await initialized('undo', sluice)
  // Its confirm-rollout gate is opened beforehand: the release starts at once.
  t.equal(await loadTester('/gate/open', 'undo'), 202, 'confirm-rollout gate opened')
  const seen = await phases('undo')
  await release('undo', sluice)
  await until(() => canary(ns, 'undo'), c => (c?.status?.canaryWeight ?? 0) >= 20, 'the canary at 20%', 60_000)
  t.equal(await loadTester('/rollback/open', 'undo'), 202, 'rollback gate opened')
  await rolledBackByGate(t, 'undo')
  t.same(await seen.stop(), ['Initialized', 'Progressing', 'Failed'], 'never Waiting: its gate was open')
})

// Flagger's acceptance test, a bash hook running curl against the canary (here a local server whose
// answer the test sets): no pipe, since sluice loadtester runs no shell.
function acceptance(url: string): string {
  return flaggerWebhooks(`
webhooks:
  - name: acceptance-test
    type: pre-rollout
    url: http://flagger-loadtester.test/
    timeout: 30s
    metadata:
      type: bash
      cmd: "curl -sf ${url}"
`)
}

const CURL_FAILED = new RegExp(`^pre-rollout hook "acceptance-test" failed: POST ${lt.url}/ answered HTTP 500: command curl exited with code 22`)

t.test('pre-rollout: a failing acceptance test is a failed check that holds the canary at 0%; once it passes the steps go on', async t => {
  // The acceptance target fails its first two calls and passes from the third: the server decides, so no
  // poll of the test has to win a race against the next interval.
  const target = await startHttpServer(t, {}, res => { res.writeHead(target.seen.length <= 2 ? 500 : 200).end() })
  const sluice = annotations('conform', acceptance(`${target.base}/acceptance`), { threshold: 3 })
  await initialized('conform', sluice)
  const weights = await canaryWeights(ns, 'conform')
  await release('conform', sluice)
  const done = await phase(ns, 'conform', 'Succeeded', 120_000, 'Failed')
  t.same(await weights.stop(), ['0', '20', '40', '60', '0'], 'no traffic while the acceptance test failed; every step once it passed')
  t.equal(done.status?.failedChecks, 2, 'the failures stay counted, below the threshold')
  const acceptances = (done.status?.checks ?? []).filter(c => c.name === 'pre-rollout:acceptance-test')
  t.same(acceptances.map(c => c.verdict), ['fail', 'fail', 'pass'], 'two failed acceptance checks, then one that passed')
  t.match(acceptances[0], { message: CURL_FAILED }, 'curl\'s exit code in the check')
  const halt = /Warning Halted: halted at weight 0: pre-rollout hook "acceptance-test" failed: .* \(2 of 3 failed checks\); rolling back after 1 more/
  t.match(await eventsMatching('conform', halt), halt, 'a Halted Event')
  t.equal(target.seen.length, 3, 'curl ran at each first tick: twice failing, once passing, then never again')
  t.equal(await image('conform-primary'), IMAGE_V2, 'promoted')
})

t.test('pre-rollout: an acceptance test that keeps failing rolls back at the threshold, the canary never served', async t => {
  const target = await startHttpServer(t, {}, res => { res.writeHead(500).end() })
  const sluice = annotations('nonconform', acceptance(`${target.base}/acceptance`), { threshold: 2 })
  await initialized('nonconform', sluice)
  const weights = await canaryWeights(ns, 'nonconform')
  await release('nonconform', sluice)
  const failed = await phase(ns, 'nonconform', 'Failed', 60_000, 'Succeeded')
  t.equal(failed.status?.failedChecks, 2, 'two failed checks')
  t.same(await weights.stop(), ['0'], 'no traffic ever went to the canary')
  t.equal(target.seen.length, 2, 'one acceptance test per failed check')
  const why = /Warning RolledBack: Canary failed! Scaling down \S+: failed checks threshold reached 2; last: pre-rollout hook "acceptance-test" failed: POST \S+ answered HTTP 500: command curl exited with code 22/
  t.match(await eventsMatching('nonconform', why), why, 'the RolledBack Event names the acceptance test')
  t.equal(await image('nonconform-primary'), IMAGE_V1, 'the primary keeps the old version')
})

interface LogLine { readonly msg?: string; readonly canary?: string; readonly mode?: string; readonly pid?: number; readonly command?: string; readonly result?: string; readonly time?: number }

/** The load tester's log lines about commands of one canary. */
function commandLog(canaryName: string): LogLine[] {
  return readFileSync(lt.log, 'utf8').split('\n').filter(l => l.startsWith('{'))
    .map(l => JSON.parse(l) as LogLine).filter(l => l.canary === `${ns}/${canaryName}`)
}

t.test('rollout: hey runs once in the background for the whole analysis, and stops when the release ends', async t => {
  const arrivals: number[] = []
  const target = await startHttpServer(t, s => {
    if (s.path === '/') arrivals.push(Date.now())
    return undefined
  }, res => { res.writeHead(200).end('ok') })
  const load = (): number => target.seen.filter(s => s.path === '/').length
  // Flagger's load test, and a post-rollout command: its request carries the final phase, which ends the load.
  const sluice = annotations('loaded', flaggerWebhooks(`
webhooks:
  - name: load-test
    url: http://flagger-loadtester.test/
    timeout: 5s
    metadata:
      cmd: "hey -z 1m -q 10 -c 2 ${target.base}/"
  - name: smoke
    type: post-rollout
    url: http://flagger-loadtester.test/
    metadata:
      cmd: "hey -n 1 -c 1 ${target.base}/post-rollout"
`), { max: 80 })
  await initialized('loaded', sluice)
  await release('loaded', sluice)
  const first = await until(async () => load(), n => n > 0, 'the load test reaching the canary', 60_000)
  await until(async () => load(), n => n >= first + 20, 'the load growing', 30_000)
  t.not((await canary(ns, 'loaded'))?.status?.phase, 'Succeeded', 'the load runs during the analysis')

  const done = await phase(ns, 'loaded', 'Succeeded', 120_000, 'Failed')
  t.ok(recordsOf(done.status?.checks ?? [], 'rollout:load-test').length >= 3, 'the rollout hook was called at every analysed step')
  const log = await until(async () => commandLog('loaded'), lines => lines.some(l => l.msg === 'command ended' && l.command?.startsWith('hey -z') === true),
    'the load test ended', 30_000)
  const jobs = log.filter(l => l.msg === 'command started' && l.command?.startsWith('hey -z') === true)
  t.equal(jobs.length, 1, 'one hey for the whole analysis, however often the hook fired')
  const ended = log.find(l => l.msg === 'command ended' && l.command?.startsWith('hey -z') === true)
  t.equal(ended?.result, 'run-ended', 'stopped by the end of the release, not by its minute')
  t.notOk(alive(jobs[0]?.pid), 'the hey process is gone')
  const atStop = load()
  t.ok((arrivals.at(-1) ?? 0) <= (ended?.time ?? 0) + 1000, 'no load arrived after hey was stopped')
  t.ok((arrivals.at(-1) ?? 0) - (arrivals[0] ?? 0) < 50_000, 'the load ran for the release, well short of hey\'s minute')
  await until(async () => target.seen.filter(s => s.path === '/post-rollout').length, n => n === 1, 'the post-rollout command')
  t.equal(load(), atStop, 'and none since')
})

t.test('confirm-traffic-increase: the weight holds while the gate is closed, and the next step follows its opening', async t => {
  const sluice = annotations('traffic', flaggerWebhooks(`
webhooks:
  - name: "traffic increase gate"
    type: confirm-traffic-increase
    url: http://flagger-loadtester.test/gate/check
`), { interval: '3s' })
  await initialized('traffic', sluice)
  const weights = await canaryWeights(ns, 'traffic')
  const gate = 'confirm-traffic-increase:traffic increase gate'
  await release('traffic', sluice)
  await phase(ns, 'traffic', 'Progressing', 60_000)
  await until(() => checks('traffic'), c => recordsOf(c, gate).length >= 3, 'three checks of the closed gate', 60_000)
  t.same(weights.values, ['0'], 'held at 0% while closed')
  t.equal((await deployment(ns, 'traffic'))?.spec?.replicas, 1, 'the canary is up, waiting for traffic')

  t.equal(await loadTester('/gate/open', 'traffic'), 202, 'opened')
  await until(async () => weights.values, w => w.includes('20'), 'the next step', 30_000)
  // Closed again at once (an interval is 3s): the canary holds at 20%.
  t.equal(await loadTester('/gate/close', 'traffic'), 202, 'closed again')
  const closedAt = Date.now()
  await until(() => checks('traffic'), c => recordsOf(c, gate, closedAt).length >= 3, 'three checks of the gate closed again', 60_000)
  t.same(weights.values, ['0', '20'], 'no step past 20% while the gate is closed')
  t.equal((await canary(ns, 'traffic'))?.status?.canaryWeight, 20, 'status: 20%')
  const waits = /Normal WaitingForApproval: waiting for approval to increase the canary's traffic from 20% to 40%: confirm-traffic-increase hook "traffic increase gate" failed: POST \S+\/gate\/check answered HTTP 403: Forbidden/
  t.match(await eventsMatching('traffic', waits), waits, 'an Event says what it waits for')

  t.equal(await loadTester('/gate/open', 'traffic'), 202, 'opened again')
  await phase(ns, 'traffic', 'Succeeded', 120_000, 'Failed')
  t.same(await weights.stop(), ['0', '20', '40', '60', '0'], 'then every step')
})

/** What a hook receives: Flagger's CanaryWebhookPayload. */
interface HookPayload {
  readonly name: string
  readonly namespace: string
  readonly phase: string
  readonly checksum: string
  readonly metadata: Readonly<Record<string, string>>
}

t.test('confirm-promotion: WaitingPromotion keeps analysing, /gate/open promotes, and a metric failing while it waits rolls back; post-rollout once per outcome, closing the gate; event hooks get every Event', async t => {
  const notified = await startHttpServer(t, {}, res => { res.writeHead(200).end() })
  // A metric that turns bad while the release waits: a MetricTemplate whose query the test changes (the
  // simulator's behaviour is part of the pod template, so changing it would be a new revision instead).
  const template = (query: string): string => stringify({
    apiVersion: 'sluice.dev/v1beta1', kind: 'MetricTemplate', metadata: { name: 'promo-health', namespace: ns },
    spec: { provider: { type: 'prometheus', address: shared.prometheus.url }, query },
  })
  await apply(template('vector(100)'))
  const sluice = annotations('promo', `metrics:
- {name: request-success-rate, interval: 10s, thresholdRange: {min: 99}}
- {name: health, templateRef: {name: promo-health}, thresholdRange: {min: 99}}
${flaggerWebhooks(`webhooks:
  - name: "promotion gate"
    type: confirm-promotion
    url: http://flagger-loadtester.test/gate/check
  - name: "close the gate"
    type: post-rollout
    url: http://flagger-loadtester.test/gate/close
  - name: "notify"
    type: post-rollout
    url: ${notified.base}/notify
    timeout: 5s
    metadata:
      some: "message"
  - name: "send to Slack"
    type: event
    url: ${notified.base}/slack
    metadata:
      environment: "test"
      cluster: "flagger-test"
`)}`)
  // The webhook admits a templateRef once its cache has the template.
  await until(() => kubectl(['apply', '-f', '-'], ingressYaml(ns, 'promo') + '---\n' + deploymentYaml({ ns, name: 'promo', replicas: 1, sluice })),
    r => r.code === 0, 'the Deployment admitted with its templateRef', 30_000)
  await phase(ns, 'promo', 'Initialized', 120_000)
  const calls = (path: string): HookPayload[] => notified.seen.filter(s => s.path === path).map(s => JSON.parse(s.body) as HookPayload)

  // 1. Waiting for promotion, with the analysis going on; opened, promoted.
  const seen = await phases('promo')
  await release('promo', sluice)
  const waiting = await phase(ns, 'promo', 'WaitingPromotion', 120_000, 'Failed')
  const since = Date.parse(waiting.status?.lastTransitionTime ?? '')
  const analysing = await until(() => checks('promo'), c => recordsOf(c, 'health', since).length >= 2 && recordsOf(c, 'request-success-rate', since).length >= 2,
    'metric checks while waiting for promotion', 60_000)
  const gateChecks = recordsOf(analysing, 'confirm-promotion:promotion gate', since - 1000)
  t.ok(gateChecks.length >= 2 && gateChecks.every(r => r.verdict === 'fail'), `the gate was asked at each tick and was closed (${gateChecks.length} checks)`)
  t.equal(await canaryWeightAnnotation(ns, 'promo'), '60', 'traffic stays at the last step')
  t.equal(await loadTester('/gate/open', 'promo'), 202, 'opened')
  await phase(ns, 'promo', 'Succeeded', 120_000, 'Failed')
  t.equal(await image('promo-primary'), IMAGE_V2, 'promoted')
  await until(async () => calls('/notify'), c => c.length === 1, 'the post-rollout hooks')
  // The post-rollout hooks run in order: the first closed the gate before the second was called.
  t.equal(await loadTester('/gate/check', 'promo'), 403, 'the gate closed again by the post-rollout hook')

  // 2. A metric fails while the next release waits: rolled back from WaitingPromotion.
  await release('promo', sluice, IMAGE_V3)
  await phase(ns, 'promo', 'WaitingPromotion', 120_000, 'Failed')
  await apply(template('vector(0)'))
  const failed = await phase(ns, 'promo', 'Failed', 60_000, 'Succeeded')
  t.same(await seen.stop(), ['Initialized', 'Progressing', 'WaitingPromotion', 'Promoting', 'Finalising', 'Succeeded', 'Progressing', 'WaitingPromotion', 'Failed'],
    'rolled back straight from WaitingPromotion')
  t.match(failed.status?.checks?.at(-1), { name: 'health', value: 0, verdict: 'fail' }, 'the metric failed')
  t.equal(await image('promo-primary'), IMAGE_V2, 'the primary keeps the promoted version')
  const why = /Warning RolledBack: Canary failed! Scaling down \S+: failed checks threshold reached 2; last: health 0 is below the minimum 99/
  t.match(await eventsMatching('promo', why), why, 'rolled back at the threshold of failed checks')

  // post-rollout: once after Succeeded, once after Failed; a later reconcile (replicas for the primary) adds none.
  await until(async () => calls('/notify'), c => c.length === 2, 'the post-rollout hook after the rollback')
  await apply(deploymentYaml({ ns, name: 'promo', replicas: 2, image: IMAGE_V3, sluice }))
  await until(() => deployment(ns, 'promo-primary'), d => d?.spec?.replicas === 2, 'the new replica count on the primary')
  t.same(calls('/notify').map(c => [c.phase, c.metadata.some]), [['Succeeded', 'message'], ['Failed', 'message']], 'post-rollout exactly once per outcome, with its metadata')

  // event: every Event of the Canary, with Flagger's payload.
  const recorded = await eventsOf(ns, 'Canary', 'promo')
  const events = await until(async () => calls('/slack'), got => {
    const sent = new Set(got.map(e => `${e.metadata.eventType} ${e.metadata.eventReason}: ${e.metadata.eventMessage}`))
    return recorded.every(e => sent.has(e))
  }, 'every Event at the event hook', 30_000)
  t.ok(events.length >= recorded.length, `${events.length} posts for ${recorded.length} Events (a repeated Event is one object with a count)`)
  t.same([...new Set(events.map(e => Object.keys(e).sort().join(', ')))], ['checksum, metadata, name, namespace, phase'], 'Flagger\'s payload fields')
  const flagger = { name: 'promo', namespace: ns, phase: /^[A-Z][a-zA-Z]+$/, metadata: { environment: 'test', cluster: 'flagger-test', eventType: /^(Normal|Warning)$/, eventMessage: /./, timestamp: /^\d{13}$/ } }
  t.match(events, events.map(() => flagger), 'the Canary, its phase, the Event in metadata beside the hook\'s own keys')
  const byReason = (reason: string): string[] => events.filter(e => e.metadata.eventReason === reason).map(e => e.phase)
  t.same([...new Set(byReason('Promoted'))], ['Succeeded'], 'each Event carries the phase it was recorded in')
  t.same([...new Set(byReason('RolledBack'))], ['Failed'], 'RolledBack in Failed')
})

t.test('a hook that never answers times out and is counted, while another canary of the same controller keeps its schedule', async t => {
  const hangs: number[] = []
  const server = await startHttpServer(t, s => {
    if (s.path !== '/hang') return undefined
    hangs.push(Date.now())
    return () => undefined
  })
  const hanging = annotations('hangs', `webhooks:\n- {name: conformance, type: pre-rollout, url: "${server.base}/hang", timeout: 10s}\n`)
  // Steps of 4s: a step gap of more than 2 intervals would mean the hang held it up (each hang lasts 10s).
  const steady = annotations('steady', '', { interval: '4s', max: 80 })
  await Promise.all([initialized('hangs', hanging), initialized('steady', steady)])
  const weights = await canaryWeights(ns, 'steady')
  const steadyPhases = await phases('steady')
  await Promise.all([release('hangs', hanging), release('steady', steady)])

  await phase(ns, 'steady', 'Succeeded', 120_000, 'Failed')
  t.same(await weights.stop(), ['0', '20', '40', '60', '80', '0'], 'the steady canary went through every step')
  await steadyPhases.stop()
  // From its start (Progressing; the first step also waits for the canary's pods) through each step.
  const stepTimes = weights.times.slice(1, 5)
  const marks = [steadyPhases.times[steadyPhases.values.indexOf('Progressing')] ?? 0, ...stepTimes]
  const gaps = marks.slice(1).map((at, i) => at - (marks[i] ?? at))
  t.ok(gaps.every(g => g <= 8000), `every step within 2 intervals (gaps ${gaps.join(', ')} ms)`)
  const duringHang = stepTimes.filter(at => hangs.some(h => at > h && at < h + 10_000))
  t.ok(duringHang.length >= 2, `steps taken while a hook hung (${duringHang.length})`)

  const failed = await phase(ns, 'hangs', 'Failed', 120_000, 'Succeeded')
  t.equal(failed.status?.failedChecks, 2, 'each timeout counted as a failed check')
  t.equal(hangs.length, 2, 'one call per tick, each given up after its timeout')
  const why = /Warning RolledBack: Canary failed! Scaling down hangs\.\S+: failed checks threshold reached 2; last: pre-rollout hook "conformance" failed: POST http:\S+\/hang timed out after 10s/
  t.match(await eventsMatching('hangs', why), why, 'rolled back: the timeouts were counted')
})
