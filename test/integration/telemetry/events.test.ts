// Events as sluice writes them, under sluice's own RBAC (create and patch only), read back as an
// admin and through kubectl: the fields `kubectl describe` shows, folding of repeats into a count,
// and a recorder that never throws.
import t from 'tap'
import { Writable } from 'node:stream'
import { CoreV1Api, KubeConfig, type CoreV1Event } from '@kubernetes/client-node'
import { pino, type Logger } from 'pino'
import { createEventRecorder, DEDUP_WINDOW_MS, type EventObject } from '../../../src/telemetry/events.ts'
import { kubeConfig, kubectlOk, namespace, sluiceKubeConfig } from '../../helpers/kube.ts'

const admin = kubeConfig().makeApiClient(CoreV1Api)

// A clock the test moves; whole seconds, since Event timestamps are stored at second precision.
function clock(): { now: () => Date; advance(ms: number): void; at(): Date } {
  let ms = Math.floor(Date.now() / 1000) * 1000
  return { now: () => new Date(ms), advance: d => { ms += d }, at: () => new Date(ms) }
}

function capture(): { logger: Logger; lines: () => Array<Record<string, unknown>> } {
  const out: string[] = []
  const stream = new Writable({ write(chunk: Buffer, _enc, done) { out.push(chunk.toString()); done() } })
  return { logger: pino<never>({ level: 'warn' }, stream), lines: () => out.map(l => JSON.parse(l) as Record<string, unknown>) }
}

async function configMap(ns: string, name: string): Promise<EventObject> {
  const cm = await admin.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name }, data: { a: '1' } } })
  return { apiVersion: 'v1', kind: 'ConfigMap', name, namespace: ns, uid: cm.metadata?.uid ?? '' }
}

async function eventsFor(ns: string, name: string): Promise<CoreV1Event[]> {
  const list = await admin.listNamespacedEvent({ namespace: ns, fieldSelector: `involvedObject.name=${name}` })
  return list.items.sort((a, b) => (a.metadata?.creationTimestamp?.getTime() ?? 0) - (b.metadata?.creationTimestamp?.getTime() ?? 0))
}

t.test('an Event carries what kubectl shows, and a repeat bumps its count', async t => {
  const ns = await namespace(t)
  const obj = await configMap(ns, 'app-config')
  const c = clock()
  const log = capture()
  const rec = createEventRecorder({ kc: sluiceKubeConfig(), logger: log.logger, now: c.now })
  const first = c.at()

  await rec.record(obj, 'Normal', 'Synced', 'canary app-config: initialized')
  let events = await eventsFor(ns, 'app-config')
  t.equal(events.length, 1, 'one Event')
  const e = events[0]!
  t.equal(e.type, 'Normal')
  t.equal(e.reason, 'Synced')
  t.equal(e.message, 'canary app-config: initialized')
  t.equal(e.source?.component, 'sluice')
  t.equal(e.reportingComponent, 'sluice')
  t.ok(e.reportingInstance, 'the recording replica is named')
  t.equal(e.count, 1)
  t.same(e.firstTimestamp, first)
  t.same(e.lastTimestamp, first)
  t.same(e.involvedObject, { apiVersion: 'v1', kind: 'ConfigMap', name: 'app-config', namespace: ns, uid: obj.uid })

  c.advance(60_000)
  await rec.record(obj, 'Normal', 'Synced', 'canary app-config: initialized')
  c.advance(60_000)
  await rec.record(obj, 'Normal', 'Synced', 'canary app-config: initialized')
  events = await eventsFor(ns, 'app-config')
  t.equal(events.length, 1, 'repeats are folded into the same Event')
  t.equal(events[0]?.metadata?.name, e.metadata?.name)
  t.equal(events[0]?.count, 3)
  t.same(events[0]?.firstTimestamp, first, 'firstTimestamp stays')
  t.same(events[0]?.lastTimestamp, c.at(), 'lastTimestamp moves')

  // kubectl reads the same: what an operator sees.
  const listed = JSON.parse(await kubectlOk(['get', 'events', '-n', ns, '--field-selector', 'involvedObject.name=app-config', '-o', 'json'])) as { items: CoreV1Event[] }
  t.equal(listed.items.length, 1)
  t.equal(listed.items[0]?.count, 3)
  t.equal(listed.items[0]?.source?.component, 'sluice')
  const table = await kubectlOk(['get', 'events', '-n', ns, '--field-selector', 'involvedObject.name=app-config'])
  t.match(table, /Normal\s+Synced\s+configmap\/app-config\s+canary app-config: initialized/)
  t.same(log.lines(), [], 'nothing went wrong')
})

t.test('different type, reason or message, or a repeat after ten minutes, is a new Event', async t => {
  const ns = await namespace(t)
  const obj = await configMap(ns, 'cfg')
  const c = clock()
  const rec = createEventRecorder({ kc: sluiceKubeConfig(), logger: pino({ level: 'silent' }), now: c.now, component: 'sluice-controller' })
  await rec.record(obj, 'Normal', 'Progressing', 'weight 10')
  await rec.record(obj, 'Normal', 'Progressing', 'weight 20')
  await rec.record(obj, 'Warning', 'Progressing', 'weight 20')
  await rec.record(obj, 'Warning', 'Halted', 'weight 20')
  t.equal((await eventsFor(ns, 'cfg')).length, 4, 'four distinct Events')

  c.advance(DEDUP_WINDOW_MS)
  await rec.record(obj, 'Normal', 'Progressing', 'weight 10')
  const events = await eventsFor(ns, 'cfg')
  t.equal(events.length, 5, 'after the window a repeat starts a new Event')
  t.same(events.map(e => e.count), [1, 1, 1, 1, 1])
  t.ok(events.every(e => e.source?.component === 'sluice-controller' && e.reportingComponent === 'sluice'), 'component is configurable, reportingComponent is not')
})

t.test('a message longer than the API limit is cut to 1024 bytes', async t => {
  const ns = await namespace(t)
  const obj = await configMap(ns, 'long')
  const rec = createEventRecorder({ kc: sluiceKubeConfig(), logger: pino({ level: 'silent' }) })
  await rec.record(obj, 'Warning', 'CheckFailed', `${'é'.repeat(600)}${'x'.repeat(1000)}`)
  const [e] = await eventsFor(ns, 'long')
  t.ok(e, 'the Event was written')
  t.equal(Buffer.byteLength(e?.message ?? ''), 1023, 'cut on a character boundary within 1024 bytes')
  t.match(e?.message ?? '', /^é+\.\.\.$/)
})

t.test('a remembered Event that is gone is created again', async t => {
  const ns = await namespace(t)
  const obj = await configMap(ns, 'gone')
  const log = capture()
  const rec = createEventRecorder({ kc: sluiceKubeConfig(), logger: log.logger })
  await rec.record(obj, 'Normal', 'Promoted', 'done')
  const [before] = await eventsFor(ns, 'gone')
  await admin.deleteNamespacedEvent({ namespace: ns, name: before?.metadata?.name ?? '' })
  await rec.record(obj, 'Normal', 'Promoted', 'done')
  const after = await eventsFor(ns, 'gone')
  t.equal(after.length, 1)
  t.not(after[0]?.metadata?.name, before?.metadata?.name, 'a new Event')
  t.equal(after[0]?.count, 1)
  t.same(log.lines(), [], 'a 404 on the patch is not a failure')
})

t.test('recording never throws: failures are logged and dropped', async t => {
  const log = capture()
  const rec = createEventRecorder({ kc: sluiceKubeConfig(), logger: log.logger })
  const missing: EventObject = { apiVersion: 'v1', kind: 'ConfigMap', name: 'x', namespace: 'no-such-namespace-4b1d' }
  await t.resolves(rec.record(missing, 'Warning', 'Failed', 'into a namespace that does not exist'))
  const unreachable = new KubeConfig()
  unreachable.loadFromOptions({
    clusters: [{ name: 'c', server: 'https://127.0.0.1:1', skipTLSVerify: true }],
    users: [{ name: 'u', token: 'x' }], contexts: [{ name: 'x', cluster: 'c', user: 'u' }], currentContext: 'x',
  })
  const offline = createEventRecorder({ kc: unreachable, logger: log.logger })
  await t.resolves(offline.record(missing, 'Normal', 'Synced', 'nobody listens'))
  const warnings = log.lines()
  t.equal(warnings.length, 2, 'one warning per dropped Event')
  t.match(warnings[0], { level: 40, msg: 'could not record Event', reason: 'Failed', err: /404/ })
})

t.test("a cluster-scoped object's Events go to the default namespace", async t => {
  const ns = await namespace(t)
  const rec = createEventRecorder({ kc: sluiceKubeConfig(), logger: pino({ level: 'silent' }) })
  const obj: EventObject = { apiVersion: 'v1', kind: 'Namespace', name: ns, namespace: '' }
  await rec.record(obj, 'Warning', 'PolicyViolation', 'audit: would have been rejected')
  const events = await eventsFor('default', ns)
  t.teardown(async () => { for (const e of events) await admin.deleteNamespacedEvent({ namespace: 'default', name: e.metadata?.name ?? '' }).catch(() => undefined) })
  t.equal(events.length, 1)
  t.same(events[0]?.involvedObject, { apiVersion: 'v1', kind: 'Namespace', name: ns })
  t.equal(events[0]?.reason, 'PolicyViolation')
})
