import t from 'tap'
import { allow, allowWithPatch, decodeAdmissionReview, decodeAdmissionReviewValue, deny, toAdmissionReview, withWarnings } from '../../../src/admission/review.ts'
import { add } from '../../../src/kube/json-patch.ts'
import { patchOf, review, sentDeployment } from './fixtures.ts'

function reasonOf(body: string): string {
  const r = decodeAdmissionReview(body)
  if (r.ok) throw new Error('expected a failure')
  return r.reason
}

t.test('a well-formed review decodes into its request', async t => {
  const r = decodeAdmissionReview(JSON.stringify(review()))
  t.ok(r.ok)
  if (!r.ok) return
  t.equal(r.request.uid, '705ab4f5-6393-11e8-b7cc-42010a800002')
  t.equal(r.request.operation, 'CREATE')
  t.same(r.request.kind, { group: 'apps', version: 'v1', kind: 'Deployment' })
  t.equal(r.request.object?.metadata?.annotations?.['sluice.dev/strategy'], 'canary')
  t.equal(r.request.oldObject, undefined, 'a null oldObject reads as absent')
  t.equal(r.request.userInfo.username, 'alice')
})

t.test('malformed JSON is a reason that quotes nothing of the body', async t => {
  const reason = reasonOf('{"apiVersion": "admission.k8s.io/v1", "secret": "hunter2"')
  t.match(reason, /^AdmissionReview: the body is not valid JSON/)
  t.notMatch(reason, /hunter2/)
  t.match(reasonOf(''), /not valid JSON/)
})

t.test('the envelope must be an AdmissionReview v1 with a request', async t => {
  t.match(reasonOf('[]'), /the body must be an AdmissionReview object \(got an array\)/)
  t.match(reasonOf('"x"'), /the body must be an AdmissionReview object/)
  t.match(reasonOf('null'), /got null/)
  t.match(reasonOf(JSON.stringify(review({}, { kind: 'ConversionReview' }))), /kind must be "AdmissionReview" \(got "ConversionReview"\)/)
  t.match(reasonOf(JSON.stringify(review({}, { apiVersion: 'admission.k8s.io/v1beta1' }))),
    /apiVersion must be "admission.k8s.io\/v1" \(got "admission.k8s.io\/v1beta1"\): register the webhook with admissionReviewVersions: \[v1\]/)
  t.match(reasonOf(JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview' })), /request is missing/)
  t.match(reasonOf(JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: 'x' })), /request must be an object/)
})

t.test('the request needs a uid, an operation, a kind and a resource', async t => {
  t.match(reasonOf(JSON.stringify(review({ uid: undefined }))), /request.uid is missing/)
  t.match(reasonOf(JSON.stringify(review({ uid: '' }))), /request.uid is missing/)
  t.match(reasonOf(JSON.stringify(review({ uid: 42 }))), /request.uid must be a string \(got number 42\)/)
  t.match(reasonOf(JSON.stringify(review({ operation: 'PATCH' }))), /request.operation must be one of CREATE, UPDATE, DELETE, CONNECT \(got "PATCH"\)/)
  t.match(reasonOf(JSON.stringify(review({ kind: undefined }))), /request.kind is missing/)
  t.match(reasonOf(JSON.stringify(review({ kind: { group: 'apps', version: 'v1' } }))), /request.kind.kind is missing/)
  t.match(reasonOf(JSON.stringify(review({ resource: { group: 'apps', version: 'v1' } }))), /request.resource.resource is missing/)
})

t.test('objects and their metadata must have the shapes handlers rely on', async t => {
  t.match(reasonOf(JSON.stringify(review({ object: [1] }))), /request.object must be an object \(got an array\)/)
  t.match(reasonOf(JSON.stringify(review({ object: { metadata: 'x' } }))), /request.object.metadata must be an object/)
  t.match(reasonOf(JSON.stringify(review({ oldObject: { metadata: { annotations: { a: 1 } } } }))), /request.oldObject.metadata.annotations must be a map of strings/)
  t.match(reasonOf(JSON.stringify(review({ object: { metadata: { labels: [] } } }))), /request.object.metadata.labels must be a map of strings/)
  t.match(reasonOf(JSON.stringify(review({ userInfo: { groups: 'admins' } }))), /request.userInfo.groups must be a list of strings/)
  t.match(reasonOf(JSON.stringify(review({ dryRun: 'yes' }))), /request.dryRun must be a boolean/)
})

t.test('a DELETE carries only oldObject, and kinds other than Deployment decode too', async t => {
  const del = decodeAdmissionReviewValue(review({ operation: 'DELETE', object: null, oldObject: sentDeployment() }))
  t.ok(del.ok && del.request.object === undefined && del.request.oldObject?.kind === 'Deployment')
  const cm = decodeAdmissionReviewValue(review({
    kind: { group: '', version: 'v1', kind: 'ConfigMap' }, resource: { group: '', version: 'v1', resource: 'configmaps' },
    object: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, data: { __proto__: 'x', 'a/b~c': 'y' } },
  }))
  t.ok(cm.ok && cm.request.kind.kind === 'ConfigMap')
})

t.test('"__proto__" keys in a body stay ordinary keys', async t => {
  const r = decodeAdmissionReview('{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u","operation":"CREATE",' +
    '"kind":{"group":"","version":"v1","kind":"ConfigMap"},"resource":{"group":"","version":"v1","resource":"configmaps"},' +
    '"object":{"metadata":{"name":"c","labels":{"__proto__":"x"}},"data":{"__proto__":{"polluted":true}}}}}')
  t.ok(r.ok)
  t.equal(({} as Record<string, unknown>).polluted, undefined, 'Object.prototype untouched')
  if (r.ok) t.equal(Object.getPrototypeOf(r.request.object?.data), Object.prototype)
})

t.test('builders: allow, patch, deny, warnings; the review always carries the uid', async t => {
  t.same(allow(), { allowed: true })
  t.same(allowWithPatch([]), { allowed: true }, 'an empty patch is a plain admission')
  const patched = allowWithPatch([add(['spec', 'replicas'], 0)], ['canary podinfo: 5 steps'])
  t.equal(patched.patchType, 'JSONPatch')
  t.same(patchOf(patched), [{ op: 'add', path: '/spec/replicas', value: 0 }])
  t.same(patched.warnings, ['canary podinfo: 5 steps'])
  t.same(deny('Deployment shop/podinfo: annotation sluice.dev/analysis: stepWeight must be between 1 and 100 (got 0)'), {
    allowed: false,
    status: { status: 'Failure', code: 403, reason: 'Forbidden', message: 'Deployment shop/podinfo: annotation sluice.dev/analysis: stepWeight must be between 1 and 100 (got 0)' },
  })
  t.match(deny('bad', { code: 422 }).status, { code: 422, reason: 'Invalid' })
  t.same(withWarnings(allow(['a']), ['line one\nline two\t', '\u0007']).warnings, ['a', 'line one line two'], 'control characters are dropped')
  const out = toAdmissionReview('uid-1', { ...deny('no'), uid: 'forged' } as never)
  t.equal(out.response?.uid, 'uid-1')
  t.equal(out.apiVersion, 'admission.k8s.io/v1')
  t.equal(out.kind, 'AdmissionReview')
})
