// Session affinity in the phase machine: the cookies a release uses are decided in the status that goes out
// with the first route giving the canary traffic, kept while it has some (whatever value the next reconciles
// draw), and moved to previousSessionAffinityCookie once it has none, so the next release gets new ones.
import t from 'tap'
import { advance } from '../../../../src/controller/machine/phases.ts'
import type { CanaryStatus } from '../../../../src/api/types.ts'
import { allPass, decide, failing, observe, ofKind, perform, progressing, routes, spec, status, world, type Checker, type World } from './fixtures.ts'

const AFFINITY = { sessionAffinity: { cookieName: 'shop', primaryCookieName: 'stay' } }

interface Step { canary: number; cookie?: string; primary?: string; previous?: string }

/** Runs like fixtures.run, with a new random value each reconcile, recording the cookies beside each route. */
function release(statusIn: CanaryStatus, checker: Checker, draws: string[], prefix = 'v'): { steps: Step[]; status: CanaryStatus } {
  let w: World = world()
  let s = statusIn
  const steps: Step[] = []
  let n = 0
  for (let tick = 0; tick < 20 && !(tick > 0 && (s.phase === 'Succeeded' || s.phase === 'Failed')); tick++) {
    for (let call = 0; call < 5; call++) {
      const value = `${prefix}${n++}`
      draws.push(value)
      const r = decide(t, { spec: spec(AFFINITY, { provider: 'istio', ingressRef: undefined }), status: s }, observe(w, { cookieValue: value }), checker)
      s = r.status
      w = perform(w, r.actions)
      for (const route of ofKind(r.actions, 'route')) {
        steps.push({
          canary: route.weights.canary,
          ...(s.sessionAffinityCookie && { cookie: s.sessionAffinityCookie }),
          ...(s.primarySessionAffinityCookie && { primary: s.primarySessionAffinityCookie }),
          ...(s.previousSessionAffinityCookie && { previous: s.previousSessionAffinityCookie }),
        })
      }
      if (r.actions.every(a => a.kind === 'event' || a.kind === 'alert')) break
    }
    w = { ...w, now: new Date(w.now.getTime() + 60_000) }
  }
  return { steps, status: s }
}

t.test('a promoted release: one cookie pair from the first step to the end, then the canary cookie is expired', async t => {
  const draws: string[] = []
  const { steps, status: end } = release(status('Succeeded'), allPass, draws)
  const first = steps.find(s => s.canary > 0)!
  t.match(first.cookie, /^shop=v\d+$/, 'decided with the first route that gives the canary traffic')
  t.equal(first.primary, first.cookie!.replace('shop=', 'stay='), 'the primary cookie beside it')
  t.same(steps.filter(s => s.canary > 0).map(s => [s.cookie, s.primary]), steps.filter(s => s.canary > 0).map(() => [first.cookie, first.primary]),
    `kept through every step, though each reconcile drew a new value (${draws.length} drawn)`)
  t.same(steps.map(s => s.canary), [20, 40, 60, 80, 100, 0], 'the steps, then all traffic back to the primary')
  t.same(steps.at(-1), { canary: 0, previous: first.cookie }, 'with the canary off, the cookie is the previous one and none is current')
  t.equal(end.phase, 'Succeeded')
  t.same([end.sessionAffinityCookie, end.primarySessionAffinityCookie, end.previousSessionAffinityCookie], [undefined, undefined, first.cookie])

  const next = release({ ...status('Succeeded'), previousSessionAffinityCookie: first.cookie! }, allPass, [], 'w')
  const again = next.steps.find(s => s.canary > 0)!
  t.not(again.cookie, first.cookie, 'the next release gets a new cookie')
  t.equal(again.previous, first.cookie, 'the old one stays previous until the new one is done')
})

t.test('a rolled-back release expires its cookie in the same status that takes the canary off', async t => {
  const failingMetrics: Checker = (stage, c) => (stage === 'metrics' ? [failing('request-success-rate', 50)] : allPass(stage, c))
  const { steps, status: end } = release(status('Succeeded'), failingMetrics, [])
  t.equal(end.phase, 'Failed')
  t.equal(steps.at(-1)?.canary, 0)
  t.equal(end.sessionAffinityCookie, undefined)
  t.match(end.previousSessionAffinityCookie, /^shop=v\d+$/)
})

t.test('the cookie is in the status written before the route that uses it', async t => {
  const c = { spec: spec({ ...AFFINITY, stepWeight: 10 }, { provider: 'istio', ingressRef: undefined }), status: progressing({ progressAgo: 60 }) }
  const r = decide(t, c, observe(world({ canaryReplicas: 3 }), { cookieValue: 'abc' }))
  t.same(ofKind(r.actions, 'route').map(a => a.weights), [routes(10)])
  t.equal(r.status.sessionAffinityCookie, 'shop=abc')
  t.equal(r.status.primarySessionAffinityCookie, 'stay=abc')
  // A restart before the route was set: the status holds the cookie, the route is set again with it.
  const restarted = advance({ ...c, status: r.status }, observe(world({ canaryReplicas: 3 }), { cookieValue: 'other' }))
  t.same(ofKind(restarted.actions, 'route').map(a => a.weights), [routes(10)], 'the lost route is put right')
  t.equal(restarted.status.sessionAffinityCookie, 'shop=abc', 'with the same cookie')
})

t.test('without sessionAffinity the status carries no cookies; a renamed cookie starts afresh', async t => {
  const plain = decide(t, { spec: spec({ stepWeight: 10 }), status: progressing() }, observe(world({ canaryReplicas: 3 }), { cookieValue: 'abc' }))
  t.same([plain.status.sessionAffinityCookie, plain.status.primarySessionAffinityCookie], [undefined, undefined])
  const renamed = decide(t, {
    spec: spec({ stepWeight: 10, sessionAffinity: { cookieName: 'cart' } }, { provider: 'istio', ingressRef: undefined }),
    status: progressing({ canaryWeight: 10, sessionAffinityCookie: 'shop=abc', primarySessionAffinityCookie: 'stay=abc' }),
  }, observe(world({ canaryReplicas: 3, weights: routes(10) }), { cookieValue: 'xyz' }))
  t.same([renamed.status.sessionAffinityCookie, renamed.status.primarySessionAffinityCookie, renamed.status.previousSessionAffinityCookie],
    ['cart=xyz', undefined, 'shop=abc'], 'the old cookie is expired once the canary is off; no primary cookie without its name')
})
