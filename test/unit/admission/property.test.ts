// Property-based: whatever review arrives, the server answers a valid review echoing the uid (or a
// 400 with a reason for a structurally invalid one), never crashes, and its patches apply cleanly.
import t from 'tap'
import fc from 'fast-check'
import { MUTATE_DEPLOYMENTS_PATH, VALIDATE_GUARD_PATH } from '../../../src/admission/server.ts'
import { allow, allowWithPatch, deny } from '../../../src/admission/review.ts'
import type { AdmissionRequest, AdmissionVerdict } from '../../../src/admission/review.ts'
import { setAnnotation, valueAt } from '../../../src/kube/json-patch.ts'
import type { PatchOperation } from '../../../src/kube/json-patch.ts'
import { applyPatch } from '../../helpers/json-patch.ts'
import { patchOf, server } from './fixtures.ts'

const unhandled: unknown[] = []
process.on('unhandledRejection', err => unhandled.push(err))

const awkwardKey = fc.oneof(
  fc.constantFrom('/', '~', '~0', '~1', '/~', 'a/b~c', '~~//', '__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', '', ' ', 'sluice.dev/strategy'),
  fc.string({ maxLength: 12 }),
)
const stringMap = fc.dictionary(awkwardKey, fc.string({ maxLength: 20 }), { maxKeys: 5 })
const metadata = fc.record({ name: fc.string({ maxLength: 20 }), namespace: fc.string({ maxLength: 20 }), labels: stringMap, annotations: stringMap }, { requiredKeys: [] })
const kubeObject = fc.record({
  apiVersion: fc.constantFrom('apps/v1', 'v1'),
  kind: fc.constantFrom('Deployment', 'ConfigMap', 'Secret'),
  metadata,
  spec: fc.dictionary(awkwardKey, fc.jsonValue({ maxDepth: 3 }), { maxKeys: 5 }),
  data: fc.dictionary(awkwardKey, fc.string(), { maxKeys: 3 }),
}, { requiredKeys: ['kind'] })
const kind = fc.constantFrom(
  { group: 'apps', version: 'v1', kind: 'Deployment' },
  { group: '', version: 'v1', kind: 'ConfigMap' },
  { group: 'sluice.dev', version: 'v1beta1', kind: 'Canary' },
)
const request = fc.record({
  uid: fc.oneof(fc.uuid(), fc.string({ minLength: 1, maxLength: 40 })),
  kind,
  resource: fc.constant({ group: 'apps', version: 'v1', resource: 'deployments' }),
  operation: fc.constantFrom('CREATE', 'UPDATE', 'DELETE', 'CONNECT'),
  namespace: fc.string({ maxLength: 20 }),
  name: fc.string({ maxLength: 20 }),
  userInfo: fc.record({ username: fc.string(), groups: fc.array(fc.string(), { maxLength: 3 }) }, { requiredKeys: [] }),
  object: fc.option(kubeObject, { nil: null }),
  oldObject: fc.option(kubeObject, { nil: null }),
  dryRun: fc.boolean(),
}, { requiredKeys: ['uid', 'kind', 'resource', 'operation'] })
const validReview = request.map(r => ({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: r }))

// Like the real interception: annotate the object with keys it already has; unusable keys make the builder throw.
function mutate(r: AdmissionRequest): AdmissionVerdict {
  const target = r.object
  if (!target) return allow()
  const ops: PatchOperation[] = [setAnnotation(target, 'status.sluice.dev/seen', r.uid)]
  for (const key of Object.keys(target.metadata?.annotations ?? {}).slice(0, 2)) ops.push(setAnnotation(target, key, 'x'))
  return allowWithPatch(ops, [`saw ${r.operation}\n${r.name ?? ''}`])
}

function guard(r: AdmissionRequest): AdmissionVerdict {
  const labels = r.object?.metadata?.labels ?? {}
  return Object.hasOwn(labels, '__proto__') ? deny(`label __proto__ on ${r.name ?? ''}`) : allow()
}

const app = server({ mutateDeployments: mutate, validateGuard: guard })
t.teardown(() => app.close())

interface Reply { statusCode: number; body: string }

type Seen = 'invalid' | 'allowed' | 'patched' | 'denied'

function checkBadRequest(res: Reply): Seen {
  const body = JSON.parse(res.body) as { message?: unknown }
  if (typeof body.message !== 'string' || !body.message.startsWith('AdmissionReview: ')) throw new Error(`400 without a reason: ${res.body}`)
  return 'invalid'
}

function checkPatch(sent: unknown, patch: string, uid: unknown): void {
  const object = (sent as { request: { object: unknown } }).request.object
  const patched = applyPatch(object, patchOf({ patch }) as PatchOperation[])
  if (valueAt(patched, ['metadata', 'annotations', 'status.sluice.dev/seen']) !== uid) throw new Error('the patch did not apply as meant')
}

function checkReply(res: Reply, sent: unknown): Seen {
  if (res.statusCode === 400) return checkBadRequest(res)
  if (res.statusCode !== 200) throw new Error(`status ${res.statusCode}: ${res.body}`)
  const uid = (sent as { request?: { uid?: unknown } } | null)?.request?.uid
  const body = JSON.parse(res.body) as { apiVersion: string; kind: string; response: { uid: unknown; allowed: unknown; patch?: string; warnings?: string[] } }
  if (body.apiVersion !== 'admission.k8s.io/v1' || body.kind !== 'AdmissionReview') throw new Error(`not a review: ${res.body}`)
  if (body.response.uid !== uid) throw new Error(`uid ${String(body.response.uid)} does not echo ${String(uid)}`)
  if (typeof body.response.allowed !== 'boolean') throw new Error('allowed is not a boolean')
  if ((body.response.warnings ?? []).some(w => /\p{Cc}/u.test(w))) throw new Error(`control character in warnings ${res.body}`)
  if (body.response.patch === undefined) return body.response.allowed ? 'allowed' : 'denied'
  checkPatch(sent, body.response.patch, uid)
  return 'patched'
}

t.test('generated reviews always get a 200 review echoing the uid, with patches that apply', async t => {
  const seen = new Set<Seen>()
  await fc.assert(fc.asyncProperty(validReview, fc.constantFrom(MUTATE_DEPLOYMENTS_PATH, VALIDATE_GUARD_PATH), async (sent, url) => {
    const res = await app.inject({ method: 'POST', url, headers: { 'content-type': 'application/json' }, payload: JSON.stringify(sent) })
    if (res.statusCode !== 200) throw new Error(`expected 200 for a well-formed review, got ${res.statusCode}: ${res.body}`)
    seen.add(checkReply(res, sent))
  }), { numRuns: 300 })
  t.same([...seen].sort(), ['allowed', 'denied', 'patched'], 'the runs reached admissions, patches and denials')
})

t.test('damaged reviews get a 400 with a reason or a valid review, never a crash', async t => {
  const damaged = fc.oneof(
    fc.jsonValue(),
    validReview.chain(r => fc.constantFrom('uid', 'kind', 'resource', 'operation', 'object', 'userInfo').chain(field =>
      fc.jsonValue({ maxDepth: 2 }).map(value => ({ ...r, request: { ...r.request, [field]: value } })))),
    validReview.chain(r => fc.constantFrom('apiVersion', 'kind', 'request').chain(field =>
      fc.jsonValue({ maxDepth: 2 }).map(value => ({ ...r, [field]: value })))),
  )
  await fc.assert(fc.asyncProperty(damaged, async sent => {
    const res = await app.inject({ method: 'POST', url: MUTATE_DEPLOYMENTS_PATH, headers: { 'content-type': 'application/json' }, payload: JSON.stringify(sent) ?? '' })
    checkReply(res, sent)
  }), { numRuns: 300 })
  await fc.assert(fc.asyncProperty(fc.string(), async body => {
    const res = await app.inject({ method: 'POST', url: MUTATE_DEPLOYMENTS_PATH, headers: { 'content-type': 'application/json' }, payload: body })
    if (res.statusCode !== 400 && res.statusCode !== 200) throw new Error(`status ${res.statusCode}`)
  }), { numRuns: 200 })
  t.equal(unhandled.length, 0, 'no unhandled rejections')
})
