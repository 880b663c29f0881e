// The dashboard's security against the real API server. In-cluster mode (--authenticate), as its own
// ServiceAccount with manifests/optional/dashboard-rbac.yaml: no token is 401, a token the API server does
// not accept is 401, a user who may only read Canaries sees them and is refused an abort (403, naming the
// verb and resource), a user with patch is let through to the same answers as the CLI's, and a user with no
// rights sees nothing. Local mode: an action from another site (Origin, Host) is refused.
import t from 'tap'
import { request } from 'node:http'
import { resolve } from 'node:path'
import { GROUP, VERSION, type Canary } from '../../../src/api/types.ts'
import { canaryUser, serviceAccountKubeconfig, sluiceRunning } from '../../helpers/cli.ts'
import { kubeConfig, kubectlOk, namespace, type TestLike } from '../../helpers/kube.ts'
import { canary, manifest } from '../../helpers/objects.ts'
import { CustomObjectsApi } from '@kubernetes/client-node'

const ROOT = resolve(import.meta.dirname, '../../..')
const custom = kubeConfig().makeApiClient(CustomObjectsApi)

async function dashboard(t: TestLike, args: readonly string[]): Promise<string> {
  const running = sluiceRunning(t, ['dashboard', '--port', '0', ...args])
  const out = await running.waitFor(/serving (http:\/\/\S+)/, 'the dashboard to serve', 30_000)
  return /serving (http:\/\/\S+)\//.exec(out)![1]!
}

async function handWritten(ns: string): Promise<Canary> {
  const c = canary({ metadata: { namespace: ns }, spec: { analysis: { interval: '10s', threshold: 2, iterations: 3 } } })
  await custom.createNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: ns, plural: 'canaries', body: manifest(c) })
  return c
}

const read = async (ns: string): Promise<Canary> =>
  await custom.getNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: ns, plural: 'canaries', name: 'podinfo' }) as Canary

interface Answer { status: number; body: string }

async function call(url: string, o: { token?: string; post?: boolean; headers?: Record<string, string> } = {}): Promise<Answer> {
  const headers: Record<string, string> = { ...(o.token && { authorization: `Bearer ${o.token}` }), ...(o.post && { 'content-type': 'application/json' }), ...o.headers }
  const res = await fetch(url, { method: o.post ? 'POST' : 'GET', headers, ...(o.post && { body: '{}' }) })
  return { status: res.status, body: await res.text() }
}

t.test('--authenticate: TokenReview for the caller, SubjectAccessReview for each read and action', async t => {
  await kubectlOk(['apply', '-f', resolve(ROOT, 'manifests/optional/dashboard-rbac.yaml')])
  const own = await serviceAccountKubeconfig('sluice-system', 'sluice-dashboard')
  const ns = await namespace(t)
  await handWritten(ns)
  const token = async (name: string, verbs: string[]): Promise<string> => {
    await canaryUser(ns, name, verbs)
    return (await serviceAccountKubeconfig(ns, name)).token
  }
  const viewer = await token('viewer', ['get', 'list', 'watch'])
  const operator = await token('operator', ['get', 'list', 'watch', 'patch'])
  const nobody = await token('nobody', [])
  const url = await dashboard(t, ['--authenticate', '-A', '--kubeconfig', own.path])
  const abort = `${url}/r/${ns}/podinfo/actions/abort`

  const anonymous = await call(`${url}/`)
  t.equal(anonymous.status, 401)
  t.match(anonymous.body, /no bearer token: this dashboard runs with --authenticate/)
  t.equal((await call(abort, { post: true })).status, 401, 'no token, no action')
  t.equal((await call(`${url}/live`)).status, 401, 'no token, no event stream')
  const forged = await call(`${url}/`, { token: 'not-a-token' })
  t.equal(forged.status, 401)
  t.match(forged.body, /the API server did not accept the bearer token/)

  const list = await call(`${url}/`, { token: viewer })
  t.equal(list.status, 200)
  t.match(list.body, `<a href="/r/${ns}/podinfo">podinfo</a>`, 'the viewer sees the release')
  const page = await call(`${url}/r/${ns}/podinfo`, { token: viewer })
  t.equal(page.status, 200)
  t.match(page.body, /<span id="phase" class="phase ">Pending<\/span>/)
  const refused = await call(abort, { token: viewer, post: true })
  t.equal(refused.status, 403)
  t.same(JSON.parse(refused.body), { error: `canaries.sluice.dev "podinfo" is forbidden: User "system:serviceaccount:${ns}:viewer" cannot patch resource "canaries" in API group "sluice.dev" in the namespace "${ns}"` })
  t.equal((await read(ns)).metadata.annotations?.['sluice.dev/abort'], undefined, 'nothing was written')

  const tooEarly = await call(abort, { token: operator, post: true })
  t.equal(tooEarly.status, 409, 'authorised: then the CLI\'s own refusal for the phase')
  t.same(JSON.parse(tooEarly.body), { error: 'Canary podinfo is Initializing: no release is running, nothing to abort' })
  const paused = await call(`${url}/r/${ns}/podinfo/actions/pause`, { token: operator, post: true })
  t.equal(paused.status, 200, 'the operator pauses it')
  t.same(JSON.parse(paused.body), { message: `Canary ${ns}/podinfo: spec.suspend set to true` })
  t.equal((await read(ns)).spec.suspend, true, 'written with the dashboard\'s credentials once the operator was authorised')

  const hidden = await call(`${url}/`, { token: nobody })
  t.equal(hidden.status, 200)
  t.notMatch(hidden.body, `/r/${ns}/podinfo`, 'a user who may not list Canaries there does not see them')
  const closed = await call(`${url}/r/${ns}/podinfo`, { token: nobody })
  t.equal(closed.status, 403)
  t.match(closed.body, `canaries.sluice.dev &quot;podinfo&quot; is forbidden: User &quot;system:serviceaccount:${ns}:nobody&quot; cannot get resource &quot;canaries&quot;`)
})

t.test('local mode: an action from another site is refused before anything is written', async t => {
  const ns = await namespace(t)
  await handWritten(ns)
  const url = await dashboard(t, ['-n', ns])
  const pause = `${url}/r/${ns}/podinfo/actions/pause`
  const host = new URL(url).host
  const crossSite = await call(pause, { post: true, headers: { origin: 'https://evil.example' } })
  t.equal(crossSite.status, 403)
  t.match(JSON.parse(crossSite.body), { error: `refused: Origin https://evil.example is not this dashboard (${host})` })
  const form = await call(pause, { post: true, headers: { 'content-type': 'application/x-www-form-urlencoded' } })
  t.equal(form.status, 415, 'a form post, which another site may send without a preflight, is refused')
  const rebound = await new Promise<number | undefined>((done, fail) => {
    // node:http, since fetch sets the Host itself.
    request(`${url}/`, { headers: { host: `rebound.example:${new URL(url).port}` } }, res => { res.resume(); done(res.statusCode) }).on('error', fail).end()
  })
  t.equal(rebound, 403, 'a DNS name rebound to 127.0.0.1 is refused')
  t.equal((await read(ns)).spec.suspend, undefined, 'nothing was written')
  const same = await call(pause, { post: true, headers: { origin: `http://${host}`, 'sec-fetch-site': 'same-origin' } })
  t.equal(same.status, 200, 'the page\'s own origin')
  t.equal((await read(ns)).spec.suspend, true, 'the page\'s own request acts')
})
