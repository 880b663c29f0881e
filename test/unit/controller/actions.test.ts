// The actor: the machine's actions in order, and what a failure part-way leaves behind.
import t from 'tap'
import { pino } from 'pino'
import { createActor, type ActorDeps, type Scene } from '../../../src/controller/actions.ts'
import type { Action } from '../../../src/controller/machine/types.ts'
import type { Deployer } from '../../../src/deployer/deployer.ts'
import type { Router } from '../../../src/router/router.ts'
import { canary, deployment } from '../../helpers/objects.ts'

function setup(failing: ReadonlySet<string> = new Set()) {
  const done: string[] = []
  const attempt = (what: string): Promise<void> => {
    done.push(what)
    return failing.has(what) ? Promise.reject(new Error(`${what}: 503 Service Unavailable`)) : Promise.resolve()
  }
  const router = { setRoutes: (_c: unknown, w: { canary: number }) => attempt(`route ${w.canary}`), reconcile: () => Promise.resolve() } as unknown as Router
  const deployer = { scale: (_ns: string, name: string, n: number) => attempt(`scale ${name} ${n}`) } as unknown as Deployer
  const deps: ActorDeps = {
    caches: {} as ActorDeps['caches'],
    deployer,
    client: {} as ActorDeps['client'],
    telemetry: { observeWeights: () => undefined } as unknown as ActorDeps['telemetry'],
    hooks: {
      run: (_c, type) => attempt(`hooks ${type}`).then(() => []),
      event: () => undefined,
      alert: (_c, severity, message) => attempt(`alert ${severity} ${message}`).then(() => []),
    },
    record: (_c, _t, type, reason) => attempt(`event ${type} ${reason}`),
    log: pino({ enabled: false }),
  }
  const scene: Scene = {
    c: canary(), target: deployment(), router, tracked: { refs: [], hashes: {} }, revision: 'r2', replicas: 2,
    routed: true, copiedBefore: [], optedOut: false,
  }
  return { actor: createActor(deps), scene, done }
}

// What the machine asks for when a release is rolled back with a post-rollout hook.
const rollback: Action[] = [
  { kind: 'route', weights: { primary: 100, canary: 0 } },
  { kind: 'scale', workload: 'canary', replicas: 0 },
  { kind: 'run-hooks', type: 'post-rollout' },
  { kind: 'event', type: 'Warning', reason: 'RolledBack', message: 'Canary failed!' },
  { kind: 'alert', severity: 'error', message: 'rolled back' },
]

t.test('every action is performed in order when none fails', async t => {
  const { actor, scene, done } = setup()
  await actor.act(scene, rollback)
  await new Promise(setImmediate)
  t.same(done, ['route 0', 'scale podinfo 0', 'hooks post-rollout', 'event Warning RolledBack', 'event Warning Alert', 'alert error rolled back'])
})

t.test('a failed change stops the changes after it, but not the notices: the retry will not decide them again', async t => {
  const { actor, scene, done } = setup(new Set(['route 0']))
  await t.rejects(actor.act(scene, rollback), { message: 'route 0: 503 Service Unavailable' })
  await new Promise(setImmediate)
  t.notOk(done.includes('scale podinfo 0'), 'the canary is not scaled down while traffic may still reach it')
  t.same(done.filter(d => !d.startsWith('scale')), [
    'route 0', 'event Warning ActionFailed', 'hooks post-rollout', 'event Warning RolledBack', 'event Warning Alert', 'alert error rolled back',
  ], 'post-rollout hooks, events and alerts still go out, after the failure is recorded')
})

t.test('a notice that fails after an earlier failure is logged; the first failure is what is thrown', async t => {
  const { actor, scene, done } = setup(new Set(['scale podinfo 0', 'event Warning RolledBack']))
  await t.rejects(actor.act(scene, rollback), { message: 'scale podinfo 0: 503 Service Unavailable' })
  await new Promise(setImmediate)
  t.ok(done.includes('alert error rolled back'), 'the alert after the failed event is still sent')
})

t.test('a failed notice before any change failed stops the changes after it, as any failure does', async t => {
  const { actor, scene, done } = setup(new Set(['event Warning RolledBack']))
  const actions: Action[] = [rollback[3]!, rollback[0]!, rollback[4]!]
  await t.rejects(actor.act(scene, actions), { message: 'event Warning RolledBack: 503 Service Unavailable' })
  await new Promise(setImmediate)
  t.notOk(done.includes('route 0'))
  t.ok(done.includes('alert error rolled back'))
})

t.test('a warn or error alert is also a Warning Event; an info alert goes to the providers only', async t => {
  const { actor, scene, done } = setup()
  await actor.act(scene, [
    { kind: 'event', type: 'Normal', reason: 'NewRevision', message: 'New revision detected! Scaling up podinfo.demo' },
    { kind: 'alert', severity: 'info', message: 'New revision detected, progressing canary analysis.' },
    { kind: 'alert', severity: 'warn', message: 'Canary is waiting for approval.' },
  ])
  await new Promise(setImmediate)
  t.same(done, [
    'event Normal NewRevision', 'alert info New revision detected, progressing canary analysis.',
    'event Warning Alert', 'alert warn Canary is waiting for approval.',
  ], 'the info alert\'s milestone Event says it already')
})
