import t from 'tap'
import { renderQuery, TemplateError, type TemplateVars } from '../../../src/metrics/template.ts'

const vars: TemplateVars = {
  namespace: 'shop', target: 'cart', service: 'cart-svc', ingress: 'cart-ing', route: 'cart-route', interval: '1m', name: 'cart',
  variables: { code: '5..', 'reporter-kind': 'source' },
}

t.test('every variable is substituted, with or without spaces and trim markers', async t => {
  t.equal(
    renderQuery('{{ namespace }}/{{target}}/{{ service }}/{{ ingress }}/{{ route }}/{{ interval }}/{{ name }}/{{- variables.code -}}/{{ .variables.reporter-kind }}', vars),
    'shop/cart/cart-svc/cart-ing/cart-route/1m/cart/5../source',
  )
})

t.test('a query without variables is unchanged', async t => {
  t.equal(renderQuery('sum(rate(x{a="b"}[5m]))', vars), 'sum(rate(x{a="b"}[5m]))')
})

t.test('an unknown variable is an error naming it', async t => {
  t.throws(() => renderQuery('x{ns="{{ nmespace }}"}', vars), new TemplateError('{{ nmespace }}: unknown variable "nmespace"; known: namespace, target, service, ingress, route, interval, name, variables.<key>'))
})

t.test('a missing templateVariables key is an error naming the key and the keys there are', async t => {
  t.throws(() => renderQuery('{{ variables.missing }}', vars), { message: '{{ variables.missing }}: the metric\'s templateVariables have no key "missing" (it has code, reporter-kind)' })
})

t.test('a variable without a value for this canary is an error that says why', async t => {
  const { ingress: _i, ...noIngress } = vars
  t.throws(() => renderQuery('{{ ingress }}', noIngress), { message: '{{ ingress }} has no value for this canary (the canary has no ingressRef)' })
})

t.test('template actions other than variables are refused, never evaluated', async t => {
  t.throws(() => renderQuery('{{ if true }}x{{ end }}', vars), { name: 'TemplateError', message: /is not supported/ })
  t.throws(() => renderQuery('{{ printf "%s" namespace }}', vars), TemplateError)
  t.throws(() => renderQuery('{{ namespace | upper }}', vars), TemplateError)
})
