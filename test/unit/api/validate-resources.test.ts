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

t.test('an AlertProvider needs somewhere to send; channel and username belong to the Slack-like types', async t => {
  t.same(validateAlertProvider({ type: 'slack', channel: 'ops', username: 'sluice', address: 'https://hooks.slack.com/services/x' }), [])
  t.same(validateAlertProvider({ type: 'discord', secretRef: { name: 'discord' } }), [])
  t.same(fields(validateAlertProvider({ type: 'gchat', channel: 'x', username: 'y', address: 'https://chat.googleapis.com/x' })), ['channel', 'username'])
  t.same(fields(validateAlertProvider({ type: 'webhook' })), ['address'])
  t.same(fields(validateAlertProvider({ type: 'slack', address: 'https://x', proxy: 'proxy:3128' })), ['proxy'])
})
