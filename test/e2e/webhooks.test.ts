// Webhooks and gates end to end: a release held by its confirm-rollout gate, then called off by its rollback
// hook. The hooks are an HTTP server in this test, which the controller (a local process) calls.
import t, { type Test } from 'tap'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { until } from '../helpers/wait.ts'
import { apply, canaryWeightAnnotation, deploymentYaml, IMAGE_V1, IMAGE_V2, nginxCanary } from './apps.ts'
import { initializedApp } from './releases.ts'
import { deployment, eventsOf, phase, testNamespace } from './env.ts'

interface Call { readonly path: string; readonly phase: string }

/** A hook server: each path answers the status set for it (403, a closed gate, until told otherwise). */
async function hookServer(t: Test): Promise<{ url: string; calls: Call[]; answer: Map<string, number> }> {
  const calls: Call[] = []
  const answer = new Map<string, number>()
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let body = ''
    req.setEncoding('utf8').on('data', (d: string) => { body += d }).on('end', () => {
      const path = req.url ?? ''
      let phase: unknown
      try {
        phase = (JSON.parse(body) as { phase?: unknown }).phase
      } catch { /* recorded with an empty phase */ }
      calls.push({ path, phase: typeof phase === 'string' ? phase : '' })
      res.writeHead(answer.get(path) ?? 403).end()
    })
  })
  await new Promise<void>(res => server.listen(0, '127.0.0.1', res))
  t.teardown(() => new Promise<void>(res => { server.closeAllConnections(); server.close(() => res()) }))
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, calls, answer }
}

t.test('a release Waiting on a closed confirm-rollout gate is rolled back by its rollback hook', async t => {
  const hooks = await hookServer(t)
  const { ns } = await testNamespace(t)
  const base = nginxCanary({ metrics: false })
  const annotations = {
    ...base,
    'sluice.dev/analysis': `${base['sluice.dev/analysis']}webhooks:\n` +
      `- {name: gate, type: confirm-rollout, url: "${hooks.url}/gate"}\n` +
      `- {name: undo, type: rollback, url: "${hooks.url}/rollback"}\n`,
  }
  await initializedApp(ns, annotations)
  await apply(deploymentYaml({ ns, image: IMAGE_V2, sluice: annotations }))

  await phase(ns, 'podinfo', 'Waiting', 120_000, 'Progressing')
  // Held for a few intervals: the gate sent it to Waiting, then every Waiting tick asks the rollback hook
  // before the gate, and both say no.
  await until(() => Promise.resolve(hooks.calls.filter(c => c.path === '/gate').length), n => n >= 3, 'the gate asked three times', 60_000)
  t.same(hooks.calls.slice(0, 5).map(c => c.path), ['/gate', '/rollback', '/gate', '/rollback', '/gate'], 'the rollback hook is asked first in every Waiting tick')
  t.same(hooks.calls.slice(0, 3).map(c => c.phase), ['Initialized', 'Waiting', 'Waiting'], 'each call carries the phase it was made in')
  t.equal((await deployment(ns, 'podinfo'))?.spec?.replicas, 0, 'the canary was never scaled up')
  t.match((await eventsOf(ns, 'Canary', 'podinfo')).join('\n'), /Normal WaitingForApproval: waiting for approval to start the rollout of revision \S+: confirm-rollout hook "gate" failed: POST \S+\/gate answered HTTP 403/)

  hooks.answer.set('/rollback', 200)
  await rolledBack(t, ns)
  t.ok(hooks.calls.filter(c => c.path === '/rollback').every(c => c.phase === 'Waiting'), 'every rollback call was made in Waiting')
})

/** Failed, traffic on the primary, the canary at zero, the old version kept, and Events that say why. */
async function rolledBack(t: Test, ns: string): Promise<void> {
  const failed = await phase(ns, 'podinfo', 'Failed', 60_000, 'Progressing')
  t.equal(failed.status?.canaryWeight, 0)
  t.equal(failed.status?.conditions?.find(c => c.type === 'Promoted')?.status, 'False')
  t.match(failed.status?.checks?.at(-1), { name: 'rollback:undo', message: 'rollback hook "undo" asked for a rollback' })
  t.equal(await canaryWeightAnnotation(ns), '0', 'all traffic on the primary')
  t.equal((await deployment(ns, 'podinfo'))?.spec?.replicas, 0, 'the canary is at zero')
  t.equal((await deployment(ns, 'podinfo-primary'))?.spec?.template?.spec?.containers[0]?.image, IMAGE_V1, 'the primary keeps the old version')
  const events = (await eventsOf(ns, 'Canary', 'podinfo')).join('\n')
  t.match(events, /Warning RolledBack: Canary failed! Scaling down podinfo\.\S+: rollback hook "undo" asked for a rollback/)
  t.match(events, /Warning Alert: Rolling back manual webhook invoked: undo/)
  t.match((await eventsOf(ns, 'Deployment', 'podinfo')).join('\n'), /Warning RolledBack: Canary failed!/, 'the Deployment shows it too')
}
