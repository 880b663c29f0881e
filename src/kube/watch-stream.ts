// A watch of the Kubernetes API as a stream of events, over the pooled dispatcher with dispatcher.request:
// client-node's Watch goes through fetch, a web stream turned back into a Node stream, and readline, which
// cost the controller more per event than the event's own JSON. The contract is client-node's Watch's: the
// callback gets each event's type and object; `done` is called once, with null when the server ends the
// watch, a TimeoutError after `idleMs` without a byte, an error carrying `statusCode` for an answer other
// than 200, or the transport's error.
import { STATUS_CODES } from 'node:http'
import type { KubeConfig } from '@kubernetes/client-node'
import { openRequest, requestTarget } from './http-library.ts'

export type WatchCallback = (phase: string, object: unknown) => void

export interface WatchHandle {
  abort(): void
}

/** client-node's Watch default: a watch that sends nothing for this long is ended. */
export const WATCH_IDLE_MS = 30_000

const idleTimeout = (): DOMException => new DOMException('The watch sent nothing for too long', 'TimeoutError')

function statusError(code: number): Error & { statusCode: number } {
  return Object.assign(new Error(STATUS_CODES[code] ?? 'Internal Server Error'), { statusCode: code })
}

/** Splits the stream into lines and hands each event on; a line that is not JSON is skipped, as client-node does. */
function lineReader(callback: WatchCallback): (chunk: string) => void {
  let partial = ''
  return chunk => {
    partial += chunk
    let end = partial.indexOf('\n')
    while (end >= 0) {
      const line = partial.slice(0, end)
      partial = partial.slice(end + 1)
      if (line.trim() !== '') {
        let event: { type?: unknown; object?: unknown } | undefined
        try { event = JSON.parse(line) as { type?: unknown; object?: unknown } } catch { event = undefined }
        if (event) callback(String(event.type), event.object)
      }
      end = partial.indexOf('\n')
    }
  }
}

export async function watchStream(
  kc: KubeConfig, path: string, query: Readonly<Record<string, string | boolean | undefined>>,
  callback: WatchCallback, done: (err: unknown) => void, idleMs = WATCH_IDLE_MS,
): Promise<WatchHandle> {
  const { url, headers, dispatcher } = await openRequest(kc, 'GET', path, { watch: 'true', ...query })

  const controller = new AbortController()
  let timedOut = false
  let timer: NodeJS.Timeout | undefined
  const stopTimer = (): void => {
    clearTimeout(timer)
    timer = undefined
  }
  // Re-armed on every chunk of every watch: refresh() moves the one timer instead of making a new one.
  const resetTimer = (): void => {
    if (timer !== undefined) {
      timer.refresh()
      return
    }
    timer = setTimeout(() => {
      timedOut = true
      controller.abort(idleTimeout())
    }, idleMs)
    timer.unref()
  }
  let finished = false
  const finish = (err: unknown): void => {
    if (finished) return
    finished = true
    stopTimer()
    controller.abort()
    done(err && timedOut ? idleTimeout() : err)
  }

  try {
    resetTimer()
    const answer = await dispatcher.request({ ...requestTarget(url), method: 'GET', headers, signal: controller.signal })
    if (answer.statusCode !== 200) {
      answer.body.resume()
      throw statusError(answer.statusCode)
    }
    resetTimer()
    const read = lineReader(callback)
    answer.body.setEncoding('utf8')
    answer.body.on('data', (chunk: string) => {
      if (finished) return
      resetTimer()
      read(chunk)
    })
    answer.body.on('error', finish)
    answer.body.on('end', () => { finish(null) })
    answer.body.on('close', () => { finish(null) })
  } catch (err) {
    finish(err)
  }
  return { abort: () => { controller.abort() } }
}
