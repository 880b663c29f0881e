// Small process and HTTP helpers for the local cluster harness.
import { readFileSync } from 'node:fs'
import { request as httpRequest } from 'node:http'
import { request as httpsRequest } from 'node:https'
import { createServer } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'

export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const srv = createServer()
    srv.once('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address()
      const port = typeof addr === 'object' && addr ? addr.port : 0
      srv.close(() => resolvePort(port))
    })
  })
}

export interface GetOptions {
  readonly method?: string
  readonly token?: string
  readonly body?: string | undefined
}

/** One HTTP(S) request. With no CA, TLS verification is off (component health ports use throwaway certs). */
export async function httpsGet(url: string, caPem: string | undefined, timeoutMs: number, opts: GetOptions = {}): Promise<{ status: number; body: string }> {
  const u = new URL(url)
  const headers: Record<string, string> = { Accept: 'application/json' }
  if (opts.token) headers.Authorization = `Bearer ${opts.token}`
  if (opts.body !== undefined) headers['Content-Type'] = 'application/json'
  return new Promise((resolveReq, reject) => {
    const common = { method: opts.method ?? 'GET', headers, timeout: timeoutMs }
    const req = u.protocol === 'https:'
      ? httpsRequest(u, { ...common, ...(caPem ? { ca: caPem } : { rejectUnauthorized: false }) })
      : httpRequest(u, common)
    req.on('response', res => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (c: string) => { body += c })
      res.on('end', () => resolveReq({ status: res.statusCode ?? 0, body }))
      res.on('error', reject)
    })
    req.on('timeout', () => req.destroy(new Error(`timeout after ${timeoutMs}ms: ${url}`)))
    req.on('error', reject)
    req.end(opts.body)
  })
}

export interface WaitOptions {
  readonly timeoutMs: number
  readonly what: string
  readonly intervalMs?: number
}

/** Thrown by a wait's check when waiting longer cannot help: the wait ends at once with it. */
export class WaitAborted extends Error {}

/** Polls until the check returns true; gives up with a message naming what it waited for. */
export async function waitFor(check: () => Promise<boolean> | boolean, opts: WaitOptions): Promise<void> {
  const deadline = Date.now() + opts.timeoutMs
  let last: unknown
  while (Date.now() < deadline) {
    try {
      if (await check()) return
      last = undefined
    } catch (e) {
      if (e instanceof WaitAborted) throw e
      last = e
    }
    await sleep(opts.intervalMs ?? 200)
  }
  const why = last instanceof Error ? ` (last error: ${last.message})` : ''
  throw new Error(`timed out after ${opts.timeoutMs / 1000}s waiting for ${opts.what}${why}`)
}

/** True when pid runs and its command line names something under binDir (guards against pid reuse). */
export function processAlive(pid: number, binDir: string): boolean {
  try {
    const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8')
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3)
    return cmd.includes(binDir) && state !== 'Z'
  } catch {
    return false
  }
}

/** SIGTERM, wait up to graceMs, then SIGKILL. Returns whether a live process was stopped. */
export async function stopProcess(pid: number, binDir: string, graceMs = 5000): Promise<boolean> {
  if (!processAlive(pid, binDir)) return false
  try { process.kill(pid, 'SIGTERM') } catch { return false }
  const deadline = Date.now() + graceMs
  while (Date.now() < deadline) {
    if (!processAlive(pid, binDir)) return true
    await sleep(100)
  }
  try { process.kill(pid, 'SIGKILL') } catch { /* already gone */ }
  while (processAlive(pid, binDir)) await sleep(50)
  return true
}
