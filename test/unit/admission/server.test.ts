import t from 'tap'
import { pino } from 'pino'
import { Registry } from 'prom-client'
import { MUTATE_DEPLOYMENTS_PATH, VALIDATE_GUARD_PATH } from '../../../src/admission/server.ts'
import { admissionMetrics } from '../../../src/admission/admission-metrics.ts'
import { allowWithPatch, deny } from '../../../src/admission/review.ts'
import { setAnnotation } from '../../../src/kube/json-patch.ts'
import { patchOf, review, sentDeployment, server } from './fixtures.ts'
import { deploymentHandler } from '../../../src/admission/deployments.ts'
import type { AdmissionRequest } from '../../../src/admission/review.ts'
import { warmUpReviews } from '../../../src/admission/warm-up.ts'

// The Deployment handler as the webhook runs it, with caches that hold nothing: no policy, no labels, no references.
const decideWithoutCaches = (request: AdmissionRequest) => deploymentHandler({
  sluiceUsername: 'system:serviceaccount:sluice-system:sluice',
  policies: () => [], namespaceLabels: () => undefined, refs: { metricTemplate: () => false, alertProvider: () => false },
})(request)

const unhandled: unknown[] = []
process.on('unhandledRejection', err => unhandled.push(err))
t.teardown(() => { if (unhandled.length > 0) throw new Error(`unhandled rejections: ${unhandled.length}`) })

interface ReviewBody { apiVersion: string; kind: string; response: { uid: string; allowed: boolean; patch?: string; patchType?: string; warnings?: string[]; status?: { code: number; message: string } } }

t.test('a Deployment review gets the handler\'s patch and warnings, with the uid echoed', async t => {
  const app = server({
    mutateDeployments: r => allowWithPatch([setAnnotation(r.object, 'status.sluice.dev/replicas', '3')], ['canary podinfo: 5 steps of 20% every 1m']),
  })
  t.teardown(() => app.close())
  const res = await app.inject({ method: 'POST', url: MUTATE_DEPLOYMENTS_PATH, payload: review() })
  t.equal(res.statusCode, 200)
  const body = res.json<ReviewBody>()
  t.equal(body.apiVersion, 'admission.k8s.io/v1')
  t.equal(body.kind, 'AdmissionReview')
  t.equal(body.response.uid, '705ab4f5-6393-11e8-b7cc-42010a800002')
  t.equal(body.response.allowed, true)
  t.equal(body.response.patchType, 'JSONPatch')
  t.same(patchOf(body.response), [{ op: 'add', path: '/metadata/annotations/status.sluice.dev~1replicas', value: '3' }])
  t.same(body.response.warnings, ['canary podinfo: 5 steps of 20% every 1m'])
})

t.test('without handlers both webhooks admit', async t => {
  const app = server()
  t.teardown(() => app.close())
  for (const url of [MUTATE_DEPLOYMENTS_PATH, VALIDATE_GUARD_PATH]) {
    const res = await app.inject({ method: 'POST', url, payload: review() })
    t.same(res.json<ReviewBody>().response, { uid: '705ab4f5-6393-11e8-b7cc-42010a800002', allowed: true })
  }
})

t.test('a throwing handler is a 200 denial with its message, never a 500 or a stack', async t => {
  const app = server({ mutateDeployments: async () => { await Promise.resolve(); throw new Error('boom at spec/parse.ts') }, validateGuard: () => { throw new TypeError('x is undefined') } })
  t.teardown(() => app.close())
  const res = await app.inject({ method: 'POST', url: MUTATE_DEPLOYMENTS_PATH, payload: review() })
  t.equal(res.statusCode, 200)
  const body = res.json<ReviewBody>()
  t.equal(body.response.allowed, false)
  t.equal(body.response.uid, '705ab4f5-6393-11e8-b7cc-42010a800002')
  t.same(body.response.status, { status: 'Failure', code: 500, reason: 'InternalError', message: 'sluice /mutate/deployments: internal error: boom at spec/parse.ts' })
  t.notMatch(res.body, /\n\s+at /, 'no stack trace')
  const guard = await app.inject({ method: 'POST', url: VALIDATE_GUARD_PATH, payload: review() })
  t.match(guard.json<ReviewBody>().response, { allowed: false, status: { message: /internal error: x is undefined/ } })
})

t.test('structurally invalid reviews are 400s with a reason', async t => {
  const app = server({ mutateDeployments: () => deny('never reached') })
  t.teardown(() => app.close())
  const send = (payload: string) => app.inject({ method: 'POST', url: MUTATE_DEPLOYMENTS_PATH, headers: { 'content-type': 'application/json' }, payload })
  const cases: [string, RegExp][] = [
    ['{not json', /the body is not valid JSON/],
    ['', /the body is not valid JSON/],
    [JSON.stringify(review({}, { kind: 'Pod' })), /kind must be "AdmissionReview"/],
    [JSON.stringify(review({}, { apiVersion: 'admission.k8s.io/v1beta1' })), /apiVersion must be "admission.k8s.io\/v1"/],
    [JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview' }), /request is missing/],
    [JSON.stringify(review({ uid: undefined })), /request.uid is missing/],
  ]
  for (const [payload, reason] of cases) {
    const res = await send(payload)
    t.equal(res.statusCode, 400, reason.source)
    t.match(res.json(), { statusCode: 400, error: 'Bad Request', message: reason })
  }
  const noType = await app.inject({ method: 'POST', url: MUTATE_DEPLOYMENTS_PATH, payload: 'x', headers: { 'content-type': 'application/xml' } })
  t.equal(noType.statusCode, 415, 'an unknown content type is refused')
})

t.test('a non-Deployment object sent to the Deployment webhook is admitted untouched', async t => {
  let called = 0
  const app = server({ mutateDeployments: () => { called++; return deny('no') } })
  t.teardown(() => app.close())
  const res = await app.inject({
    method: 'POST', url: MUTATE_DEPLOYMENTS_PATH,
    payload: review({
      kind: { group: '', version: 'v1', kind: 'ConfigMap' }, resource: { group: '', version: 'v1', resource: 'configmaps' },
      object: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: 'shop' }, data: { 'a/b': '~' } },
    }),
  })
  t.same(res.json<ReviewBody>().response, { uid: '705ab4f5-6393-11e8-b7cc-42010a800002', allowed: true })
  t.equal(called, 0)
})

t.test('a 3 MiB UPDATE review (object and oldObject) is accepted; past the limit is 413', async t => {
  const app = server({ mutateDeployments: r => allowWithPatch([setAnnotation(r.object, 'size', String(JSON.stringify(r.object).length))]) })
  t.teardown(() => app.close())
  const big = 'x'.repeat(3 * 1024 * 1024 - 4096)
  const object = { ...sentDeployment('big'), data: big }
  const payload = JSON.stringify(review({ operation: 'UPDATE', object, oldObject: object }))
  t.ok(payload.length > 6_000_000, `the review is ${payload.length} bytes`)
  const res = await app.inject({ method: 'POST', url: MUTATE_DEPLOYMENTS_PATH, headers: { 'content-type': 'application/json' }, payload })
  t.equal(res.statusCode, 200)
  t.equal(res.json<ReviewBody>().response.allowed, true)

  const small = server({ bodyLimit: 1024 })
  t.teardown(() => small.close())
  const tooBig = await small.inject({ method: 'POST', url: MUTATE_DEPLOYMENTS_PATH, headers: { 'content-type': 'application/json' }, payload })
  t.equal(tooBig.statusCode, 413)
  t.match(tooBig.json(), { statusCode: 413, message: /too large/i })
  const over = JSON.stringify(review({ operation: 'UPDATE', object: { ...sentDeployment('big'), data: 'x'.repeat(9 * 1024 * 1024) } }))
  const defaultLimit = await app.inject({ method: 'POST', url: MUTATE_DEPLOYMENTS_PATH, headers: { 'content-type': 'application/json' }, payload: over })
  t.equal(defaultLimit.statusCode, 413, 'the default limit is finite')
})

t.test('health, readiness and unknown paths', async t => {
  const app = server()
  t.teardown(() => app.close())
  t.equal((await app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200)
  const notReady = await app.inject({ method: 'GET', url: '/readyz' })
  t.equal(notReady.statusCode, 503)
  t.match(notReady.json(), { reason: /informer caches/ })
  app.setCachesSynced(true)
  t.equal((await app.inject({ method: 'GET', url: '/readyz' })).statusCode, 200)
  app.setCachesSynced(false)
  t.equal((await app.inject({ method: 'GET', url: '/readyz' })).statusCode, 503)
  t.equal((await app.inject({ method: 'POST', url: '/mutate/pods', payload: review() })).statusCode, 404)
})

t.test('extra routes are served, and metrics record each result', async t => {
  const registry = new Registry()
  const app = server({
    metrics: admissionMetrics(registry),
    routes: [{ path: '/validate/policies', type: 'validating', accepts: [{ group: 'sluice.dev', kind: 'DeliveryPolicy' }], handler: () => deny('mode must be enforce or audit', { code: 422 }) }],
  })
  t.teardown(() => app.close())
  const res = await app.inject({
    method: 'POST', url: '/validate/policies',
    payload: review({ kind: { group: 'sluice.dev', version: 'v1beta1', kind: 'DeliveryPolicy' }, resource: { group: 'sluice.dev', version: 'v1beta1', resource: 'deliverypolicies' } }),
  })
  t.match(res.json<ReviewBody>().response, { allowed: false, status: { code: 422, message: 'mode must be enforce or audit' } })
  await app.inject({ method: 'POST', url: MUTATE_DEPLOYMENTS_PATH, payload: '{', headers: { 'content-type': 'application/json' } })
  const text = await registry.metrics()
  t.match(text, /sluice_admission_review_duration_seconds_count\{path="\/validate\/policies",result="denied"\} 1/)
  t.match(text, /sluice_admission_review_duration_seconds_count\{path="\/mutate\/deployments",result="invalid"\} 1/)
})

t.test('reloadCertificate refuses a key that does not match, keeping the current one', async t => {
  const app = server()
  t.teardown(() => app.close())
  const { ca, leaf } = await import('./fixtures.ts').then(f => f.localCertificate())
  t.throws(() => app.reloadCertificate(leaf.certPem, ca.keyPem))
  t.doesNotThrow(() => app.reloadCertificate(leaf.certPem, leaf.keyPem))
})

t.test('the warm-up runs the real decision on each sample, answers patched, and is left out of the metrics and the log', async t => {
  const registry = new Registry()
  const seen: string[] = []
  const app = server({
    metrics: admissionMetrics(registry),
    mutateDeployments: request => {
      seen.push(request.uid)
      return decideWithoutCaches(request)
    },
  })
  t.teardown(() => app.close())
  const samples = warmUpReviews()
  const result = await app.warmUp(samples, 3)
  // Denials would mean the samples stop at validation and leave the plan and revision paths cold.
  t.same(result.results, { patched: 9 })
  t.equal(result.reviews, 9)
  t.same(seen, [0, 1, 2].flatMap(() => ['warm-up-create', 'warm-up-revision', 'warm-up-same']))
  t.notMatch(await registry.metrics(), /sluice_admission_review_duration_seconds_count\{/)
  await app.inject({ method: 'POST', url: MUTATE_DEPLOYMENTS_PATH, payload: samples[0]!.body, headers: { 'content-type': 'application/json' } })
  t.match(await registry.metrics(), /sluice_admission_review_duration_seconds_count\{path="\/mutate\/deployments",result="patched"\} 1/)
})

t.test('a warm-up review for a path the server does not serve is answered 404 and counted as such', async t => {
  const app = server()
  t.teardown(() => app.close())
  const result = await app.warmUp([{ path: '/mutate/pods', body: warmUpReviews()[0]!.body }], 2)
  t.same(result.results, { 'HTTP 404': 2 })
})

t.test('warm-up reviews a cluster policy denies are not logged; a real review after it is', async t => {
  const lines: string[] = []
  const app = server({ logger: pino({ level: 'info' }, { write: (l: string) => { lines.push(l) } }), mutateDeployments: () => deny('policy shop-guard: stepWeight above 5', { code: 422 }) })
  t.teardown(() => app.close())
  t.same((await app.warmUp(warmUpReviews(), 2)).results, { denied: 6 })
  t.equal(lines.filter(l => l.includes('admission denied')).length, 0)
  await app.inject({ method: 'POST', url: MUTATE_DEPLOYMENTS_PATH, payload: warmUpReviews()[0]!.body, headers: { 'content-type': 'application/json' } })
  t.equal(lines.filter(l => l.includes('admission denied')).length, 1)
})
