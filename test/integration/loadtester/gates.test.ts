// The load tester's gates on the real API server, as its own ServiceAccount with the RBAC of
// manifests/loadtester.yaml: kept in the ConfigMap, still there after the process is killed and started
// again, read afresh on every check, and written by two load testers at once without losing a key.
import t from 'tap'
import { pino } from 'pino'
import { CoreV1Api, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node'
import { startLoadTester } from '../../../src/loadtester/run.ts'
import { readApiError } from '../../../src/kube/errors.ts'
import { httpsGet } from '../../cluster/process.ts'
import { kubeConfig, namespace } from '../../helpers/kube.ts'
import { loadTesterAccount, startLoadTesterProcess } from '../../helpers/loadtester.ts'

const core = kubeConfig().makeApiClient(CoreV1Api)
const CONFIGMAP = 'sluice-loadtester-gates'
const quiet = pino({ level: 'silent' })

async function call(base: string, path: string, body: unknown): Promise<number> {
  return (await httpsGet(`${base}${path}`, undefined, 10_000, { method: 'POST', body: JSON.stringify(body) })).status
}

async function gateData(ns: string): Promise<Record<string, string>> {
  return (await core.readNamespacedConfigMap({ name: CONFIGMAP, namespace: ns })).data ?? {}
}

async function status(p: Promise<unknown>): Promise<number | 'ok'> {
  try {
    await p
    return 'ok'
  } catch (e) {
    return readApiError(e)?.code ?? -1
  }
}

t.test('gates live in the ConfigMap and survive the load tester being killed and started again', async t => {
  const ns = await namespace(t)
  const account = await loadTesterAccount(t, ns)
  const tester = await startLoadTesterProcess(t, account, ns)
  const a = { name: 'podinfo', namespace: 'shop' }
  const b = { name: 'backend', namespace: 'shop' }
  t.equal(await call(tester.url, '/gate/check', a), 403, 'closed until opened')
  t.equal(await call(tester.url, '/gate/open', a), 202)
  t.equal(await call(tester.url, '/rollback/open', b), 202)
  t.equal(await call(tester.url, '/gate/check', a), 200)
  t.same(await gateData(ns), { 'gate.shop.podinfo': 'open', 'rollback.shop.backend': 'open' }, 'one key per gate, readable with kubectl')

  await tester.kill()
  await tester.start()
  t.equal(await call(tester.url, '/gate/check', a), 200, 'the opened gate is still open after a crash and a restart')
  t.equal(await call(tester.url, '/rollback/check', b), 200, 'so is the rollback gate')
  t.equal(await call(tester.url, '/gate/check', b), 403, 'and what was never opened is still closed')
  t.equal(await call(tester.url, '/gate/close', a), 202)
  t.equal(await call(tester.url, '/gate/check', a), 403)
  t.same(await gateData(ns), { 'gate.shop.podinfo': 'closed', 'rollback.shop.backend': 'open' })

  // Every check reads the ConfigMap: a hand edit counts at once, with no restart.
  await core.patchNamespacedConfigMap({ name: CONFIGMAP, namespace: ns, body: { data: { 'gate.shop.podinfo': 'open' } } },
    setHeaderOptions('Content-Type', PatchStrategy.MergePatch))
  t.equal(await call(tester.url, '/gate/check', a), 200)
})

t.test('the load tester\'s ServiceAccount may read and patch its ConfigMap, and nothing else', async t => {
  const ns = await namespace(t)
  const account = await loadTesterAccount(t, ns)
  const mine = account.kc.makeApiClient(CoreV1Api)
  await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'someone-elses' }, data: { secret: 'x' } } })
  t.equal(await status(mine.readNamespacedConfigMap({ name: CONFIGMAP, namespace: ns })), 'ok')
  t.equal(await status(mine.readNamespacedConfigMap({ name: 'someone-elses', namespace: ns })), 403, 'another ConfigMap: not readable')
  t.equal(await status(mine.listNamespacedConfigMap({ namespace: ns })), 403, 'no list')
  t.equal(await status(mine.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'new' } } })), 403, 'no create')
  t.equal(await status(mine.deleteNamespacedConfigMap({ name: CONFIGMAP, namespace: ns })), 403, 'no delete, even of its own')
  t.equal(await status(mine.readNamespacedSecret({ name: 'anything', namespace: ns })), 403, 'no Secrets')
  t.equal(await status(mine.listNamespacedConfigMap({ namespace: 'default' })), 403, 'nothing in other namespaces')
})

t.test('without its ConfigMap the load tester does not start, and says what to apply', async t => {
  const ns = await namespace(t)
  const account = await loadTesterAccount(t, ns)
  await core.deleteNamespacedConfigMap({ name: CONFIGMAP, namespace: ns })
  await t.rejects(startLoadTester({ kc: account.kc, namespace: ns, host: '127.0.0.1', port: 0, logger: quiet }),
    { message: `the gate ConfigMap ${ns}/${CONFIGMAP} does not exist: apply manifests/loadtester.yaml, which creates it` })
})

t.test('two load testers opening gates at once lose none of each other\'s keys', async t => {
  const ns = await namespace(t)
  const account = await loadTesterAccount(t, ns)
  const testers = await Promise.all([0, 1].map(() => startLoadTester({ kc: account.kc, namespace: ns, host: '127.0.0.1', port: 0, logger: quiet })))
  t.teardown(() => Promise.all(testers.map(x => x.stop())))
  const names = Array.from({ length: 8 }, (_, i) => `app-${i}`)
  // Every gate is written by both at the same moment, half of them opened and the rollback gates too.
  const codes = await Promise.all(names.flatMap(name => testers.flatMap(x => [
    call(x.url, '/gate/open', { name, namespace: 'shop' }),
    call(x.url, '/rollback/open', { name, namespace: 'shop' }),
  ])))
  t.same([...new Set(codes)], [202], 'every write answered 202 (lost races were retried)')
  const data = await gateData(ns)
  t.equal(Object.keys(data).length, names.length * 2)
  for (const name of names) t.same([data[`gate.shop.${name}`], data[`rollback.shop.${name}`]], ['open', 'open'], name)
})
