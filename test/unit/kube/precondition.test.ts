// Conditional writes: the resourceVersion precondition in front of a JSON patch, a 409 read as "stale",
// and the loop that decides again on a fresh read instead of acting on the stale decision.
import t from 'tap'
import { ApiException } from '@kubernetes/client-node'
import { conditionally, decideOnLatest, ifUnchanged, StaleRead } from '../../../src/kube/precondition.ts'

// The 409 the API server answers to a patch whose resourceVersion is not the stored one.
const conflictMessage = 'Operation cannot be fulfilled on canaries.sluice.dev "podinfo": the object has been modified; please apply your changes to the latest version and try again'
const conflict = (): ApiException<string> => new ApiException(409, 'Unknown API Status Code!',
  JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'Conflict', code: 409, message: conflictMessage, details: { name: 'podinfo', group: 'sluice.dev', kind: 'canaries' } }), {})
const invalid = (): ApiException<string> => new ApiException(422, 'Unknown API Status Code!',
  JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'Invalid', code: 422, message: 'Canary.sluice.dev "podinfo" is invalid: status.canaryWeight: Invalid value: 120' }), {})

t.test('ifUnchanged puts the resourceVersion in front of the operations, and refuses to write without one', async t => {
  t.same(ifUnchanged('4711', [{ op: 'add', path: '/status', value: { canaryWeight: 20 } }]), [
    { op: 'replace', path: '/metadata/resourceVersion', value: '4711' },
    { op: 'add', path: '/status', value: { canaryWeight: 20 } },
  ])
  t.throws(() => ifUnchanged(undefined, []), /needs the resourceVersion/)
  t.throws(() => ifUnchanged('', []), /needs the resourceVersion/)
})

t.test('conditionally turns a 409 into a StaleRead naming the object and the version read; other failures pass as they are', async t => {
  const stale = await conditionally('Canary shop/podinfo', '4711', () => Promise.reject(conflict())).catch((e: unknown) => e)
  t.type(stale, StaleRead)
  t.match(stale, { object: 'Canary shop/podinfo', resourceVersion: '4711', message: 'Canary shop/podinfo changed since resourceVersion 4711 was read' })
  t.type((stale as StaleRead).cause, ApiException, 'the API error is kept as the cause')

  const refused = invalid()
  t.equal(await conditionally('Canary shop/podinfo', '4711', () => Promise.reject(refused)).catch((e: unknown) => e), refused)
  t.equal(await conditionally('Canary shop/podinfo', '4711', () => Promise.resolve('written')), 'written')
})

interface Obj { readonly rv: string }

/** A decide that loses the race while the object is at one of `staleAt`, and records what it decided on. */
function decider(staleAt: readonly string[]): { decided: string[]; decide: (o: Obj) => Promise<void> } {
  const decided: string[] = []
  return {
    decided,
    decide: async o => {
      decided.push(o.rv)
      if (staleAt.includes(o.rv)) throw new StaleRead('Canary shop/podinfo', o.rv)
    },
  }
}

t.test('decideOnLatest decides once on the cached object when its writes land', async t => {
  const { decided, decide } = decider([])
  let reads = 0
  t.equal(await decideOnLatest({ rv: '1' }, async () => { reads++; return { rv: '2' } }, decide, 3), 'done')
  t.same(decided, ['1'])
  t.equal(reads, 0, 'no read from the API server')
})

t.test('decideOnLatest decides again on a fresh read after a stale write, and only then', async t => {
  const { decided, decide } = decider(['1'])
  const fresh = ['5']
  t.equal(await decideOnLatest({ rv: '1' }, async () => ({ rv: fresh.shift() ?? 'none' }), decide, 3), 'done')
  t.same(decided, ['1', '5'], 'the second decision is on the fresh object')
})

t.test('decideOnLatest gives up after the given number of decisions when every write is stale', async t => {
  const { decided, decide } = decider(['1', '2', '3', '4'])
  const fresh = ['2', '3', '4']
  t.equal(await decideOnLatest({ rv: '1' }, async () => ({ rv: fresh.shift() ?? 'none' }), decide, 3), 'stale')
  t.same(decided, ['1', '2', '3'])
  t.same(fresh, ['4'], 'no read after the last decision')
})

t.test('decideOnLatest ends when the fresh read finds the object gone', async t => {
  const { decided, decide } = decider(['1'])
  t.equal(await decideOnLatest({ rv: '1' }, async () => undefined, decide, 3), 'gone')
  t.same(decided, ['1'])
})

t.test('decideOnLatest passes other failures on without reading again', async t => {
  let reads = 0
  const boom = new Error('router unreachable')
  await t.rejects(decideOnLatest({ rv: '1' }, async () => { reads++; return { rv: '2' } }, () => Promise.reject(boom), 3), boom)
  t.equal(reads, 0)
  await t.rejects(decideOnLatest({ rv: '1' }, async () => { throw invalid() }, decider(['1']).decide, 3), { code: 422 }, 'a failed re-read is a failure')
})
