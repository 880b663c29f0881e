// src/kube helpers (placed here because this session may only add tests under test/unit/{admission,certs}).
import t from 'tap'
import { ApiException } from '@kubernetes/client-node'
import { describeError, isConflict, isNotFound, readApiError } from '../../../src/kube/errors.ts'
import { backoffDelays, DEFAULT_BACKOFF, retryOnConflict } from '../../../src/kube/retry.ts'
import { loadKubeConfig } from '../../../src/kube/config.ts'

const conflictMessage = 'Operation cannot be fulfilled on secrets "sluice-webhook-certs": the object has been modified; please apply your changes to the latest version and try again'
const conflictBody = JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'Conflict', code: 409, message: conflictMessage })

t.test('readApiError reads the Status from a client-node 2.x ApiException whose body is a raw string', async t => {
  const err = new ApiException(409, 'Unknown API Status Code!', conflictBody, { 'content-type': 'application/json' })
  t.same(readApiError(err), { code: 409, reason: 'Conflict', message: conflictMessage })
  t.ok(isConflict(err))
  t.notOk(isNotFound(err))
  t.same(readApiError(new ApiException(404, 'x', { reason: 'NotFound', message: 'secrets "x" not found' }, {})), { code: 404, reason: 'NotFound', message: 'secrets "x" not found' })
  t.same(readApiError(new ApiException(401, 'Unauthorized', undefined, {})), { code: 401, reason: 'Unauthorized', message: 'HTTP 401 Unauthorized' })
  t.same(readApiError(new ApiException(502, 'x', '<html>bad gateway</html>', {})), { code: 502, reason: 'InternalError', message: '<html>bad gateway</html>' })
  t.equal(readApiError(new Error('ECONNREFUSED')), undefined)
  t.equal(readApiError('x'), undefined)
  t.equal(describeError(err), `409 Conflict: ${conflictMessage}`)
  t.equal(describeError(new Error('ECONNREFUSED')), 'ECONNREFUSED')
})

t.test('the default backoff is client-go\'s: 4 attempts, 10 ms × 5', async t => {
  t.same(backoffDelays(DEFAULT_BACKOFF), [10, 50, 250])
})

t.test('retryOnConflict retries 409s with jittered waits and gives up with the last error', async t => {
  const waits: number[] = []
  let calls = 0
  const conflict = () => new ApiException(409, 'x', conflictBody, {})
  const result = await retryOnConflict(async () => { if (++calls < 3) throw conflict(); return 'ok' }, { sleep: async ms => { waits.push(ms) }, random: () => 1 })
  t.equal(result, 'ok')
  t.same(waits.map(Math.round), [11, 55], 'each wait lengthened by up to 10%')
  calls = 0
  waits.length = 0
  await t.rejects(retryOnConflict(async () => { calls++; throw conflict() }, { sleep: async ms => { waits.push(ms) }, random: () => 0 }), { code: 409 })
  t.equal(calls, 4)
  t.same(waits, [10, 50, 250])
  calls = 0
  await t.rejects(retryOnConflict(async () => { calls++; throw new ApiException(500, 'x', '{}', {}) }, { sleep: async () => {} }), { code: 500 })
  t.equal(calls, 1, 'other errors are not retried')
})

t.test('loadKubeConfig: an explicit file and context; an unknown context is named', async t => {
  const dir = t.testdir({
    kubeconfig: `apiVersion: v1
kind: Config
clusters:
- {name: local, cluster: {server: 'https://127.0.0.1:6443'}}
- {name: other, cluster: {server: 'https://10.0.0.1:6443'}}
users:
- {name: sluice, user: {token: not-a-real-token}}
contexts:
- {name: local, context: {cluster: local, user: sluice}}
- {name: other, context: {cluster: other, user: sluice}}
current-context: local
`,
  })
  t.equal(loadKubeConfig({ path: `${dir}/kubeconfig` }).getCurrentCluster()?.server, 'https://127.0.0.1:6443')
  t.equal(loadKubeConfig({ path: `${dir}/kubeconfig`, context: 'other' }).getCurrentCluster()?.server, 'https://10.0.0.1:6443')
  t.throws(() => loadKubeConfig({ path: `${dir}/kubeconfig`, context: 'prod' }), /context "prod" does not exist \(known: local, other\)/)
})
