// Each alert provider's body, as its service documents it: the shape, the colours by severity, the fields
// Flagger sends, the escaping of the service's markup, and its length limits.
import t from 'tap'
import { alertFields } from '../../../src/notify/index.ts'
import { DISCORD_LIMITS, discordPayload } from '../../../src/notify/discord.ts'
import { GCHAT_TEXT_LIMIT, gchatPayload } from '../../../src/notify/gchat.ts'
import { TEAMS_TEXT_LIMIT, teamsPayload } from '../../../src/notify/msteams.ts'
import { ROCKET_TEXT_LIMIT, rocketPayload } from '../../../src/notify/rocket.ts'
import { SLACK_TEXT_LIMIT, slackPayload } from '../../../src/notify/slack.ts'
import { escapeHtml, escapeSlack, truncate } from '../../../src/notify/text.ts'
import { webhookPayload } from '../../../src/notify/webhook.ts'
import type { Alert } from '../../../src/notify/types.ts'
import type { Canary } from '../../../src/api/types.ts'

const fields = [
  { name: 'Target', value: 'Deployment/podinfo.test' },
  { name: 'Failed checks threshold', value: '5' },
  { name: 'Progress deadline', value: '600s' },
  { name: 'Traffic routing', value: 'Weight step: 10 max: 50 interval: 1m' },
]
const alert: Alert = { canary: 'podinfo', namespace: 'test', severity: 'error', message: 'Failed checks threshold reached 5', phase: 'Failed', fields }
const facts = [{ name: 'Severity', value: 'error' }, { name: 'Phase', value: 'Failed' }, ...fields]
const NOW = new Date('2026-01-02T03:04:05.000Z')

t.test('truncate: at most max UTF-16 units, an ellipsis when cut, never half a surrogate pair', async t => {
  t.equal(truncate('abc', 3), 'abc')
  t.equal(truncate('abcdef', 4), 'abc…')
  t.equal(truncate('ab😀cd', 4), 'ab…', 'the emoji is dropped whole rather than split')
  t.equal(truncate('ab😀cd', 5), 'ab😀…')
  t.equal(truncate('abc', 1), '…')
  t.equal(truncate('abc', 0), '')
  for (const n of [1, 2, 5, 50]) t.ok(truncate('x'.repeat(100), n).length <= n, `fits ${n}`)
})

t.test('escapes: Slack\'s three control characters, HTML for Google Chat', async t => {
  t.equal(escapeSlack('a <!channel> & <b>'), 'a &lt;!channel&gt; &amp; &lt;b&gt;')
  t.equal(escapeHtml('<b>"x" & y</b>'), '&lt;b&gt;&quot;x&quot; &amp; y&lt;/b&gt;')
})

t.test('alertFields: Flagger\'s Target, Failed checks threshold, Progress deadline and Traffic routing', async t => {
  const canary = (analysis: NonNullable<Canary['spec']['analysis']>, extra: Partial<Canary['spec']> = {}): Canary => ({
    apiVersion: 'sluice.dev/v1beta1', kind: 'Canary', metadata: { name: 'podinfo', namespace: 'test' },
    spec: { targetRef: { name: 'podinfo' }, service: { port: 9898 }, analysis, ...extra },
  })
  t.same(alertFields(canary({ stepWeight: 10, maxWeight: 50, threshold: 5 })), fields)
  t.same(alertFields(canary({ stepWeights: [1, 10, 80], interval: '30s' }, { progressDeadlineSeconds: 60 })), [
    { name: 'Target', value: 'Deployment/podinfo.test' },
    { name: 'Failed checks threshold', value: '1' },
    { name: 'Progress deadline', value: '60s' },
    { name: 'Traffic routing', value: 'Weight steps: 1,10,80 max: 80 interval: 30s' },
  ])
  t.same(alertFields(canary({ iterations: 5, match: [{ headers: { x: { exact: 'y' } } }] })).at(-1), { name: 'Traffic routing', value: 'A/B Testing' })
  t.same(alertFields(canary({ iterations: 5 })).at(-1), { name: 'Traffic routing', value: 'Blue/Green' })
  t.equal(alertFields(canary({})).length, 3, 'no routing field without steps or iterations')
})

t.test('slack: attachments coloured by severity, fields as Flagger sends them, & < > escaped', async t => {
  t.strictSame(slackPayload(alert, { channel: 'deploys', username: 'bot' }), {
    channel: 'deploys', username: 'bot',
    attachments: [{
      color: 'danger', fallback: 'podinfo.test: Failed checks threshold reached 5', author_name: 'podinfo.test',
      text: 'Failed checks threshold reached 5', mrkdwn_in: ['text'],
      fields: facts.map(f => ({ title: f.name, value: f.value, short: true })),
    }],
  })
  const colours = (['info', 'warn', 'error'] as const).map(severity => slackPayload({ ...alert, severity }, { channel: 'c', username: 'u' }).attachments[0]?.color)
  t.same(colours, ['good', 'warning', 'danger'])
  const escaped = slackPayload({ ...alert, message: 'hook <!channel> said 5 > 3 & fails', fields: [{ name: 'a<b', value: '<@U1>' }] }, { channel: 'c', username: 'u' })
  t.equal(escaped.attachments[0]?.text, 'hook &lt;!channel&gt; said 5 &gt; 3 &amp; fails')
  t.match(escaped.attachments[0]?.fields.at(-1), { title: 'a&lt;b', value: '&lt;@U1&gt;' })
  const long = slackPayload({ ...alert, message: '<'.repeat(SLACK_TEXT_LIMIT + 10) }, { channel: 'c', username: 'u' }).attachments[0]?.text ?? ''
  t.ok(long.endsWith('…') && long.length <= SLACK_TEXT_LIMIT * 4 && long.length < 40_000, 'cut, and within Slack\'s 40,000 once escaped')
})

t.test('discord: its own Execute Webhook JSON: one embed, fields inline, no mentions, the username', async t => {
  t.strictSame(discordPayload(alert, 'sluice', NOW), {
    username: 'sluice',
    embeds: [{
      title: 'podinfo.test', description: 'Failed checks threshold reached 5', color: 0xa30200,
      fields: facts.map(f => ({ name: f.name, value: f.value, inline: true })), timestamp: NOW.toISOString(),
    }],
    allowed_mentions: { parse: [] },
  })
  t.notOk('attachments' in discordPayload(alert, 'x'), 'not Slack\'s format')
  const colours = (['info', 'warn', 'error'] as const).map(severity => discordPayload({ ...alert, severity }, 's').embeds[0]?.color)
  t.same(new Set(colours).size, 3, 'one colour per severity')
  t.equal(discordPayload({ ...alert, fields: [{ name: 'x', value: '' }] }, 's').embeds[0]?.fields.at(-1)?.value, '-', 'an empty value is not sent')
})

t.test('discord: every limit of an embed holds, whatever the alert', async t => {
  const L = DISCORD_LIMITS
  const huge: Alert = {
    ...alert, canary: 'c'.repeat(300), message: 'm'.repeat(10_000),
    fields: Array.from({ length: 30 }, (_, i) => ({ name: `n${i}`.repeat(100), value: 'v'.repeat(2000) })),
  }
  const p = discordPayload(huge, 'u'.repeat(100))
  const e = p.embeds[0]!
  t.equal(p.username.length, L.username)
  t.equal(e.title.length, L.title)
  t.ok(e.fields.length > 0 && e.fields.length <= L.fields, 'the fields that fit')
  const many = { ...alert, fields: Array.from({ length: 30 }, (_, i) => ({ name: `n${i}`, value: 'v' })) }
  t.equal(discordPayload(many, 'u').embeds[0]?.fields.length, L.fields, 'at most 25 fields')
  t.ok(e.fields.every(f => f.name.length <= L.fieldName && f.value.length <= L.fieldValue))
  t.equal(e.description.length, L.description, 'the message first')
  const total = e.title.length + e.description.length + e.fields.reduce((n, f) => n + f.name.length + f.value.length, 0)
  t.ok(total <= L.total, `total ${total} <= ${L.total}`)
  const fits = discordPayload({ ...alert, message: 'm'.repeat(5000) }, 'u').embeds[0]!
  t.equal(fits.description.length, L.description, 'a long message alone fills the description')
  t.ok(fits.description.endsWith('…'))
})

t.test('rocket: a Rocket.Chat message: alias, channel only when set, one attachment with title, text, colour, fields', async t => {
  t.strictSame(rocketPayload(alert, { alias: 'sluice', channel: '#deploys' }), {
    alias: 'sluice', channel: '#deploys',
    attachments: [{
      title: 'podinfo.test', text: 'Failed checks threshold reached 5', color: '#a30200',
      fields: facts.map(f => ({ short: true, title: f.name, value: f.value })),
    }],
  })
  const noChannel = rocketPayload(alert, { alias: 'sluice' })
  t.notOk('channel' in noChannel, 'the integration\'s own channel is kept')
  t.notOk('username' in noChannel || 'mrkdwn_in' in (noChannel.attachments[0] ?? {}), 'not Slack\'s format')
  t.equal(rocketPayload({ ...alert, message: 'x'.repeat(9000) }, { alias: 'a' }).attachments[0]?.text.length, ROCKET_TEXT_LIMIT)
  const colours = (['info', 'warn', 'error'] as const).map(severity => rocketPayload({ ...alert, severity }, { alias: 'a' }).attachments[0]?.color)
  t.same(new Set(colours).size, 3)
})

t.test('msteams: an Adaptive Card 1.4 in a message envelope, facts and a cut message', async t => {
  const body = teamsPayload(alert) as { type: string; attachments: { contentType: string; contentUrl: null; content: Record<string, unknown> }[] }
  t.equal(body.type, 'message')
  t.equal(body.attachments[0]?.contentType, 'application/vnd.microsoft.card.adaptive')
  t.strictSame(body.attachments[0]?.content.body, [
    { type: 'TextBlock', text: 'podinfo.test', weight: 'Bolder', size: 'Medium', color: 'Attention', wrap: true },
    { type: 'TextBlock', text: 'Failed checks threshold reached 5', wrap: true },
    { type: 'FactSet', facts: facts.map(f => ({ title: f.name, value: f.value })) },
  ])
  t.match(body.attachments[0]?.content, { type: 'AdaptiveCard', version: '1.4' })
  const long = teamsPayload({ ...alert, message: 'x'.repeat(30_000) })
  t.ok(Buffer.byteLength(JSON.stringify(long)) < 28_000, 'under Teams\' 28 KB')
  t.match(JSON.stringify(long), `${'x'.repeat(TEAMS_TEXT_LIMIT - 1)}…`)
})

t.test('gchat: a cardsV2 card, HTML escaped, a text line for the notification', async t => {
  t.strictSame(gchatPayload({ ...alert, message: 'rate <50%> & "falling"' }), {
    text: 'podinfo.test: error, Failed',
    cardsV2: [{
      cardId: 'sluice-alert',
      card: {
        header: { title: 'podinfo.test', subtitle: 'sluice' },
        sections: [
          { widgets: [{ textParagraph: { text: '<font color="#d93025"><b>rate &lt;50%&gt; &amp; &quot;falling&quot;</b></font>' } }] },
          { widgets: facts.map(f => ({ decoratedText: { topLabel: f.name, text: f.value } })) },
        ],
      },
    }],
  })
  const worst = gchatPayload({ ...alert, message: '"'.repeat(50_000) })
  t.ok(Buffer.byteLength(JSON.stringify(worst)) < 32_000, 'under Google Chat\'s 32,000 bytes, even fully escaped')
  t.match(JSON.stringify(worst), `${'&quot;'.repeat(GCHAT_TEXT_LIMIT - 1)}…`)
})

t.test('webhook: the alert as plain JSON with the fields', async t => {
  t.strictSame(webhookPayload(alert, NOW), {
    kind: 'sluice.dev/alert', canary: 'podinfo', namespace: 'test', severity: 'error',
    message: 'Failed checks threshold reached 5', phase: 'Failed', fields, timestamp: NOW.toISOString(),
  })
  t.strictSame(webhookPayload({ ...alert, phase: undefined, fields: undefined }, NOW).fields, [])
  t.notOk('phase' in webhookPayload({ ...alert, phase: undefined }, NOW))
})
