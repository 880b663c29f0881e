// Server-sent events: the text of one message (the EventSource wire format), and a stream on a reply.
import type { FastifyReply } from 'fastify'

/** One message: `event:` and one `data:` line per line of the JSON (JSON.stringify writes none). */
export function sseMessage(event: string, data: unknown): string {
  if (/[\r\n]/.test(event)) throw new Error('an event name is one line')
  const lines = JSON.stringify(data).split(/\r\n|\r|\n/).map(l => `data: ${l}`)
  return `event: ${event}\n${lines.join('\n')}\n\n`
}

/** A comment line: keeps proxies from closing an idle stream, ignored by EventSource. */
export const SSE_KEEPALIVE = ': keep-alive\n\n'

export interface SseStream {
  send(event: string, data: unknown): void
  /** Called once, when the browser goes away. */
  onClose(fn: () => void): void
}

const KEEPALIVE_MS = 25_000

/** Takes over the reply as an event stream. */
export function openSse(reply: FastifyReply): SseStream {
  reply.hijack()
  const res = reply.raw
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive' })
  const keepalive = setInterval(() => res.write(SSE_KEEPALIVE), KEEPALIVE_MS)
  res.on('close', () => clearInterval(keepalive))
  return {
    send: (event, data) => { if (!res.writableEnded) res.write(sseMessage(event, data)) },
    onClose: fn => { res.on('close', fn) },
  }
}
