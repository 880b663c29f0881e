// `sluice plan` and `sluice lint` without a cluster: the webhook's own review of every object of multi-document
// YAML, references resolved among the inputs, each problem on the line of its field, and the CI formats.
import t from 'tap'
import { decideDeployment } from '../../../src/admission/deployments.ts'
import { decideResource } from '../../../src/admission/resources.ts'
import { reviewOffline } from '../../../src/admission/offline.ts'
import { allProblems, check } from '../../../src/cli/offline/check.ts'
import { parseText, type Inputs } from '../../../src/cli/offline/documents.ts'
import { escapeData, escapeProperty, githubLine, renderProblems } from '../../../src/cli/render/findings.ts'
import { canariesByTarget, renderObjectPlan } from '../../../src/cli/render/plan.ts'

function inputs(...files: [string, string][]): Inputs {
  const parsed = files.map(([file, text]) => parseText(file, text))
  return { entries: parsed.flatMap(p => p.entries), syntax: parsed.flatMap(p => p.syntax), files: files.length }
}

const lines = (text: string): string => text.replace(/^\n/, '')

const DEPLOYMENT = lines(`
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
  annotations:
    sluice.dev/strategy: canary
    sluice.dev/provider: nginx
    sluice.dev/port: "8080"
    sluice.dev/spec: |
      ingressRef: {apiVersion: networking.k8s.io/v1, kind: Ingress, name: web}
    sluice.dev/analysis: |
      interval: 1m
      threshold: 2
      stepWeight: 0
      metrics:
      - name: errors
        templateRef: {name: errors}
        thresholdRange: {max: 1}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: web:1}]}
`)

const CANARY = lines(`
apiVersion: sluice.dev/v1beta1
kind: Canary
metadata: {name: api}
spec:
  targetRef: {apiVersion: apps/v1, kind: Deployment, name: api}
  provider: kuma
  service: {port: 80}
  analysis:
    interval: 1m
    iterations: 3
    metrics:
    - name: latency
      templateRef: {name: latency}
      thresholdRange: {max: 500}
---
apiVersion: sluice.dev/v1beta1
kind: MetricTemplate
metadata: {name: latency, namespace: default}
spec:
  provider: {type: prometheus, address: http://prometheus:9090}
  query: sum(rate(x[1m]))
`)

t.test('each problem on the line and column of its field: inside an annotation\'s YAML, under a Canary\'s spec', async t => {
  const result = check(inputs(['app.yaml', DEPLOYMENT], ['api.yaml', CANARY]), { namespace: 'default' })
  t.same(allProblems(result).map(p => [p.file, p.line, p.column, p.severity, p.message]), [
    ['app.yaml', 15, 7, 'error', 'Deployment shop/web: annotation sluice.dev/analysis: stepWeight must be between 1 and 100 (got 0)'],
    ['app.yaml', 18, 9, 'warning', 'Deployment shop/web: annotation sluice.dev/analysis: metrics[0].templateRef names MetricTemplate shop/errors, which does not exist; create it or fix the name (it is not in the given files; the webhook looks it up in the cluster)'],
    ['api.yaml', 6, 3, 'error', 'Canary default/api: spec.provider kuma is not available yet in this version of sluice; available: kubernetes, nginx, gatewayapi, gatewayapi:v1beta1, istio, linkerd, traefik, contour'],
  ])
  t.same(result.checked.map(c => c.review.namespace), ['shop', 'default', 'default'], 'objects without a namespace take -n (default)')
})

t.test('a reference to a MetricTemplate among the inputs resolves; one missing is a warning, not an error', async t => {
  const good = CANARY.replace('provider: kuma', 'provider: kubernetes')
  t.same(allProblems(check(inputs(['api.yaml', good]), { namespace: 'default' })), [])
  const alone = good.split('---')[0] ?? ''
  const problems = allProblems(check(inputs(['api.yaml', alone]), { namespace: 'default' }))
  t.same(problems.map(p => [p.line, p.severity]), [[13, 'warning']])
  t.match(problems[0]?.message, /names MetricTemplate default\/latency, which does not exist.*not in the given files/)
})

t.test('the verdicts are the webhook\'s own: decideDeployment and decideResource answer the same', async t => {
  const objects = inputs(['app.yaml', DEPLOYMENT], ['api.yaml', CANARY]).entries.map(e => e.object)
  const reviews = reviewOffline(objects, { namespace: 'default' })
  const everything = { metricTemplate: () => true, alertProvider: () => true }
  const webhook = decideDeployment({
    uid: 'x', operation: 'CREATE', userInfo: { username: 'someone' }, namespace: 'shop', name: 'web', object: objects[0],
    kind: { group: 'apps', version: 'v1', kind: 'Deployment' }, resource: { group: 'apps', version: 'v1', resource: 'deployments' },
  }, { sluiceUsername: 'sluice', policies: () => [], namespaceLabels: () => undefined, refs: everything })
  t.same(reviews[0]?.verdict, webhook)
  const canary = { ...objects[1], metadata: { ...objects[1]?.metadata, namespace: 'default' } }
  const resource = decideResource({
    uid: 'x', operation: 'CREATE', userInfo: { username: 'someone' }, namespace: 'default', name: 'api', object: canary,
    kind: { group: 'sluice.dev', version: 'v1beta1', kind: 'Canary' }, resource: { group: 'sluice.dev', version: 'v1beta1', resource: 'canaries' },
  }, { sluiceUsername: 'sluice', refs: { metricTemplate: (ns, n) => ns === 'default' && n === 'latency', alertProvider: () => false } })
  t.same(reviews[1]?.verdict, resource)
})

t.test('a DeliveryPolicy among the inputs applies: its defaults fill the spec, a violation of its constraints is found on its line', async t => {
  const policy = lines(`
apiVersion: v1
kind: Namespace
metadata: {name: prod, labels: {tier: prod}}
---
apiVersion: sluice.dev/v1beta1
kind: DeliveryPolicy
metadata: {name: prod}
spec:
  mode: enforce
  namespaceSelector: {matchLabels: {tier: prod}}
  defaults:
    provider: nginx
    service: {port: 80}
    analysis:
      interval: 1m
      threshold: 0
      stepWeight: 10
  constraints: {maxStepWeight: 20}
`)
  const app = lines(`
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: prod
  annotations:
    sluice.dev/strategy: canary
    sluice.dev/spec: |
      ingressRef: {name: web}
    sluice.dev/analysis: |
      stepWeight: 30
spec:
  selector: {matchLabels: {app: web}}
  template: {metadata: {labels: {app: web}}, spec: {containers: [{name: web, image: web:1}]}}
`)
  const problems = allProblems(check(inputs(['policy.yaml', policy], ['app.yaml', app]), { namespace: 'default' }))
  t.same(problems.map(p => [p.file, p.line, p.message]), [
    ['policy.yaml', 16, 'DeliveryPolicy prod: spec.defaults.analysis.threshold must be at least 1 (got 0)'],
    ['policy.yaml', 16, 'Deployment prod/web: DeliveryPolicy prod defaults: analysis.threshold must be at least 1 (got 0)'],
    ['app.yaml', 11, 'Deployment prod/web: annotation sluice.dev/analysis: stepWeight must be at most 20 under DeliveryPolicy prod (got 30)'],
  ], 'the policy\'s own error, and the Deployment\'s two: one from the policy\'s defaults (on the policy\'s line), one against its constraints')
})

t.test('unreadable YAML names its line; a List\'s items are checked; Flagger\'s objects are named, not checked', async t => {
  const broken = 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: x\n  labels: {a: b}}\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: y}\n'
  const result = check(inputs(['broken.yaml', broken]), { namespace: 'default' })
  t.same(result.problems, [{ severity: 'error', file: 'broken.yaml', line: 5, column: 17, message: 'not valid YAML: Unexpected flow-map-end token in YAML stream: "}"' }])
  t.equal(result.objects, 1, 'the other documents of the file are still read')
  const list = lines(`
apiVersion: v1
kind: List
items:
- apiVersion: sluice.dev/v1beta1
  kind: MetricTemplate
  metadata: {name: m, namespace: shop}
  spec:
    provider: {type: datadog}
    query: x
`)
  t.same(allProblems(check(inputs(['list.yaml', list]), { namespace: 'default' })).map(p => [p.line, p.column]), [[8, 16]])
  const flagger = 'apiVersion: flagger.app/v1beta1\nkind: Canary\nmetadata: {name: podinfo}\nspec: {}\n'
  const [problem] = allProblems(check(inputs(['flagger.yaml', flagger]), { namespace: 'default' }))
  t.equal(problem?.severity, 'warning')
  t.equal(problem?.line, 1)
  t.match(problem?.message, /Canary podinfo is Flagger's \(flagger\.app\/v1beta1\), not checked: sluice reads apiVersion sluice\.dev\/v1beta1/)
})

t.test('output formats: text with file:line:column, JSON, and GitHub workflow commands escaped', async t => {
  const problems = allProblems(check(inputs(['app.yaml', DEPLOYMENT]), { namespace: 'default' }))
  const counts = { files: 1, objects: 1, checked: 1 }
  t.equal(renderProblems(problems, counts, 'text').split('\n')[0], 'app.yaml:15:7: error: Deployment shop/web: annotation sluice.dev/analysis: stepWeight must be between 1 and 100 (got 0)')
  t.match(renderProblems(problems, counts, 'text'), /\n1 error, 1 warning in 1 object of 1 file \(1 for sluice\)\n$/)
  const json = JSON.parse(renderProblems(problems, counts, 'json')) as { errors: number; warnings: number; problems: { line: number }[] }
  t.same([json.errors, json.warnings, json.problems.map(p => p.line)], [1, 1, [15, 18]])
  t.equal(githubLine(problems[0]!),
    '::error file=app.yaml,line=15,col=7,title=sluice%3A Deployment shop/web::Deployment shop/web: annotation sluice.dev/analysis: stepWeight must be between 1 and 100 (got 0)')
  t.equal(escapeData('50% of\r\nlines'), '50%25 of%0D%0Alines')
  t.equal(escapeProperty('a:b,c'), 'a%3Ab%2Cc')
  t.equal(renderProblems([], counts, 'github'), 'no problems in 1 object of 1 file (1 for sluice)\n')
})

t.test('the plan of a Deployment: the webhook\'s answer with its plan text, steps, checks, hooks', async t => {
  const good = DEPLOYMENT.replace('stepWeight: 0', 'stepWeight: 25').replace('        templateRef: {name: errors}\n', '')
    .replace('- name: errors', '- name: request-success-rate').replace('{max: 1}', '{min: 99}')
  const result = check(inputs(['app.yaml', good]), { namespace: 'default' })
  t.equal(renderObjectPlan(result.checked[0]!), `Deployment shop/web (app.yaml:1)
  kubectl apply: admitted, with the warnings
    Warning: Deployment shop/web: first deployment: 1 replica(s) go to web-primary without analysis; later revisions: canary shop/web: 4 steps of 25% every 1m (25, 50, 75, 100), promotion in about 5m, done in about 6m; rollback after 2 failed checks, about 3m
  plan     canary shop/web: 4 steps of 25% every 1m (25, 50, 75, 100), promotion in about 5m, done in about 6m; rollback after 2 failed checks, about 3m
  router   nginx
  steps
    start    +0s  0%, the canary scaled up
    step 1   +1m  25%
    step 2   +2m  50%
    step 3   +3m  75%
    step 4   +4m  100%
    promote  +5m  once the checks at the last step pass; done at +6m
  checks   request-success-rate min 99%, window 1m
  hooks    none
`)
  const refused = check(inputs(['app.yaml', DEPLOYMENT]), { namespace: 'default' })
  t.match(renderObjectPlan(refused.checked[0]!), /kubectl apply: refused by the webhook\n {2}plan .*\n {2}problems\n {4}app\.yaml:15:7: error: /)
  const handWritten = check(inputs(['api.yaml', CANARY.replace('provider: kuma', 'provider: kubernetes')], ['app.yaml', 'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: api}\nspec: {}\n']), { namespace: 'default' })
  const deployment = handWritten.checked.find(c => c.review.kind === 'Deployment')!
  t.match(renderObjectPlan(deployment, canariesByTarget(handWritten.checked)), /delivered by Canary default\/api/)
  t.match(renderObjectPlan(deployment), /not delivered by sluice/)
})
