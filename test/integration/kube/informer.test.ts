// The informer against a real API server: the initial list, watch events, and a relist that notices
// a deletion its watch never saw.
import t from 'tap'
import { CoreV1Api, type V1ConfigMap } from '@kubernetes/client-node'
import { createInformer, type InformerEvent } from '../../../src/kube/informer.ts'
import { kubeConfig, namespace } from '../../helpers/kube.ts'
import { until } from '../../helpers/wait.ts'

const kc = kubeConfig()
const core = kc.makeApiClient(CoreV1Api)

t.test('list, then add, update and delete events', async t => {
  const ns = await namespace(t)
  await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'before' }, data: { a: '1' } } })
  const events: string[] = []
  const inf = createInformer<V1ConfigMap>(kc, {
    path: `/api/v1/namespaces/${ns}/configmaps`,
    list: () => core.listNamespacedConfigMap({ namespace: ns }),
  })
  inf.on((o: V1ConfigMap, e: InformerEvent) => events.push(`${e} ${o.metadata?.name}`))
  await inf.start()
  t.teardown(() => inf.stop())
  t.ok(inf.synced, 'synced after start')
  t.equal(inf.get('before', ns)?.data?.a, '1', 'the listed object is cached')

  await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'after' }, data: { a: '1' } } })
  await until(async () => inf.get('after', ns), o => o !== undefined, 'watch ADDED in cache')
  await core.patchNamespacedConfigMap({ namespace: ns, name: 'after', body: [{ op: 'replace', path: '/data/a', value: '2' }] })
  await until(async () => inf.get('after', ns)?.data?.a, v => v === '2', 'watch MODIFIED in cache')
  await core.deleteNamespacedConfigMap({ namespace: ns, name: 'before' })
  await until(async () => inf.get('before', ns), o => o === undefined, 'watch DELETED in cache')
  t.same(events.filter(e => !e.includes('kube-root-ca')), ['add before', 'add after', 'update after', 'delete before'])
})

t.test('a relist notices objects deleted while the watch was not looking', async t => {
  const ns = await namespace(t)
  await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'doomed' } } })
  const deleted: string[] = []
  let failList = false
  const inf = createInformer<V1ConfigMap>(kc, {
    path: `/api/v1/namespaces/${ns}/configmaps`,
    // The watch sees only a label nobody sets, so only a relist can reveal the deletion.
    labelSelector: 'never=set',
    list: async () => {
      if (failList) throw new Error('list failed on purpose')
      return core.listNamespacedConfigMap({ namespace: ns })
    },
    relistMs: 1000,
  })
  inf.on((o: V1ConfigMap, e: InformerEvent) => { if (e === 'delete') deleted.push(o.metadata?.name ?? '') })
  await inf.start()
  t.teardown(() => inf.stop())
  t.ok(inf.get('doomed', ns), 'cached from the first list')
  await core.deleteNamespacedConfigMap({ namespace: ns, name: 'doomed' })
  await until(async () => deleted, d => d.includes('doomed'), 'the relist to report the deletion', 20_000)
  t.equal(inf.get('doomed', ns), undefined)
  failList = true
  t.equal(inf.synced, true, 'a failing relist keeps the last good cache')
})
