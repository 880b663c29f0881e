// Leader election against the real API server, as sluice's ServiceAccount (leases only in
// sluice-system): one leader at a time, a released lease taken over without waiting it out, and a
// leader that stops at once when its lease is overwritten or cannot be renewed.
import t from 'tap'
import { randomBytes } from 'node:crypto'
import { createServer, connect, type Socket } from 'node:net'
import { CoordinationV1Api, KubeConfig, V1MicroTime, type V1Lease } from '@kubernetes/client-node'
import { pino } from 'pino'
import { createLeaderElector, type LeaderElector } from '../../../src/controller/leader.ts'
import { retryOnConflict } from '../../../src/kube/retry.ts'
import { kubeConfig, sluiceKubeConfig, type TestLike } from '../../helpers/kube.ts'
import { until } from '../../helpers/wait.ts'

const NS = 'sluice-system'
const silent = pino({ level: 'silent' })
const admin = kubeConfig().makeApiClient(CoordinationV1Api)
// Short timings keep the test quick; the ordering lease > renew > retry is what matters.
const FAST = { leaseDurationMs: 3_000, renewDeadlineMs: 2_000, retryPeriodMs: 500 }

function leaseName(t: TestLike): string {
  const name = `leader-test-${randomBytes(4).toString('hex')}`
  t.teardown(async () => { await admin.deleteNamespacedLease({ name, namespace: NS }).catch(() => undefined) })
  return name
}

interface Candidate {
  readonly identity: string
  readonly elector: LeaderElector
  started: number
  stopped: number
  startedAt?: number
  stoppedAt?: number
}

function candidate(t: TestLike, name: string, identity: string, timings = FAST, kc = sluiceKubeConfig()): Candidate {
  const c: Candidate = {
    identity, started: 0, stopped: 0,
    elector: createLeaderElector({
      kc, namespace: NS, name, identity, ...timings, logger: silent,
      onStartedLeading: () => { c.started++; c.startedAt = Date.now() },
      onStoppedLeading: () => { c.stopped++; c.stoppedAt = Date.now() },
    }),
  }
  t.teardown(() => c.elector.stop())
  return c
}

const readLease = (name: string): Promise<V1Lease> => admin.readNamespacedLease({ name, namespace: NS })

t.test('of two electors exactly one leads, and keeps renewing', async t => {
  const name = leaseName(t)
  const a = candidate(t, name, 'a')
  const b = candidate(t, name, 'b')
  a.elector.start()
  b.elector.start()
  await until(async () => a.elector.isLeader() || b.elector.isLeader(), v => v, 'a leader', 20_000)
  const [leader, follower] = a.elector.isLeader() ? [a, b] : [b, a]
  t.equal(follower.elector.isLeader(), false, 'only one leads')

  // Watch the leader renew a few times while the follower waits.
  const renewals = new Set<string>()
  await until(async () => {
    renewals.add(String((await readLease(name)).spec?.renewTime))
    return renewals.size
  }, n => n >= 4, 'three renewals', 20_000)
  const lease = await readLease(name)
  t.equal(lease.spec?.holderIdentity, leader.identity)
  t.equal(lease.spec?.leaseDurationSeconds, 3)
  t.equal(lease.spec?.leaseTransitions, 0)
  t.equal(leader.elector.isLeader(), true)
  t.equal(follower.elector.isLeader(), false)
  t.same([leader.started, leader.stopped, follower.started, follower.stopped], [1, 0, 0, 0])
})

t.test('stopping the leader releases the lease: the other leads without waiting it out', async t => {
  const name = leaseName(t)
  // A 30 s lease: only a release lets the follower lead within the 15 s this test waits.
  const slow = { leaseDurationMs: 30_000, renewDeadlineMs: 2_000, retryPeriodMs: 500 }
  const a = candidate(t, name, 'a', slow)
  const b = candidate(t, name, 'b', slow)
  a.elector.start()
  await until(async () => a.elector.isLeader(), v => v, 'a to lead', 20_000)
  b.elector.start()
  await until(async () => (await readLease(name)).spec?.renewTime, v => v !== undefined, 'the lease')
  await a.elector.stop()
  t.equal(a.elector.isLeader(), false)
  await until(async () => b.elector.isLeader(), v => v, 'b to lead after the release', 15_000)
  const lease = await readLease(name)
  t.equal(lease.spec?.holderIdentity, 'b')
  t.equal(lease.spec?.leaseTransitions, 1, 'the takeover is counted')
  t.same([a.started, a.stopped, b.started, b.stopped], [1, 0, 1, 0], 'stop() is not a loss: no onStoppedLeading')
})

t.test('a leader whose lease is overwritten stops at once, and never leads again', async t => {
  const name = leaseName(t)
  const a = candidate(t, name, 'a')
  a.elector.start()
  await until(async () => a.elector.isLeader(), v => v, 'a to lead', 20_000)

  await retryOnConflict(async () => {
    const lease = await readLease(name)
    const at = new V1MicroTime(Date.now())
    await admin.replaceNamespacedLease({
      name, namespace: NS,
      body: { ...lease, spec: { ...lease.spec, holderIdentity: 'intruder', leaseDurationSeconds: 3, acquireTime: at, renewTime: at } },
    })
  })
  await until(async () => a.stopped, n => n === 1, 'onStoppedLeading', 10_000)
  t.equal(a.elector.isLeader(), false)
  t.equal((await readLease(name)).spec?.holderIdentity, 'intruder', 'the lost leader did not write back')

  // Free the lease: a new elector takes it, the lost one stays out.
  await retryOnConflict(async () => {
    const lease = await readLease(name)
    await admin.replaceNamespacedLease({ name, namespace: NS, body: { ...lease, spec: { ...lease.spec, holderIdentity: '' } } })
  })
  const c = candidate(t, name, 'c')
  c.elector.start()
  await until(async () => c.elector.isLeader(), v => v, 'c to lead', 20_000)
  t.same([a.started, a.stopped], [1, 1], 'onStoppedLeading exactly once, onStartedLeading never again')
  t.equal(a.elector.isLeader(), false)
})

// A TCP relay in front of the API server that can be made to swallow traffic, so the leader's
// requests hang as they would behind a network partition.
async function relay(t: TestLike, target: URL): Promise<{ url: string; partition(): void }> {
  const sockets = new Set<Socket>()
  let cut = false
  const server = createServer(client => {
    sockets.add(client)
    client.on('close', () => sockets.delete(client))
    client.on('error', () => undefined)
    if (cut) return
    const upstream = connect(Number(target.port), target.hostname)
    sockets.add(upstream)
    upstream.on('close', () => sockets.delete(upstream))
    upstream.on('error', () => client.destroy())
    client.pipe(upstream).pipe(client)
  })
  await new Promise<void>(res => server.listen(0, '127.0.0.1', res))
  t.teardown(() => new Promise<void>(res => { for (const s of sockets) s.destroy(); server.close(() => res()) }))
  const port = (server.address() as { port: number }).port
  return {
    url: `https://127.0.0.1:${port}`,
    partition: () => { cut = true; for (const s of sockets) s.destroy() },
  }
}

t.test('a leader that cannot renew within the deadline stops before anyone else can lead', async t => {
  const name = leaseName(t)
  const direct = sluiceKubeConfig()
  const cluster = direct.getCurrentCluster()
  if (!cluster) throw new Error('sluice kubeconfig has no cluster')
  const r = await relay(t, new URL(cluster.server))
  const viaRelay = new KubeConfig()
  viaRelay.loadFromOptions({
    clusters: [{ ...cluster, server: r.url }],
    users: direct.users, contexts: direct.contexts, currentContext: direct.currentContext,
  })

  const a = candidate(t, name, 'a', FAST, viaRelay)
  a.elector.start()
  await until(async () => a.elector.isLeader(), v => v, 'a to lead', 20_000)
  const b = candidate(t, name, 'b', FAST, direct)
  b.elector.start()

  r.partition()
  await until(async () => a.stopped, n => n === 1, 'a to give up after the renew deadline', 10_000)
  t.equal(a.elector.isLeader(), false)
  await until(async () => b.elector.isLeader(), v => v, 'b to take over once the lease expired', 20_000)
  t.ok(a.stoppedAt !== undefined && b.startedAt !== undefined && a.stoppedAt < b.startedAt, 'the old leader stopped before the new one started')
  const lease = await readLease(name)
  t.equal(lease.spec?.holderIdentity, 'b')
  t.equal(lease.spec?.leaseTransitions, 1)
  t.same([a.started, a.stopped, b.started, b.stopped], [1, 1, 1, 0])
})
