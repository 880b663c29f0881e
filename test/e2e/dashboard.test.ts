// The dashboard in a real browser (Debian's chromium, headless) during a real release, as the real `sluice
// dashboard` process with the user's kubeconfig: the list shows the release, the release's page follows it
// live (no reload), a user who may only read Canaries is refused an abort with the API server's reason, and
// the operator's abort, once confirmed, rolls the release back.
import t from 'tap'
import { join, resolve } from 'node:path'
import type { Browser, Page } from 'puppeteer-core'
import { launchBrowser } from '../helpers/browser.ts'
import { canaryUser, sluiceRunning } from '../helpers/cli.ts'
import type { TestLike } from '../helpers/kube.ts'
import { apply, canaryWeightAnnotation, deploymentYaml, IMAGE_V1, IMAGE_V2, nginxCanary } from './apps.ts'
import { initializedApp } from './releases.ts'
import { canary, deployment, phase, sharedEnvironment, testNamespace } from './env.ts'

const shared = await sharedEnvironment()
t.teardown(() => shared.stop())
const metricsServer = shared.prometheus.url
const browser: Browser = await launchBrowser(t)

/** Screenshots for the README, written only when asked (SLUICE_SCREENSHOTS=1), so that CI leaves the tree clean. */
const DOCS = resolve(import.meta.dirname, '../../docs')
async function screenshot(page: Page, file: string, height = 860): Promise<void> {
  if (process.env.SLUICE_SCREENSHOTS !== '1') return
  // A short viewport: the full-page shot then ends where the page's content does.
  await page.setViewport({ width: 1366, height })
  await page.screenshot({ path: join(DOCS, file), fullPage: true })
}

async function dashboard(t: TestLike, args: readonly string[]): Promise<string> {
  const running = sluiceRunning(t, ['dashboard', '--port', '0', ...args])
  const out = await running.waitFor(/serving (http:\/\/\S+)/, 'the dashboard to serve', 30_000)
  return /serving (http:\/\/\S+)/.exec(out)![1]!
}

async function open(url: string): Promise<Page> {
  const page = await browser.newPage()
  await page.setViewport({ width: 1366, height: 860 })
  await page.goto(url, { waitUntil: 'domcontentloaded' })
  await page.waitForFunction(`${TEXT('live')} === 'live'`, { timeout: 30_000, polling: 100 })
  return page
}

/**
 * Clicks the element `selector` finds, found and clicked in one step in the page: the live page re-renders its
 * buttons as the release moves, so a handle found first and clicked after may be detached by then.
 */
async function click(page: Page, selector: string): Promise<void> {
  await page.waitForSelector(selector, { timeout: 10_000 })
  const clicked = await page.evaluate(`(() => { const e = document.querySelector(${JSON.stringify(selector)}); e?.click(); return e !== null })()`)
  if (clicked !== true) throw new Error(`nothing to click at ${selector}`)
}

/** Presses a button of the release and confirms in its dialog. */
async function press(page: Page, action: string): Promise<void> {
  await page.bringToFront()
  await click(page, `button[data-action="${action}"]`)
  await page.waitForSelector('#confirm[open]', { timeout: 10_000 })
  await click(page, '#confirm-yes')
}

const text = async (page: Page, selector: string): Promise<string> => String(await page.evaluate(`document.querySelector(${JSON.stringify(selector)})?.textContent ?? ''`))

// Expressions evaluated in the page (the tests' TypeScript has no DOM types): an element's text, the page's mark.
const TEXT = (id: string): string => `document.getElementById('${id}')?.textContent`
const WEIGHT = `Number.parseInt(${TEXT('weight')} ?? '0')`
const SET_MARK = 'window.mark = 1'
const MARK = 'window.mark'

t.test('the list shows the release; its page follows it live; a viewer is refused an abort; the operator\'s abort rolls it back', async t => {
  const { ns } = await testNamespace(t, { metricsServer })
  // 18 steps of 3s: the release is still running when it is aborted.
  const annotations = nginxCanary({ interval: '3s', step: 5, max: 90 })
  await initializedApp(ns, annotations)
  const viewer = await canaryUser(ns, 'viewer', ['get', 'list', 'watch'])
  const url = await dashboard(t, ['-n', ns])
  t.match(url, /^http:\/\/127\.0\.0\.1:\d+\/$/, 'local by default')

  const list = await open(url)
  t.match(await text(list, '#releases'), /podinfo\s*Initialized\s*0%/, 'the list shows the release')

  const release = await open(`${url}r/${ns}/podinfo`)
  t.equal(await text(release, '#phase'), 'Initialized')
  t.equal(await text(release, '#weight'), '0%')
  // A mark on the window: it survives only if the page is never reloaded.
  await release.evaluate(SET_MARK)
  await apply(deploymentYaml({ ns, image: IMAGE_V2, sluice: annotations }))
  await release.waitForFunction(`${TEXT('phase')} === 'Progressing' && ${WEIGHT} >= 5`, { timeout: 60_000, polling: 100 })
  const first = Number.parseInt(await text(release, '#weight'))
  await release.waitForFunction(`${WEIGHT} > ${first}`, { timeout: 60_000, polling: 100 })
  t.ok(Number.parseInt(await text(release, '#weight')) > first, 'the weight moved on the page')
  t.equal(await release.evaluate(MARK), 1, 'without a reload')
  t.match(await text(list, '#releases'), /podinfo\s*Progressing\s*\d+%\s*\d+\/18/, 'the list follows too')
  await release.waitForFunction(`document.querySelectorAll('#checks tbody tr').length >= 2`, { timeout: 60_000, polling: 100 })
  t.match(await text(release, '#checks'), /request-success-rate[\d.]+%min 99%10spass/, 'the check log')
  t.equal(await release.$$eval('#charts svg.chart', s => s.length), 2, 'a chart of the weight and one of the metric')
  t.ok(await release.$$eval('#charts svg.chart circle.dot', d => d.length) >= 2, 'the metric\'s values are plotted')
  await screenshot(list, 'dashboard-list.png', 200)
  await screenshot(release, 'dashboard-release.png')

  const viewing = await open(`${await dashboard(t, ['-n', ns, '--kubeconfig', viewer])}r/${ns}/podinfo`)
  t.equal(await text(viewing, '#phase'), 'Progressing', 'the viewer sees the release')
  await press(viewing, 'abort')
  await viewing.waitForFunction(`document.getElementById('notice')?.className === 'refused'`, { timeout: 30_000, polling: 100 })
  t.equal(await text(viewing, '#notice'), `Refused: cannot patch Canary ${ns}/podinfo (annotation sluice.dev/abort): forbidden by the cluster's RBAC for the user of your kubeconfig: ` +
    `canaries.sluice.dev "podinfo" is forbidden: User "system:serviceaccount:${ns}:viewer" cannot patch resource "canaries" in API group "sluice.dev" in the namespace "${ns}"`)
  t.equal((await canary(ns, 'podinfo'))?.metadata.annotations?.['sluice.dev/abort'], undefined, 'nothing was written')

  await release.bringToFront()
  // Escape cancels a question as its Cancel button does (nothing written: checked below, after the abort).
  await click(release, 'button[data-action="promote-full"]')
  await release.waitForSelector('#confirm[open]', { timeout: 10_000 })
  await release.keyboard.press('Escape')
  await release.waitForSelector('#confirm:not([open])', { timeout: 10_000 })
  await click(release, 'button[data-action="promote-full"]')
  await release.waitForSelector('#confirm[open]', { timeout: 10_000 })
  t.match(await text(release, '#confirm-text'), /WHATEVER ITS CHECKS SAY/, 'promote --full asks its own question')
  t.equal(await release.evaluate(`document.getElementById('confirm-yes').disabled`), true, 'and needs its box ticked')
  // Cancelled, then abort asked and confirmed in the same task: the cancel's close event comes after the
  // abort's question opened, and must answer neither (it once turned the cancel into a promotion).
  await release.evaluate(`(() => {
    document.getElementById('confirm-no').click()
    document.querySelector('button[data-action="abort"]').click()
    document.getElementById('confirm-yes').click()
  })()`)
  await release.waitForFunction(`document.getElementById('notice')?.className !== ''`, { timeout: 30_000, polling: 100 })
  t.equal(await release.evaluate(`document.getElementById('notice').className`), 'ok', await text(release, '#notice'))
  t.match(await text(release, '#notice'), new RegExp(`^Canary ${ns}/podinfo: sluice\\.dev/abort=\\S+ written`))
  t.equal((await canary(ns, 'podinfo'))?.metadata.annotations?.['sluice.dev/promote'], undefined, 'cancelled: nothing written')
  await release.waitForFunction(`${TEXT('phase')} === 'Failed'`, { timeout: 60_000, polling: 100 })
  t.equal(await text(release, '#weight'), '0%', 'rolled back, shown live')
  await phase(ns, 'podinfo', 'Failed')
  t.equal(await canaryWeightAnnotation(ns), '0', 'the router sends everything to the primary')
  t.equal((await deployment(ns, 'podinfo-primary'))?.spec?.template?.spec?.containers[0]?.image, IMAGE_V1, 'the old version serves')
  t.equal(await release.evaluate(MARK), 1, 'still the same page')
})
