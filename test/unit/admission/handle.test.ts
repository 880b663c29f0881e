import t from 'tap'
import { runHandler } from '../../../src/admission/handle.ts'
import type { AdmissionHandler, AdmissionRoute } from '../../../src/admission/handle.ts'
import { allow, allowWithPatch, decodeAdmissionReviewValue, deny } from '../../../src/admission/review.ts'
import type { AdmissionRequest } from '../../../src/admission/review.ts'
import { add } from '../../../src/kube/json-patch.ts'
import { review } from './fixtures.ts'

const decoded = decodeAdmissionReviewValue(review())
if (!decoded.ok) throw new Error(decoded.reason)
const request: AdmissionRequest = decoded.request

function route(handler: AdmissionHandler, extra: Partial<AdmissionRoute> = {}): AdmissionRoute {
  return { path: '/mutate/deployments', type: 'mutating', handler, ...extra }
}

t.test('a handler that throws, synchronously or not, yields a denial with its message', async t => {
  for (const handler of [
    () => { throw new Error('annotation parser blew up') },
    () => Promise.reject(new Error('annotation parser blew up')),
    async () => { await Promise.resolve(); throw new Error('annotation parser blew up') },
  ] as AdmissionHandler[]) {
    const outcome = await runHandler(route(handler), request)
    t.equal(outcome.kind, 'failed')
    t.same(outcome.verdict, {
      allowed: false,
      status: { status: 'Failure', code: 500, reason: 'InternalError', message: 'sluice /mutate/deployments: internal error: annotation parser blew up' },
    })
  }
  const thrownString = await runHandler(route(() => { throw 'plain string' as unknown as Error }), request)
  t.match(thrownString.verdict.status?.message, /internal error: plain string/)
})

t.test('a malformed verdict is a denial, not a broken review', async t => {
  const cases: [unknown, RegExp][] = [
    [undefined, /returned no verdict/],
    [{ allowed: 'yes' }, /returned no verdict/],
    [{ allowed: true, patch: [{ op: 'add' }] }, /not base64 JSONPatch/],
    [{ allowed: true, warnings: [1] }, /warnings that are not strings/],
    [{ allowed: false, status: { code: 'x' } }, /status code that is not an HTTP code/],
    [{ allowed: true, auditAnnotations: 'x' }, /auditAnnotations that are not a map/],
  ]
  for (const [verdict, message] of cases) {
    const outcome = await runHandler(route(() => verdict as never), request)
    t.equal(outcome.verdict.allowed, false)
    t.match(outcome.verdict.status?.message, message)
  }
})

t.test('a validating handler may not patch', async t => {
  const outcome = await runHandler(route(() => allowWithPatch([add(['a'], 1)]), { type: 'validating', path: '/validate/guard' }), request)
  t.equal(outcome.verdict.allowed, false)
  t.match(outcome.verdict.status?.message, /sluice \/validate\/guard: internal error: a validating handler returned a patch/)
})

t.test('unknown fields of a verdict are dropped, known ones kept', async t => {
  const outcome = await runHandler(route(() => ({ ...deny('no', { warnings: ['w'] }), uid: 'forged', extra: 1 }) as never), request)
  t.same(outcome.verdict, { allowed: false, status: { status: 'Failure', code: 403, reason: 'Forbidden', message: 'no' }, warnings: ['w'] })
})

t.test('kinds a route does not accept are admitted without calling the handler', async t => {
  let called = false
  const r = route(() => { called = true; return deny('no') }, { accepts: [{ group: 'apps', kind: 'StatefulSet' }] })
  const outcome = await runHandler(r, request)
  t.equal(outcome.kind, 'skipped')
  t.same(outcome.verdict, allow())
  t.notOk(called)
})
