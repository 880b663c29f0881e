// A real browser for the dashboard's tests: Debian's chromium (make chromium installs it), driven headless
// by puppeteer-core, which downloads nothing. It is stopped by its PID when the test file ends.
import { execFileSync } from 'node:child_process'
import puppeteer, { type Browser } from 'puppeteer-core'
import type { TestLike } from './kube.ts'

function chromiumPath(): string {
  try {
    return execFileSync('which', ['chromium'], { encoding: 'utf8' }).trim()
  } catch {
    throw new Error('chromium is not on PATH: run `make chromium` (Debian\'s package)')
  }
}

export async function launchBrowser(t: TestLike): Promise<Browser> {
  const root = process.getuid?.() === 0
  const browser = await puppeteer.launch({
    executablePath: chromiumPath(), headless: true,
    args: ['--headless=new', '--disable-gpu', '--disable-dev-shm-usage', ...(root ? ['--no-sandbox'] : [])],
  })
  const pid = browser.process()?.pid
  t.teardown(async () => {
    await browser.close().catch(() => undefined)
    // close() asks politely; a browser that did not go is killed by its PID, never by name.
    if (pid !== undefined) {
      try {
        process.kill(pid, 'SIGKILL')
      } catch {
        // already gone
      }
    }
  })
  return browser
}
