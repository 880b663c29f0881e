// The plain-JSON calls (src/kube/json-api.ts) against the real API server, as sluice's ServiceAccount: what
// is stored, and refusals read as client-node's typed APIs' were (code, reason, StaleRead, NotFound).
import t from 'tap'
import { ApiException, CoreV1Api, type CoreV1Event, type V1ConfigMap } from '@kubernetes/client-node'
import { createJsonApi, JSON_PATCH, MERGE_PATCH } from '../../../src/kube/json-api.ts'
import { applyClient } from '../../../src/kube/apply.ts'
import { isNotFound, readApiError } from '../../../src/kube/errors.ts'
import { conditionally, ifUnchanged, StaleRead } from '../../../src/kube/precondition.ts'
import { kubeConfig, namespace, sluiceKubeConfig } from '../../helpers/kube.ts'

const api = createJsonApi(sluiceKubeConfig())
const admin = kubeConfig().makeApiClient(CoreV1Api)

const event = (ns: string, name: string): CoreV1Event => ({
  apiVersion: 'v1', kind: 'Event', metadata: { name, namespace: ns },
  involvedObject: { apiVersion: 'v1', kind: 'ConfigMap', name: 'app', namespace: ns },
  type: 'Normal', reason: 'Test', message: 'from the JSON client', source: { component: 'sluice' },
  firstTimestamp: new Date('2026-01-02T03:04:05.678Z'), lastTimestamp: new Date('2026-01-02T03:04:05.678Z'), count: 1,
})

t.test('a POST and a merge PATCH are stored as sent, and answered with the object as stored', async t => {
  const ns = await namespace(t)
  const path = `/api/v1/namespaces/${ns}/events`
  const created = await api<CoreV1Event>('POST', path, { body: event(ns, 'e1') })
  t.equal(created.metadata.name, 'e1')
  t.match(created.metadata.resourceVersion, /^\d+$/, 'the answer is the stored object')
  const patched = await api<CoreV1Event>('PATCH', `${path}/e1`, { body: { count: 2 }, contentType: MERGE_PATCH })
  t.equal(patched.count, 2)
  const stored = await admin.readNamespacedEvent({ name: 'e1', namespace: ns })
  t.equal(stored.count, 2, 'the typed API reads what the JSON call wrote')
  t.equal(stored.message, 'from the JSON client')
  t.equal(stored.firstTimestamp?.toISOString(), '2026-01-02T03:04:05.000Z', 'a Date is sent as its ISO text (the API server keeps seconds)')
})

t.test('refusals are ApiExceptions that readApiError reads: 404, 403, 409 as StaleRead, 422', async t => {
  const ns = await namespace(t)
  const missing = await api('GET', `/apis/sluice.dev/v1beta1/namespaces/${ns}/canaries/none`).catch((e: unknown) => e)
  t.ok(missing instanceof ApiException, 'an ApiException, as client-node throws')
  t.ok(isNotFound(missing))
  t.match(readApiError(missing), { code: 404, reason: 'NotFound', message: /canaries.sluice.dev "none" not found/ })

  // sluice may not touch Namespaces' spec (its ClusterRole reads them only).
  t.match(readApiError(await api('DELETE', `/api/v1/namespaces/${ns}`).catch((e: unknown) => e)), { code: 403, reason: 'Forbidden' })

  await admin.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'cm' }, data: { a: '1' } } })
  t.match(readApiError(await api('POST', `/api/v1/namespaces/${ns}/events`, { body: { ...event(ns, 'bad'), involvedObject: undefined } }).catch((e: unknown) => e)),
    { code: 422, reason: 'Invalid' }, 'the API server\'s validation, with its reason')

  const events = `/api/v1/namespaces/${ns}/events`
  const first = await api<CoreV1Event>('POST', events, { body: event(ns, 'e2') })
  const rv = first.metadata.resourceVersion ?? ''
  await api('PATCH', `${events}/e2`, { body: { count: 5 }, contentType: MERGE_PATCH })
  const stale = await conditionally('Event e2', rv, () => api('PATCH', `${events}/e2`, {
    body: ifUnchanged(rv, [{ op: 'replace', path: '/count', value: 9 }]), contentType: JSON_PATCH,
  })).catch((e: unknown) => e)
  t.ok(stale instanceof StaleRead, 'a conditional JSON patch on an old version is a StaleRead')
  t.equal((await admin.readNamespacedEvent({ name: 'e2', namespace: ns })).count, 5, 'and wrote nothing')
})

t.test('a timeout rejects with the signal\'s TimeoutError, also while the answer is streaming', async t => {
  const ns = await namespace(t)
  // A watch answers at once and never ends: the timeout comes while the body is read.
  const watch = await api('GET', `/api/v1/namespaces/${ns}/configmaps`, { query: { watch: 'true' }, timeoutMs: 300 }).catch((e: unknown) => e)
  t.equal((watch as Error).name, 'TimeoutError')
})

t.test('applyClient.apply: server-side apply as field manager sluice, forced; a repeat keeps the version', async t => {
  const ns = await namespace(t)
  await admin.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'taken' }, data: { key: 'user' } } })
  const kube = applyClient(sluiceKubeConfig())
  const obj = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'taken', namespace: ns }, data: { key: 'sluice' } }
  const applied = await kube.apply(obj) as V1ConfigMap
  t.equal(applied.data?.key, 'sluice', 'forced: the field another manager set is taken over')
  t.ok(applied.metadata?.managedFields?.some(f => f.manager === 'sluice' && f.operation === 'Apply'), 'recorded as sluice\'s apply')
  t.same(obj.metadata, { name: 'taken', namespace: ns }, 'the object given is left as it was')
  const again = await kube.apply(obj) as V1ConfigMap
  t.equal(again.metadata?.resourceVersion, applied.metadata?.resourceVersion, 'the same apply again changes nothing')
})
