// The dashboard's HTTP server (fastify): the pages, their event streams, the action POSTs and the client script.
import { readFileSync } from 'node:fs'
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify'
import { GROUP, type Canary } from '../../api/types.ts'
import { canaryName, getCanary, readRelease, type Release } from '../canaries.ts'
import type { Cluster } from '../cluster.ts'
import type { Access, Caller } from './access.ts'
import { actionAttributes, isAction, runAction } from './actions.ts'
import { HttpError, httpError } from './errors.ts'
import { esc } from './html.ts'
import { page } from './layout.ts'
import { listPage, listSections } from './list-page.ts'
import { actionRefusal, hostRefusal, servedHosts } from './origin.ts'
import { releasePage, releaseSections } from './release-page.ts'
import { openSse } from './sse.ts'
import type { Store } from './store.ts'

const CLIENT = readFileSync(new URL('./client/dashboard.js', import.meta.url), 'utf8')

export interface DashboardOptions {
  /** Whose credentials read and act: the user's kubeconfig, or the dashboard's ServiceAccount in-cluster. */
  readonly cluster: Cluster
  readonly store: Store
  readonly access: Access
  /** "namespace shop", "all namespaces". */
  readonly scope: string
  readonly address: string
  readonly port: number
  /** Check the Host of every request against the address served (off in-cluster, where a Service or proxy names it). */
  readonly checkHost: boolean
}

export interface Dashboard {
  readonly url: string
  close(): Promise<void>
}

type Params = { ns: string; name: string; action?: string }

interface Context {
  readonly o: DashboardOptions
  hosts: ReadonlySet<string> | undefined
}

const readCanary = { verb: 'get', resource: 'canaries', group: GROUP } as const

async function visibleCanaries(ctx: Context, caller: Caller | undefined): Promise<Canary[]> {
  const all = ctx.o.store.canaries()
  const namespaces = [...new Set(all.map(c => c.metadata.namespace ?? ''))]
  const allowed = new Set<string>()
  for (const namespace of namespaces) {
    if (await ctx.o.access.allowed(caller, { verb: 'list', resource: 'canaries', group: GROUP, namespace })) allowed.add(namespace)
  }
  return all.filter(c => allowed.has(c.metadata.namespace ?? ''))
}

/** The release as the caller may see it: Deployments and Events only with the rights to read them. */
async function visibleRelease(ctx: Context, caller: Caller | undefined, r: Release): Promise<Release> {
  const namespace = r.canary.metadata.namespace ?? ''
  const events = await ctx.o.access.allowed(caller, { verb: 'list', resource: 'events', group: '', namespace })
  const deployments = await ctx.o.access.allowed(caller, { verb: 'get', resource: 'deployments', group: 'apps', namespace })
  return { canary: r.canary, events: events ? r.events : [], ...(deployments && r.target && { target: r.target }), ...(deployments && r.primary && { primary: r.primary }) }
}

async function release(ctx: Context, req: FastifyRequest<{ Params: Params }>): Promise<{ caller: Caller | undefined; canary: Canary }> {
  const caller = await ctx.o.access.caller(req.headers.authorization)
  const { ns, name } = req.params
  await ctx.o.access.check(caller, { ...readCanary, namespace: ns, name })
  const canary = ctx.o.store.find(ns, name)
  if (!canary) throw new HttpError(404, `no Canary "${name}" in namespace "${ns}" among the Canaries of ${ctx.o.scope}`)
  return { caller, canary }
}

function errorPage(reply: FastifyReply, e: unknown): FastifyReply {
  const err = httpError(e)
  const body = `<h1>${err.status === 403 ? 'Refused' : 'Cannot show this'}</h1><section><p id="error">${esc(err.message)}</p><p><a href="/">All releases</a></p></section>`
  return reply.code(err.status).type('text/html; charset=utf-8').send(page({ title: 'Error', scope: '', live: '', body }))
}

function pages(app: FastifyInstance, ctx: Context): void {
  app.get('/', async (req, reply) => {
    try {
      const caller = await ctx.o.access.caller(req.headers.authorization)
      return reply.type('text/html; charset=utf-8').send(listPage(await visibleCanaries(ctx, caller), new Date(), ctx.o.scope))
    } catch (e) {
      return errorPage(reply, e)
    }
  })
  app.get<{ Params: Params }>('/r/:ns/:name', async (req, reply) => {
    try {
      const { caller, canary } = await release(ctx, req)
      const r = await visibleRelease(ctx, caller, await readRelease(ctx.o.cluster, canary))
      return reply.type('text/html; charset=utf-8').send(releasePage(r, ctx.o.store.history(canary), new Date(), ctx.o.scope))
    } catch (e) {
      return errorPage(reply, e)
    }
  })
  app.get('/dashboard.js', (_req, reply) => reply.type('text/javascript; charset=utf-8').header('cache-control', 'no-cache').send(CLIENT))
}

function live(app: FastifyInstance, ctx: Context): void {
  app.get('/live', async (req, reply) => {
    let caller: Caller | undefined
    try {
      caller = await ctx.o.access.caller(req.headers.authorization)
    } catch (e) {
      const err = httpError(e)
      return reply.code(err.status).send({ error: err.message })
    }
    const stream = openSse(reply)
    const send = (): void => { void visibleCanaries(ctx, caller).then(list => stream.send('sections', listSections(list, new Date(), ctx.o.scope)), () => undefined) }
    stream.onClose(ctx.o.store.onList(send))
    send()
  })
  app.get<{ Params: Params }>('/r/:ns/:name/live', async (req, reply) => {
    let found: { caller: Caller | undefined; canary: Canary }
    try {
      found = await release(ctx, req)
    } catch (e) {
      const err = httpError(e)
      return reply.code(err.status).send({ error: err.message })
    }
    const stream = openSse(reply)
    const unfollow = ctx.o.store.follow(found.canary, r => {
      if (!r) return stream.send('gone', { message: `Canary ${canaryName(found.canary)} was deleted` })
      void visibleRelease(ctx, found.caller, r).then(v => stream.send('sections', releaseSections(v, ctx.o.store.history(r.canary), new Date())), () => undefined)
    })
    unfollow.catch((e: unknown) => stream.send('refused', { message: httpError(e).message }))
    stream.onClose(() => { void unfollow.then(stop => stop(), () => undefined) })
  })
}

function actions(app: FastifyInstance, ctx: Context): void {
  app.post<{ Params: Params }>('/r/:ns/:name/actions/:action', async (req, reply) => {
    try {
      const refusal = actionRefusal(req.headers, ctx.hosts)
      if (refusal) throw new HttpError(403, `refused: ${refusal}`)
      const action = req.params.action ?? ''
      if (!isAction(action)) throw new HttpError(404, `no action "${action}"`)
      const caller = await ctx.o.access.caller(req.headers.authorization)
      const { ns, name } = req.params
      const known = ctx.o.store.find(ns, name)
      if (!known) throw new HttpError(404, `no Canary "${name}" in namespace "${ns}" among the Canaries of ${ctx.o.scope}`)
      await ctx.o.access.check(caller, actionAttributes(known, action))
      // Read again, as the commands do: the request counts against the state it is written for.
      const canary = await getCanary(ctx.o.cluster, ns, name)
      return await reply.send({ message: await runAction(ctx.o.cluster, canary, action) })
    } catch (e) {
      const err = httpError(e)
      return reply.code(err.status).send({ error: err.message })
    }
  })
}

export async function startDashboard(o: DashboardOptions): Promise<Dashboard> {
  // The event streams never end by themselves: closing the server ends them.
  const app = Fastify({ logger: false, forceCloseConnections: true })
  const ctx: Context = { o, hosts: undefined }
  app.addHook('onRequest', async (req, reply) => {
    const refusal = hostRefusal(req.headers, ctx.hosts)
    if (refusal) await reply.code(403).type('text/plain; charset=utf-8').send(`refused: ${refusal}\n`)
  })
  pages(app, ctx)
  live(app, ctx)
  actions(app, ctx)
  await app.listen({ host: o.address, port: o.port })
  const address = app.server.address()
  const port = typeof address === 'object' && address ? address.port : o.port
  if (o.checkHost) ctx.hosts = servedHosts(o.address, port)
  const host = o.address.includes(':') ? `[${o.address}]` : o.address
  return {
    url: `http://${host}:${port}/`,
    async close() {
      await app.close()
    },
  }
}
