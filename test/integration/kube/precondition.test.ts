// What the real API server does with a resourceVersion in a JSON patch of a Canary's status subresource,
// written as sluice: the reason src/kube/precondition.ts sets the version instead of testing it.
import t from 'tap'
import { CustomObjectsApi, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node'
import { readApiError } from '../../../src/kube/errors.ts'
import { conditionally, ifUnchanged, StaleRead, type JsonPatchOp } from '../../../src/kube/precondition.ts'
import type { Canary } from '../../../src/api/types.ts'
import { kubeConfig, namespace, sluiceKubeConfig } from '../../helpers/kube.ts'
import { canary, manifest } from '../../helpers/objects.ts'

const jsonPatch = setHeaderOptions('Content-Type', PatchStrategy.JsonPatch)
const admin = kubeConfig().makeApiClient(CustomObjectsApi)
const sluice = sluiceKubeConfig().makeApiClient(CustomObjectsApi)
const ref = (namespace: string) => ({ group: 'sluice.dev', version: 'v1beta1', namespace, plural: 'canaries', name: 'podinfo' })

async function create(ns: string): Promise<Canary> {
  const body = manifest(canary({ metadata: { namespace: ns }, spec: {
    provider: 'nginx', ingressRef: { name: 'podinfo' }, analysis: { interval: '1m', threshold: 5, maxWeight: 50, stepWeight: 10 },
  } }))
  return await admin.createNamespacedCustomObject({ ...ref(ns), body }) as Canary
}

const patchStatus = async (ns: string, ops: readonly JsonPatchOp[]): Promise<Canary> =>
  await sluice.patchNamespacedCustomObjectStatus({ ...ref(ns), body: ops }, jsonPatch) as Canary
const read = async (ns: string): Promise<Canary> => await admin.getNamespacedCustomObject(ref(ns)) as Canary
const failure = (p: Promise<unknown>): Promise<{ code?: number; reason?: string }> =>
  p.then(() => ({}), (e: unknown) => readApiError(e) ?? { reason: String(e) })

t.test('the status subresource: a stale resourceVersion set by the patch is a 409; a failed test op is a 422', async t => {
  const ns = await namespace(t)
  const created = await create(ns)
  const rv0 = created.metadata.resourceVersion
  const first = await patchStatus(ns, ifUnchanged(rv0, [{ op: 'add', path: '/status', value: { canaryWeight: 10 } }]))
  t.equal(first.status?.canaryWeight, 10, 'written while the version is current')
  const rv1 = first.metadata.resourceVersion
  t.not(rv1, rv0)

  t.match(await failure(patchStatus(ns, ifUnchanged(rv0, [{ op: 'add', path: '/status', value: { canaryWeight: 0 } }]))),
    { code: 409, reason: 'Conflict' }, 'an older version is refused with 409 Conflict')
  t.match(await failure(patchStatus(ns, [{ op: 'test', path: '/metadata/resourceVersion', value: rv0 }, { op: 'add', path: '/status', value: { canaryWeight: 0 } }])),
    { code: 422 }, 'a test op is honoured too, but its failure is a 422, as a status the schema refuses')
  t.match(await failure(patchStatus(ns, ifUnchanged(rv1, [{ op: 'add', path: '/status', value: { canaryWeight: 120 } }]))),
    { code: 422, reason: 'Invalid' }, 'the schema\'s refusal, for comparison')
  t.equal((await read(ns)).status?.canaryWeight, 10, 'none of the refused patches was stored')

  const again = await patchStatus(ns, ifUnchanged(rv1, [{ op: 'add', path: '/status', value: { canaryWeight: 10 } }]))
  t.equal(again.metadata.resourceVersion, rv1, 'an unchanged status at the current version is no write: a confirmation costs no version')

  const stale = await conditionally('Canary podinfo', rv0 ?? '', () => patchStatus(ns, ifUnchanged(rv0, [{ op: 'add', path: '/status', value: { canaryWeight: 0 } }])))
    .catch((e: unknown) => e)
  t.type(stale, StaleRead, 'conditionally reads the 409 as a stale read')
})

t.test('the main resource: a finalizer added from a stale read is refused', async t => {
  const ns = await namespace(t)
  const created = await create(ns)
  await patchStatus(ns, [{ op: 'add', path: '/status', value: { canaryWeight: 10 } }])
  const add = ifUnchanged(created.metadata.resourceVersion, [{ op: 'add', path: '/metadata/finalizers', value: ['sluice.dev/finalizer'] }])
  t.match(await failure(sluice.patchNamespacedCustomObject({ ...ref(ns), body: add }, jsonPatch)), { code: 409 }, 'a status write since makes the read stale')
  const current = await read(ns)
  t.notOk(current.metadata.finalizers, 'no finalizer written')
  await sluice.patchNamespacedCustomObject({ ...ref(ns), body: ifUnchanged(current.metadata.resourceVersion, [{ op: 'add', path: '/metadata/finalizers', value: ['sluice.dev/finalizer'] }]) }, jsonPatch)
  t.same((await read(ns)).metadata.finalizers, ['sluice.dev/finalizer'])
  await sluice.patchNamespacedCustomObject({ ...ref(ns), body: [{ op: 'remove', path: '/metadata/finalizers' }] }, jsonPatch)
})
