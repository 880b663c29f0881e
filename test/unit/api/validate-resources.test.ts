import t from 'tap'
import { validateAlertProvider, validateMetricTemplate } from '../../../src/api/validate-resources.ts'

const fields = (errors: { field: string }[]): string[] => errors.map(e => e.field)

t.test('a Prometheus MetricTemplate with an address passes; options no client of this version reads are refused', async t => {
  t.same(validateMetricTemplate({ provider: { type: 'prometheus', address: 'http://prometheus:9090', headers: { 'X-Scope-OrgID': ['a'] } }, query: 'up' }), [])
  t.same(validateMetricTemplate({ provider: {}, query: 'up' }), [], 'the type defaults to prometheus')
  t.same(fields(validateMetricTemplate({ provider: { type: 'prometheus', region: 'eu-west-1', insecureSkipVerify: true }, query: 'up' })), ['provider.region', 'provider.insecureSkipVerify'])
  t.same(validateMetricTemplate({ provider: { address: 'prometheus:9090' }, query: 'up' }), [{ field: 'provider.address', message: 'must be an http:// or https:// URL (got "prometheus:9090")' }])
  t.same(fields(validateMetricTemplate({ provider: { type: 'graphite' } })), ['query', 'provider.type'])
})

t.test('an AlertProvider needs somewhere to send; channel and username only where the service lets the sender choose', async t => {
  t.same(validateAlertProvider({ type: 'slack', channel: 'ops', username: 'sluice', address: 'https://hooks.slack.com/services/x' }), [])
  t.same(validateAlertProvider({ type: 'rocket', channel: '#ops', username: 'sluice', address: 'https://chat.example.com/hooks/a/b' }), [])
  t.same(validateAlertProvider({ type: 'discord', username: 'deploys', secretRef: { name: 'discord' } }), [])
  t.same(fields(validateAlertProvider({ type: 'gchat', channel: 'x', username: 'y', address: 'https://chat.googleapis.com/x' })), ['channel', 'username'])
  t.same(fields(validateAlertProvider({ type: 'msteams', username: 'y', address: 'https://x' })), ['username'])
  t.same(validateAlertProvider({ type: 'discord', channel: 'ops', address: 'https://discord.com/api/webhooks/1/t' }), [{
    field: 'channel',
    message: 'is not used by type discord (only by slack, rocket); a Discord webhook posts to the channel it was created in (for a thread, add ?thread_id=<id> to the address); remove it',
  }])
  for (const username of ['Discord bot', 'clyde', 'x'.repeat(81)]) {
    t.same(fields(validateAlertProvider({ type: 'discord', username, address: 'https://discord.com/api/webhooks/1/t' })), ['username'], `Discord refuses ${username.slice(0, 12)}`)
  }
  t.same(fields(validateAlertProvider({ type: 'slack', username: 'discord-bridge', address: 'https://x' })), [], 'only Discord refuses that name')
  t.same(fields(validateAlertProvider({ type: 'pager', address: 'https://x' })), ['type'], 'a type outside the enum: one error, the schema\'s')
  t.same(fields(validateAlertProvider({ type: 'webhook' })), ['address'])
  t.same(fields(validateAlertProvider({ type: 'slack', address: 'https://x', proxy: 'proxy:3128' })), ['proxy'])
})
