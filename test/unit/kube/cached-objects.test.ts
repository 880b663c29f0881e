// The routers' cached object client: when it reads from the cache, from its own last write, or from the API
// server, and when a write is skipped. The API server is a map that numbers every write, as etcd does; the
// cache is a copy of it that the test brings up to date by hand (a watch that lags).
import t from 'tap'
import type { KubernetesObject } from '@kubernetes/client-node'
import { cachedObjects, newerVersion } from '../../../src/kube/cached-objects.ts'
import type { ApplyClient, KubeObject, ObjectRef } from '../../../src/kube/apply.ts'
import type { Handler, Informer } from '../../../src/kube/informer.ts'

const SVC: ObjectRef = { apiVersion: 'v1', kind: 'Service', namespace: 'ns', name: 'web' }
const ROUTE: ObjectRef = { apiVersion: 'example.com/v1', kind: 'Route', namespace: 'ns', name: 'web' }

function service(selector: string): KubeObject {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'ns' }, spec: { selector: { app: selector } } }
}
function route(weight: number): KubeObject {
  return { apiVersion: 'example.com/v1', kind: 'Route', metadata: { name: 'web', namespace: 'ns' }, spec: { weight } }
}

function world() {
  let revision = 100
  const stored = new Map<string, KubeObject>()
  const key = (r: { kind?: string; metadata?: { name?: string } } | ObjectRef): string =>
    'metadata' in r ? `${r.kind}/${r.metadata?.name}` : `${r.kind}/${(r as ObjectRef).name}`
  const calls: string[] = []
  const write = (o: KubeObject): KubeObject => {
    const w = structuredClone(o)
    w.metadata = { ...w.metadata, resourceVersion: String(++revision) } as KubeObject['metadata']
    stored.set(key(o), w)
    return structuredClone(w)
  }
  const kube: ApplyClient = {
    async apply(o) { calls.push(`apply ${o.kind}`); return write(o) },
    async get(r) { calls.push(`get ${r.kind}`); const o = stored.get(key(r)); return o && structuredClone(o) },
    async delete(r) { calls.push(`delete ${r.kind}`); stored.delete(key(r)) },
  }
  // The Service cache: what the watch has delivered so far.
  const cached = new Map<string, KubernetesObject>()
  const handlers: Handler<KubernetesObject>[] = []
  const informer: Informer<KubernetesObject> = {
    start: async () => undefined, stop: () => undefined, synced: true,
    on: h => { handlers.push(h) },
    get: name => cached.get(name),
    list: () => [...cached.values()],
  }
  /** The watch delivers the Service as stored now (or its deletion). */
  const deliver = (): void => {
    const o = stored.get('Service/web')
    const had = cached.get('web')
    if (o) {
      // Listed objects carry no kind: the client must not need it.
      const { apiVersion: _a, kind: _k, ...bare } = structuredClone(o)
      cached.set('web', bare)
      for (const h of handlers) h(bare, had ? 'update' : 'add')
    } else if (had) {
      cached.delete('web')
      for (const h of handlers) h(had, 'delete')
    }
  }
  /** Someone else changes the stored Service (as a webhook-less admin could). */
  const foreign = (o: KubeObject): void => { write(o) }
  const restart = (): ApplyClient => cachedObjects(kube, { 'v1/Service': informer })
  return { client: restart(), restart, calls, deliver, foreign, stored: (kind: string) => stored.get(`${kind}/web`) }
}

t.test('a cached kind is read from the cache, overlaid with our own write until the cache has it', async t => {
  const w = world()
  await w.client.apply(service('a'))
  w.calls.length = 0
  t.same((await w.client.get(SVC))?.spec, { selector: { app: 'a' } }, 'the cache is behind: our own write is read')
  w.deliver()
  const got = await w.client.get(SVC)
  t.same(got?.spec, { selector: { app: 'a' } })
  t.equal(got?.kind, 'Service', 'the kind is put back on a cached object')
  t.same(w.calls, [], 'no GET')
  w.foreign(service('b'))
  w.deliver()
  t.same((await w.client.get(SVC))?.spec, { selector: { app: 'b' } }, 'a newer version in the cache wins over our write')
})

t.test('a write of what was written last is skipped only while the object stands at that write', async t => {
  const w = world()
  await w.client.apply(service('a'))
  await w.client.apply(service('a'))
  t.same(w.calls, ['apply Service'], 'the same object again, nothing else changed it: skipped')
  w.deliver()
  await w.client.apply(service('b'))
  // The cache is behind our second write and still shows our first (a, at the older version):
  // going back to a must be written, although the cache already "holds" a.
  w.calls.length = 0
  await w.client.apply(service('a'))
  t.same(w.calls, ['apply Service'], 'a cache lagging our own write never makes a needed write look done')
  t.same(w.stored('Service')?.spec, { selector: { app: 'a' } })

  w.deliver()
  w.foreign(service('c'))
  w.deliver()
  w.calls.length = 0
  await w.client.apply(service('a'))
  t.same(w.calls, ['apply Service'], 'a foreign change is written over')
  t.same(w.stored('Service')?.spec, { selector: { app: 'a' } })
})

t.test('after a restart (a new client on a filled cache) the first write goes out once, then repeats are skipped', async t => {
  const w = world()
  await w.client.apply(service('a'))
  w.deliver()
  const restarted = w.restart()
  w.calls.length = 0
  t.same((await restarted.get(SVC))?.spec, { selector: { app: 'a' } }, 'read from the filled cache')
  await restarted.apply(service('a'))
  await restarted.apply(service('a'))
  t.same(w.calls, ['apply Service'], 'nothing remembered: one redundant write, then skipped')
})

t.test('a kind without a cache is read from the API server; a write is skipped while the last read shows our write', async t => {
  const w = world()
  await w.client.apply(route(10))
  t.same((await w.client.get(ROUTE))?.spec, { weight: 10 })
  w.calls.length = 0
  await w.client.apply(route(10))
  t.same(w.calls, [], 'the last read shows our write: skipped')
  w.foreign(route(0))
  await w.client.get(ROUTE)
  w.calls.length = 0
  await w.client.apply(route(10))
  t.same(w.calls, ['apply Route'], 'the read showed a foreign change: written again')
  t.same(w.stored('Route')?.spec, { weight: 10 })
})

t.test('a deletion, ours or seen by the cache, forgets the object', async t => {
  const w = world()
  await w.client.apply(service('a'))
  w.deliver()
  await w.client.delete(SVC)
  t.equal(await w.client.get(SVC), undefined, 'deleted by us: gone, although the cache has not seen it yet')
  w.calls.length = 0
  await w.client.apply(service('a'))
  t.same(w.calls, ['apply Service'], 'written again after the deletion')
  w.deliver()
  await w.client.delete(SVC)
  w.deliver()
  w.calls.length = 0
  await w.client.apply(service('a'))
  t.same(w.calls, ['apply Service'])
})

t.test('resourceVersions are compared as numbers, and only as numbers', async t => {
  t.equal(newerVersion('100', '99'), true)
  t.equal(newerVersion('99', '100'), false)
  t.equal(newerVersion('abc', '100'), undefined)
  t.equal(newerVersion(undefined, '1'), undefined)
})
