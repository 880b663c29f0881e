import t from 'tap'
import { lintCanary, lintDeployment, type LintContext } from '../../../src/api/lint.ts'
import { validateSpec } from '../../../src/api/validate.ts'
import { annotated, canaryAnnotations } from './fixtures.ts'
import { canary } from '../../helpers/objects.ts'

const D = 'Deployment shop/podinfo'

function rejections(overrides: Record<string, string | undefined>, context: LintContext = {}, matchLabels?: Record<string, string>): readonly string[] {
  return lintDeployment(annotated(canaryAnnotations(overrides), matchLabels), context).rejections
}

const analysis = (yaml: string): Record<string, string> => ({ 'sluice.dev/analysis': yaml })
const BASE = 'interval: 1m\nthreshold: 5\nmetrics: [{name: request-success-rate, thresholdRange: {min: 99}}]\n'

t.test('the fixture configuration is valid', async t => {
  t.same(rejections({}), [])
})

t.test('unparseable YAML in an annotation', async t => {
  const [message, ...rest] = rejections(analysis('stepWeight: [20'))
  t.match(message, /^Deployment shop\/podinfo: annotation sluice.dev\/analysis is not valid YAML: .+ at line 1, column \d+$/)
  t.same(rest, [], 'later findings are not guessed from an unreadable annotation')
})

t.test('unknown strategy', async t => {
  t.same(rejections({ 'sluice.dev/strategy': 'rolling' }),
    [`${D}: annotation sluice.dev/strategy must be one of canary, blue-green, ab (got "rolling")`])
})

t.test('unknown provider, with no fallback', async t => {
  // Only what runs is recommended: the routers this version implements.
  const list = 'kubernetes, nginx, gatewayapi, gatewayapi:v1beta1, istio, linkerd, traefik, contour'
  t.same(rejections({ 'sluice.dev/provider': 'haproxy' }), [`${D}: annotation sluice.dev/provider "haproxy" is not a provider; available: ${list}`])
  t.same(rejections({ 'sluice.dev/provider': 'smi:v1alpha3:linkerd' }),
    [`${D}: annotation sluice.dev/provider "smi:v1alpha3:linkerd" is not a provider; available: ${list}`])
})

t.test('a provider Flagger has and sluice does not yet is refused at apply, naming what is available', async t => {
  for (const p of ['gloo', 'skipper', 'kuma', 'apisix', 'appmesh', 'osm']) {
    t.same(rejections({ 'sluice.dev/provider': p, 'sluice.dev/spec': undefined }),
      [`${D}: annotation sluice.dev/provider ${p} is not available yet in this version of sluice; available: kubernetes, nginx, gatewayapi, gatewayapi:v1beta1, istio, linkerd, traefik, contour`], p)
  }
})

t.test('stepWeight must be between 1 and 100', async t => {
  t.same(rejections(analysis(`${BASE}stepWeight: 0`)), [`${D}: annotation sluice.dev/analysis: stepWeight must be between 1 and 100 (got 0)`])
  t.same(rejections(analysis(`${BASE}stepWeight: 101`)), [`${D}: annotation sluice.dev/analysis: stepWeight must be between 1 and 100 (got 101)`])
})

t.test('maxWeight must be between 1 and 100', async t => {
  t.same(rejections(analysis(`${BASE}stepWeight: 10\nmaxWeight: 120`)), [`${D}: annotation sluice.dev/analysis: maxWeight must be between 1 and 100 (got 120)`])
  t.same(rejections(analysis(`${BASE}stepWeight: 10\nmaxWeight: 0`)), [`${D}: annotation sluice.dev/analysis: maxWeight must be between 1 and 100 (got 0)`])
})

t.test('stepWeights must increase strictly and stay within 1..100', async t => {
  t.same(rejections(analysis(`${BASE}stepWeights: [10, 40, 40, 20]`)), [
    `${D}: annotation sluice.dev/analysis: stepWeights[2] must be greater than the step before it (got 40 after 40); stepWeights must be strictly increasing, e.g. [5, 10, 25, 50]`,
    `${D}: annotation sluice.dev/analysis: stepWeights[3] must be greater than the step before it (got 20 after 40); stepWeights must be strictly increasing, e.g. [5, 10, 25, 50]`,
  ])
  t.same(rejections(analysis(`${BASE}stepWeights: [50, 150]`)), [`${D}: annotation sluice.dev/analysis: stepWeights[1] must be between 1 and 100 (got 150)`])
  t.same(rejections(analysis(`${BASE}stepWeights: [0, 50]`)), [`${D}: annotation sluice.dev/analysis: stepWeights[0] must be between 1 and 100 (got 0)`])
})

function report(overrides: Record<string, string | undefined>): { rejections: readonly string[]; warnings: readonly string[] } {
  const r = lintDeployment(annotated(canaryAnnotations(overrides)))
  return { rejections: r.rejections, warnings: r.warnings }
}

t.test('stepWeight, maxWeight and stepWeights together (Flagger\'s shape): accepted, stepWeights wins, a warning names what is ignored', async t => {
  const r = report(analysis(`${BASE}maxWeight: 50\nstepWeight: 5\nstepWeights: [1, 2, 10, 80]`))
  t.same(r.rejections, [], 'not refused')
  t.same(r.warnings, [
    `${D}: annotation sluice.dev/analysis: stepWeight is ignored: stepWeights sets every step (1, 2, 10, 80); remove stepWeight`,
    `${D}: annotation sluice.dev/analysis: maxWeight is ignored: the last of stepWeights (80) is the maximum; remove maxWeight`,
  ])
})

t.test('maxWeight beside stepWeights: equal to the last step is silent, any other value is ignored with a warning', async t => {
  t.same(report(analysis(`${BASE}stepWeights: [10, 50]\nmaxWeight: 50`)), { rejections: [], warnings: [] })
  t.same(report(analysis(`${BASE}stepWeights: [10, 80]\nmaxWeight: 50`)), {
    rejections: [],
    warnings: [`${D}: annotation sluice.dev/analysis: maxWeight is ignored: the last of stepWeights (80) is the maximum; remove maxWeight`],
  })
})

t.test('an ignored field is still checked: a stepWeight out of range is refused', async t => {
  t.same(report(analysis(`${BASE}stepWeight: 0\nstepWeights: [10, 50]`)).rejections,
    [`${D}: annotation sluice.dev/analysis: stepWeight must be between 1 and 100 (got 0)`])
})
t.test('canary needs a step and takes no iterations', async t => {
  t.same(rejections(analysis(BASE)),
    [`${D}: annotation sluice.dev/analysis: stepWeight is required for strategy canary, e.g. stepWeight: 20 (or give stepWeights, e.g. [5, 10, 25, 50])`])
  t.same(rejections(analysis(`${BASE}stepWeight: 10\niterations: 5`)),
    [`${D}: annotation sluice.dev/analysis: iterations is for strategies blue-green and ab; strategy canary moves traffic by stepWeight or stepWeights`])
})

t.test('iterations are required for blue-green and ab', async t => {
  t.same(rejections({ 'sluice.dev/strategy': 'blue-green', ...analysis(BASE) }),
    [`${D}: annotation sluice.dev/analysis: iterations is required for strategy blue-green: the number of checks before promotion, e.g. iterations: 10`])
  t.same(rejections({ 'sluice.dev/strategy': 'ab', ...analysis(`${BASE}match: [{headers: {x-canary: {exact: insider}}}]`) }),
    [`${D}: annotation sluice.dev/analysis: iterations is required for strategy ab: the number of checks before promotion, e.g. iterations: 10`])
  t.same(rejections({ 'sluice.dev/strategy': 'blue-green', ...analysis(`${BASE}iterations: 0`) }),
    [`${D}: annotation sluice.dev/analysis: iterations must be at least 1 (got 0)`])
})

t.test('blue-green takes no weights', async t => {
  t.same(rejections({ 'sluice.dev/strategy': 'blue-green', ...analysis(`${BASE}iterations: 10\nstepWeight: 20`) }),
    [`${D}: annotation sluice.dev/analysis: stepWeight is for strategy canary; strategy blue-green runs iterations, then moves all traffic at once; remove it`])
})

t.test('match belongs to ab, and ab needs match', async t => {
  t.same(rejections(analysis(`${BASE}stepWeight: 20\nmatch: [{headers: {x-canary: {exact: insider}}}]`)),
    [`${D}: annotation sluice.dev/analysis: match is only used by strategy ab (the strategy is canary); remove it, or use strategy ab with iterations`])
  t.same(rejections({ 'sluice.dev/strategy': 'ab', ...analysis(`${BASE}iterations: 10`) }),
    [`${D}: annotation sluice.dev/analysis: match is required for strategy ab: the requests routed to the canary, e.g. [{headers: {x-canary: {exact: insider}}}]`])
  t.same(rejections({ 'sluice.dev/strategy': 'ab', ...analysis(`${BASE}iterations: 10\nmatch: [{headers: {x-canary: {exact: insider}}}]`) }), [])
})

t.test('interval must parse and be at least the floor', async t => {
  const metrics = 'threshold: 5\nstepWeight: 20\nmetrics: [{name: request-success-rate, thresholdRange: {min: 99}}]\n'
  t.same(rejections(analysis(`${metrics}interval: one minute`)),
    [`${D}: annotation sluice.dev/analysis: interval must be a duration such as 30s, 1m or 1m30s (got "one minute")`])
  t.same(rejections(analysis(`${metrics}interval: 5s`)), [`${D}: annotation sluice.dev/analysis: interval must be at least 10s (got 5s)`])
  t.same(rejections(analysis(`${metrics}interval: 5s`), { minIntervalMs: 1000 }), [], 'tests can lower the floor')
})

t.test('an interval not shorter than the progress deadline is accepted with a warning: one hold would roll back', async t => {
  const metrics = 'threshold: 5\nstepWeight: 20\nmetrics: [{name: request-success-rate, thresholdRange: {min: 99}}]\n'
  const warnings = (o: Record<string, string>) => lintDeployment(annotated(canaryAnnotations(o))).warnings
  t.same(warnings(analysis(`${metrics}interval: 9m59s`)), [], 'shorter than the default 600 s')
  t.same(warnings(analysis(`${metrics}interval: 10m`)),
    [`${D}: annotation sluice.dev/analysis: interval (10m) is not shorter than progressDeadlineSeconds (600): one interval without progress rolls back; make the deadline a few intervals long`])
  const spec = canaryAnnotations({})['sluice.dev/spec'] ?? ''
  t.same(warnings({ ...analysis(`${metrics}interval: 1m`), 'sluice.dev/spec': `${spec}\nprogressDeadlineSeconds: 60` }).length, 1, 'the Canary\'s own deadline counts')
  t.same(rejections({ ...analysis(`${metrics}interval: 10m`) }), [], 'not refused')
})

t.test('threshold must be at least 1', async t => {
  t.same(rejections(analysis('interval: 1m\nstepWeight: 20\nthreshold: 0\nmetrics: [{name: request-success-rate, thresholdRange: {min: 99}}]')),
    [`${D}: annotation sluice.dev/analysis: threshold must be at least 1 (got 0)`])
})

t.test('thresholdRange needs min or max, min not above max', async t => {
  const with_ = (metric: string): readonly string[] => rejections(analysis(`interval: 1m\nthreshold: 5\nstepWeight: 20\nmetrics: [${metric}]`))
  t.same(with_('{name: request-success-rate, thresholdRange: {min: 99, max: 90}}'),
    [`${D}: annotation sluice.dev/analysis: metrics[0].thresholdRange has min 99 above max 90, so no value could pass; swap them`])
  t.same(with_('{name: request-duration, thresholdRange: {}}'),
    [`${D}: annotation sluice.dev/analysis: metrics[0].thresholdRange must set min, max or both, e.g. thresholdRange: {max: 500} (milliseconds)`])
  t.same(with_('{name: request-success-rate}'),
    [`${D}: annotation sluice.dev/analysis: metrics[0].thresholdRange is required: the accepted values of request-success-rate, e.g. thresholdRange: {min: 99} (percent)`])
  t.same(with_('{name: request-success-rate, threshold: 99}'), [], 'the deprecated threshold still counts as a range')
})

t.test('a metric is builtin, or has a templateRef (or a deprecated query)', async t => {
  const with_ = (metric: string, context: LintContext = {}): readonly string[] =>
    rejections(analysis(`interval: 1m\nthreshold: 5\nstepWeight: 20\nmetrics: [${metric}]`), context)
  t.same(with_('{name: error-rate, thresholdRange: {max: 1}}'),
    [`${D}: annotation sluice.dev/analysis: metrics[0] "error-rate" is neither a builtin metric (request-success-rate, request-duration) nor has a templateRef; add templateRef: {name: <MetricTemplate>}`])
  t.same(with_('{name: error-rate, query: "sum(x)", thresholdRange: {max: 1}}'), [])
  t.same(with_('{name: error-rate, templateRef: {name: errors}, thresholdRange: {max: 1}}'), [], 'not checked without a lookup')
})

t.test('references are checked through the caller\'s lookup, in the Canary\'s namespace by default', async t => {
  const seen: string[] = []
  const refs = {
    metricTemplate: (ns: string, name: string) => { seen.push(`mt ${ns}/${name}`); return name === 'errors' },
    alertProvider: (ns: string, name: string) => { seen.push(`ap ${ns}/${name}`); return ns === 'ops' },
  }
  const text = 'interval: 1m\nthreshold: 5\nstepWeight: 20\n' +
    'metrics: [{name: errors, templateRef: {name: errors}, thresholdRange: {max: 1}}, {name: latency, templateRef: {name: latency, namespace: obs}, thresholdRange: {max: 1}}]\n' +
    'alerts: [{name: on-call, providerRef: {name: slack}}, {name: team, providerRef: {name: slack, namespace: ops}}]'
  t.same(rejections(analysis(text), { refs }), [
    `${D}: annotation sluice.dev/analysis: metrics[1].templateRef names MetricTemplate obs/latency, which does not exist; create it or fix the name`,
    `${D}: annotation sluice.dev/analysis: alerts[0].providerRef names AlertProvider shop/slack, which does not exist; create it or fix the name`,
  ])
  t.same(seen, ['mt shop/errors', 'mt obs/latency', 'ap shop/slack', 'ap ops/slack'])
})

t.test('webhook URLs must be http or https, and types are Flagger\'s', async t => {
  const hooks = (list: string): readonly string[] => rejections(analysis(`${BASE}stepWeight: 20\nwebhooks: ${list}`))
  t.same(hooks('[{name: load, url: "ftp://tester/"}]'),
    [`${D}: annotation sluice.dev/analysis: webhooks[0].url must be an http:// or https:// URL (got "ftp://tester/")`])
  t.same(hooks('[{name: load, url: "tester:8080"}]'),
    [`${D}: annotation sluice.dev/analysis: webhooks[0].url must be an http:// or https:// URL (got "tester:8080")`])
  t.same(hooks('[{name: gate, url: "http://gate/", type: pre}]'),
    [`${D}: annotation sluice.dev/analysis: webhooks[0].type must be one of confirm-rollout, pre-rollout, rollout, confirm-traffic-increase, confirm-promotion, post-rollout, rollback, event (got "pre")`])
  t.same(hooks('[{name: gate, url: "https://gate/", type: ""}, {name: load, url: "http://t/", type: confirm-traffic-increase, timeout: 30s}]'), [])
  t.same(hooks('[{name: gate, url: "https://gate/", timeout: 10}]'),
    [`${D}: annotation sluice.dev/analysis: webhooks[0].timeout must be a string (got 10)`])
})

t.test('the service port is required and must be a port number', async t => {
  t.same(rejections({ 'sluice.dev/port': undefined }),
    [`${D}: service.port is required (the port the app serves on, between 1 and 65535, e.g. 9898); set it with annotation sluice.dev/port`])
  t.same(rejections({ 'sluice.dev/port': '70000' }), [`${D}: annotation sluice.dev/port must be between 1 and 65535 (got 70000)`])
  t.same(rejections({ 'sluice.dev/port': '0' }), [`${D}: annotation sluice.dev/port must be between 1 and 65535 (got 0)`])
})

t.test('the Deployment selector must carry app, name or app.kubernetes.io/name', async t => {
  t.same(rejections({}, {}, { component: 'web' }),
    [`${D}: spec.selector.matchLabels must contain one of the labels app, name, app.kubernetes.io/name: sluice tells the primary's pods from the canary's by it (e.g. app: podinfo)`])
  t.same(rejections({}, {}, { 'app.kubernetes.io/name': 'podinfo' }), [])
  t.same(rejections({}, {}, { app: 'x'.repeat(56) }),
    [`${D}: spec.selector.matchLabels.app must be at most 55 characters so that "${'x'.repeat(56)}-primary" is a valid label value (got 56)`])
})

t.test('the provider must be able to do what the strategy needs', async t => {
  t.same(rejections({ 'sluice.dev/provider': undefined, 'sluice.dev/spec': undefined }),
    [`${D}: provider defaults to kubernetes, which cannot send a share of traffic to the canary; strategy canary needs one of nginx, gatewayapi:v1, gatewayapi:v1beta1, istio, linkerd, traefik, contour (or use strategy blue-green); set it with annotation sluice.dev/provider`])
  t.same(rejections({ 'sluice.dev/strategy': 'ab', 'sluice.dev/provider': 'kubernetes', 'sluice.dev/spec': undefined, ...analysis(`${BASE}iterations: 10\nmatch: [{headers: {x: {exact: y}}}]`) }),
    [`${D}: annotation sluice.dev/provider kubernetes cannot route requests by header or cookie; strategy ab needs one of nginx, gatewayapi:v1, gatewayapi:v1beta1, istio, linkerd, contour`])
  t.same(rejections(analysis(`${BASE}stepWeight: 20\nmirror: true`)),
    [`${D}: annotation sluice.dev/analysis: mirror is not used by provider nginx in this version of sluice (it is used by gatewayapi, gatewayapi:v1beta1, istio, traefik, contour); remove it or change the provider`])
  t.same(rejections(analysis(`${BASE}stepWeight: 20\nsessionAffinity: {cookieName: canary}`)),
    [`${D}: annotation sluice.dev/analysis: sessionAffinity is not used by provider nginx in this version of sluice (it is used by gatewayapi, gatewayapi:v1beta1, istio); remove it or change the provider`])
  t.same(rejections({ 'sluice.dev/spec': undefined }),
    [`${D}: ingressRef is required with provider nginx: the Ingress whose traffic sluice splits, e.g. ingressRef: {apiVersion: networking.k8s.io/v1, kind: Ingress, name: podinfo}; set it with annotation sluice.dev/spec`])
  t.same(rejections({ 'sluice.dev/provider': 'gatewayapi', 'sluice.dev/spec': undefined }),
    [`${D}: service.gatewayRefs is required with provider gatewayapi:v1: the Gateways the HTTPRoute attaches to, e.g. [{name: public, namespace: gateways}]; set it with annotation sluice.dev/spec`])
  t.same(rejections({ 'sluice.dev/strategy': 'blue-green', 'sluice.dev/provider': 'kubernetes', 'sluice.dev/spec': undefined, ...analysis(`${BASE}iterations: 10`) }), [],
    'kubernetes does blue-green')
})

t.test('session affinity needs two different cookies', async t => {
  t.same(rejections({ 'sluice.dev/provider': 'gatewayapi', 'sluice.dev/spec': 'service: {gatewayRefs: [{name: public}]}', ...analysis(`${BASE}stepWeight: 20\nsessionAffinity: {cookieName: c, primaryCookieName: c}`) }), [
    `${D}: annotation sluice.dev/analysis: sessionAffinity.primaryCookieName must differ from cookieName (both are "c")`,
  ])
  t.same(rejections({ 'sluice.dev/provider': 'istio', 'sluice.dev/spec': undefined, ...analysis(`${BASE}stepWeight: 20\nsessionAffinity: {cookieName: c, primaryCookieName: p}`) }), [],
    'istio keeps users on their side by cookie')
})

t.test('session affinity is for weighted steps: blue-green and A/B never split by weight', async t => {
  t.same(rejections({ 'sluice.dev/strategy': 'blue-green', 'sluice.dev/provider': 'istio', 'sluice.dev/spec': undefined, ...analysis(`${BASE}iterations: 5\nsessionAffinity: {cookieName: c}`) }),
    [`${D}: annotation sluice.dev/analysis: sessionAffinity is for strategy canary; strategy blue-green runs iterations, then moves all traffic at once; remove it`])
  t.same(rejections({ 'sluice.dev/strategy': 'ab', 'sluice.dev/provider': 'istio', 'sluice.dev/spec': undefined, ...analysis(`${BASE}iterations: 5\nmatch: [{headers: {x: {exact: y}}}]\nsessionAffinity: {cookieName: c}`) }),
    [`${D}: annotation sluice.dev/analysis: sessionAffinity is for strategy canary; strategy ab runs iterations, then moves all traffic at once; remove it`])
})

t.test('unknown fields are rejected with the nearest known name', async t => {
  t.same(rejections(analysis(`${BASE}stepweight: 20`)), [
    `${D}: annotation sluice.dev/analysis: stepweight is not a known field; did you mean stepWeight?`,
    `${D}: annotation sluice.dev/analysis: stepWeight is required for strategy canary, e.g. stepWeight: 20 (or give stepWeights, e.g. [5, 10, 25, 50])`,
  ])
  t.same(rejections({ 'sluice.dev/spec': 'ingressRef: {name: podinfo}\nsevrice: {portName: grpc}' }),
    [`${D}: annotation sluice.dev/spec: sevrice is not a known field; did you mean service?`])
})

t.test('types are checked against the CRD schema', async t => {
  t.same(rejections(analysis(`${BASE}stepWeight: "20"`)), [`${D}: annotation sluice.dev/analysis: stepWeight must be a whole number (got "20")`])
  t.same(rejections(analysis('interval: 1m\nstepWeight: 20\nmetrics: {name: request-success-rate}')),
    [`${D}: annotation sluice.dev/analysis: metrics must be a list (got a mapping)`])
})

t.test('metric and webhook names are unique', async t => {
  t.same(rejections(analysis('interval: 1m\nthreshold: 5\nstepWeight: 20\nmetrics: [{name: request-duration, thresholdRange: {max: 500}}, {name: request-duration, thresholdRange: {max: 900}}]')),
    [`${D}: annotation sluice.dev/analysis: metrics[1].name repeats the name of metrics[0] (request-duration); names must be unique`])
})

t.test('a Canary object is reported by its spec fields', async t => {
  const c = canary({ spec: { provider: 'kuma', analysis: { interval: '1m', threshold: 1, stepWeight: 0, metrics: [] } } })
  t.same(lintCanary(c), { rejections: [
    'Canary shop/podinfo: spec.analysis.stepWeight must be between 1 and 100 (got 0)',
    'Canary shop/podinfo: spec.provider kuma is not available yet in this version of sluice; available: kubernetes, nginx, gatewayapi, gatewayapi:v1beta1, istio, linkerd, traefik, contour',
  ], warnings: [] })
  t.same(lintCanary({ metadata: { name: 'x', namespace: 'shop' } }), { rejections: ['Canary shop/x: spec is required'], warnings: [] })
})

const flaggerCanary = (spec: Record<string, unknown>): unknown => canary({ spec: {
  provider: 'nginx', service: { port: 80, targetPort: 9898 },
  ingressRef: { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', name: 'podinfo' }, ...spec,
} })
const GOOD = { interval: '1m', threshold: 5, stepWeight: 10, maxWeight: 50, metrics: [{ name: 'request-success-rate', thresholdRange: { min: 99 } }] }

t.test('a DaemonSet target is refused with what to do instead', async t => {
  t.same(lintCanary(flaggerCanary({ targetRef: { apiVersion: 'apps/v1', kind: 'DaemonSet', name: 'podinfo' }, analysis: GOOD })).rejections, [
    'Canary shop/podinfo: spec.targetRef.kind is DaemonSet, which sluice does not release (it delivers Deployments only, through a primary and a canary Deployment); run the app as a Deployment and set targetRef.kind: Deployment, or keep this app out of sluice',
  ])
  t.same(lintCanary(flaggerCanary({ targetRef: { apiVersion: 'serving.knative.dev/v1', kind: 'Service', name: 'podinfo' }, analysis: GOOD })).rejections,
    ['Canary shop/podinfo: spec.targetRef.kind must be Deployment: sluice releases Deployments only (got "Service")'])
})

t.test('canaryAnalysis, Flagger\'s old name of analysis, is read as analysis with a warning to rename it', async t => {
  t.same(lintCanary(flaggerCanary({ canaryAnalysis: GOOD })), {
    rejections: [],
    warnings: ['Canary shop/podinfo: spec.canaryAnalysis is the old name of analysis; rename it (sluice reads it as analysis meanwhile)'],
  })
  t.same(lintCanary(flaggerCanary({ canaryAnalysis: { ...GOOD, stepWeight: 0 } })).rejections,
    ['Canary shop/podinfo: spec.canaryAnalysis.stepWeight must be between 1 and 100 (got 0)'], 'checked as the schema of analysis')
  t.same(lintCanary(flaggerCanary({ canaryAnalysis: { ...GOOD, iterations: 5 } })).rejections,
    ['Canary shop/podinfo: spec.canaryAnalysis.stepWeight is for strategy canary; strategy blue-green runs iterations, then moves all traffic at once; remove it',
      'Canary shop/podinfo: spec.canaryAnalysis.maxWeight is for strategy canary; strategy blue-green runs iterations, then moves all traffic at once; remove it'],
    'the semantic rules of analysis, named by the field the user wrote')
  t.same(lintCanary(flaggerCanary({ canaryAnalysis: { interval: '1m', threshold: 5, metrics: [] } })).rejections,
    ['Canary shop/podinfo: spec.canaryAnalysis.stepWeight is required for strategy canary, e.g. stepWeight: 20 (or give stepWeights, e.g. [5, 10, 25, 50])'],
    'a canaryAnalysis without steps is an analysis without steps')
})

t.test('analysis and canaryAnalysis both set: analysis wins, canaryAnalysis is ignored with a warning', async t => {
  const r = lintCanary(flaggerCanary({ analysis: GOOD, canaryAnalysis: { interval: '1m', threshold: 5, iterations: 3 } }))
  t.same(r, {
    rejections: [],
    warnings: ['Canary shop/podinfo: spec.canaryAnalysis is ignored: analysis is set too and wins, as in Flagger (canaryAnalysis is its old name); remove canaryAnalysis'],
  }, 'the iterations of canaryAnalysis do not make it blue-green')
})

t.test('canaryAnalysis in a Deployment\'s annotations is refused: annotations say analysis', async t => {
  t.same(rejections({ 'sluice.dev/spec': 'ingressRef: {name: podinfo}\ncanaryAnalysis: {interval: 1m}' }).filter(r => r.includes('canaryAnalysis')),
    [`${D}: annotation sluice.dev/spec: canaryAnalysis is Flagger's old name of analysis; set the analysis with annotation sluice.dev/analysis`])
})

t.test('validateSpec returns fields and messages as data', async t => {
  t.same(validateSpec({ targetRef: { name: 'a' }, service: { port: 80 }, provider: 'nginx', ingressRef: { name: 'a' }, analysis: { stepWeight: 10, threshold: 0 } }),
    [{ field: 'analysis.threshold', message: 'must be at least 1 (got 0)' }])
  t.same(validateSpec('nope'), [{ field: '', message: 'must be a mapping (got "nope")' }])
})

t.test('skipAnalysis needs no steps or iterations', async t => {
  t.same(rejections({ 'sluice.dev/spec': 'ingressRef: {name: podinfo}\nskipAnalysis: true', ...analysis('') }), [])
})

t.test('sluice annotations without the opt-in are warnings, not errors', async t => {
  const report = lintDeployment(annotated({ 'sluice.dev/analysis': 'stepWeight: 0' }))
  t.same(report.rejections, [])
  t.same(report.warnings, [`${D}: annotation sluice.dev/analysis has no effect without sluice.dev/strategy (canary, blue-green or ab)`])
})

t.test('istio: service.appProtocol tcp refuses each HTTP-only option by name; delegation refuses hosts and gateways', async t => {
  const istio = { 'sluice.dev/provider': 'istio', 'sluice.dev/spec': undefined }
  const tcp = (spec: string, more = `${BASE}stepWeight: 20\n`): readonly string[] =>
    rejections({ ...istio, 'sluice.dev/spec': `service: {port: 9898, appProtocol: tcp${spec}}\n`, ...analysis(more) })
  t.same(tcp(''), [], 'a tcp port with weights alone is admitted')
  const why = (field: string, what: string, where = 'sluice.dev/spec: service.'): string =>
    `${D}: annotation ${where}${field} is HTTP only and service.appProtocol is tcp: the istio router writes a weighted tcp route, which has no ${what}; remove it, or serve HTTP (appProtocol http)`
  t.same(tcp(', timeout: 5s, retries: {attempts: 2}'), [why('timeout', 'request timeouts'), why('retries', 'retries')])
  t.same(tcp(', headers: {request: {set: {x: y}}}, rewrite: {uri: /v2}, corsPolicy: {allowMethods: [GET]}, match: [{uri: {prefix: /a}}]'),
    [why('match', 'request matching'), why('headers', 'header operations'), why('rewrite', 'rewrites'), why('corsPolicy', 'CORS')])
  t.same(tcp('', `${BASE}stepWeight: 20\nmirror: true\nmirrorWeight: 20\n`),
    [why('mirror', 'mirroring', 'sluice.dev/analysis: '), why('mirrorWeight', 'mirroring', 'sluice.dev/analysis: ')])
  t.same(rejections({ ...istio, 'sluice.dev/strategy': 'ab', 'sluice.dev/spec': 'service: {port: 9898, appProtocol: tcp}\n', ...analysis(`${BASE}iterations: 3\nmatch: [{headers: {x: {exact: y}}}]`) }),
    [why('match', 'header and cookie matching (A/B)', 'sluice.dev/analysis: ')])

  const delegate = (spec: string): readonly string[] => rejections({ ...istio, 'sluice.dev/spec': `service: {port: 9898, delegation: true${spec}}\n` })
  t.same(delegate(''), [], 'a delegate alone is admitted')
  t.same(delegate(', hosts: [app.example.com], gateways: [public]'), [
    `${D}: annotation sluice.dev/spec: service.hosts must be empty with service.delegation: a delegate VirtualService has no hosts; set them on the root VirtualService that delegates to podinfo`,
    `${D}: annotation sluice.dev/spec: service.gateways must be empty with service.delegation: a delegate VirtualService has no gateways; set them on the root VirtualService that delegates to podinfo`,
  ])
  t.same(rejections({ 'sluice.dev/provider': 'gatewayapi', 'sluice.dev/spec': 'service: {port: 9898, delegation: true, gatewayRefs: [{name: gw}]}\n' }),
    [`${D}: annotation sluice.dev/spec: service.delegation is not used by provider gatewayapi:v1 in this version of sluice (it is used by istio); remove it or change the provider`])
})

t.test('contour: a retryOn condition Contour\'s HTTPProxy does not accept is refused at apply, naming the ones it does', async t => {
  const contour = (retryOn: string): readonly string[] =>
    rejections({ 'sluice.dev/provider': 'contour', 'sluice.dev/spec': `service: {port: 9898, retries: {attempts: 2, retryOn: "${retryOn}"}}\n` })
  t.same(contour('5xx,gateway-error,503'), [], 'Envoy conditions and status codes are admitted')
  t.same(contour('5xx,connect-failure,bogus,retriable-5xx'), [`${D}: annotation sluice.dev/spec: service.retries.retryOn "bogus", "retriable-5xx" are not a retry condition ` +
    'Contour accepts; use a status code (e.g. 503) or one of 5xx, gateway-error, reset, reset-before-request, connect-failure, envoy-ratelimited, ' +
    'retriable-4xx, refused-stream, retriable-status-codes, retriable-headers, http3-post-connect-failure, cancelled, deadline-exceeded, internal, ' +
    'resource-exhausted, unavailable'])
  t.same(rejections({ 'sluice.dev/provider': 'istio', 'sluice.dev/spec': 'service: {port: 9898, retries: {attempts: 2, retryOn: "bogus"}}\n' }), [],
    'istio passes retryOn through as Envoy reads it')
})

t.test('service.mirror is refused on every provider, saying what it is and what mirrors to the canary instead', async t => {
  for (const provider of ['istio', 'gatewayapi']) {
    const found = rejections({ 'sluice.dev/provider': provider, 'sluice.dev/spec': 'service: {port: 9898, gatewayRefs: [{name: gw}], mirror: [{backendRef: {name: shadow, port: 80}}]}\n' })
      .filter(r => r.includes('service.mirror'))
    t.same(found, [`${D}: annotation sluice.dev/spec: service.mirror is not available yet in this version of sluice (Flagger's extra RequestMirror filters of a Gateway API HTTPRoute; ` +
      'no router writes them (analysis.mirror copies the traffic to the canary instead)); remove it'], provider)
  }
})
