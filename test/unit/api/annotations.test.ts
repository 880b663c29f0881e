import t from 'tap'
import {
  ANNOTATIONS, STATE_ANNOTATIONS, hasOptIn, homeAnnotationOf, isStateKey, isUserKey, parseAnnotations,
} from '../../../src/api/annotations.ts'

t.test('user keys and sluice state keys never overlap', async t => {
  for (const key of Object.values(ANNOTATIONS)) {
    t.ok(isUserKey(key), `${key} is a user key`)
    t.notOk(isStateKey(key), `${key} is not a state key`)
  }
  for (const key of Object.values(STATE_ANNOTATIONS)) {
    t.ok(isStateKey(key), `${key} is a state key`)
    t.notOk(isUserKey(key), `${key} is not a user key`)
  }
  t.equal(STATE_ANNOTATIONS.desiredReplicas, 'status.sluice.dev/desired-replicas')
  t.equal(STATE_ANNOTATIONS.revision, 'status.sluice.dev/revision')
})

t.test('the strategy annotation is the opt-in', async t => {
  t.ok(hasOptIn({ 'sluice.dev/strategy': 'canary' }))
  t.notOk(hasOptIn({ 'sluice.dev/analysis': 'stepWeight: 5' }))
  t.notOk(hasOptIn(undefined))
})

t.test('every annotation is read into its own layer, sluice.dev/spec lowest', async t => {
  const parsed = parseAnnotations({
    'sluice.dev/strategy': 'blue-green',
    'sluice.dev/policy': 'prod',
    'sluice.dev/port': ' 9898 ',
    'sluice.dev/provider': 'istio',
    'sluice.dev/analysis': 'iterations: 10\ninterval: 30s',
    'sluice.dev/spec': 'service: {portName: grpc}\nskipAnalysis: false',
  })
  t.same(parsed.errors, [])
  t.equal(parsed.strategy, 'blue-green')
  t.equal(parsed.policy, 'prod')
  t.same(parsed.layers.map(l => [l.key, l.root]), [
    ['sluice.dev/spec', ''], ['sluice.dev/analysis', 'analysis'], ['sluice.dev/provider', 'provider'],
    ['sluice.dev/port', 'service.port'],
  ])
  t.same(parsed.layers.map(l => l.value), [
    { service: { portName: 'grpc' }, skipAnalysis: false },
    { analysis: { iterations: 10, interval: '30s' } },
    { provider: 'istio' },
    { service: { port: 9898 } },
  ])
})

t.test('an empty YAML annotation is an empty layer, not an error', async t => {
  const parsed = parseAnnotations({ 'sluice.dev/strategy': 'canary', 'sluice.dev/analysis': '' })
  t.same(parsed.errors, [])
  t.same(parsed.layers[0]?.value, { analysis: {} })
})

t.test('unparseable YAML names the annotation and the position', async t => {
  const parsed = parseAnnotations({ 'sluice.dev/analysis': 'stepWeights: [5, 10' })
  t.equal(parsed.errors.length, 1)
  t.equal(parsed.errors[0]?.field, 'sluice.dev/analysis')
  t.equal(parsed.errors[0]?.scope, 'annotation')
  t.match(parsed.errors[0]?.message, /^is not valid YAML: .* at line 1, column \d+$/)
})

t.test('YAML that is not a mapping is rejected with what it was', async t => {
  const parsed = parseAnnotations({ 'sluice.dev/spec': '- port: 80' })
  t.same(parsed.errors, [{ field: 'sluice.dev/spec', scope: 'annotation', message: 'must be a YAML mapping of fields (got a list)' }])
  const scalar = parseAnnotations({ 'sluice.dev/analysis': 'stepWeight=20' })
  t.equal(scalar.errors[0]?.message, 'must be a YAML mapping of fields (got "stepWeight=20")')
})

t.test('an unknown strategy lists the valid ones and suggests the nearest', async t => {
  t.same(parseAnnotations({ 'sluice.dev/strategy': 'rolling' }).errors, [
    { field: 'sluice.dev/strategy', scope: 'annotation', message: 'must be one of canary, blue-green, ab (got "rolling")' },
  ])
  t.equal(parseAnnotations({ 'sluice.dev/strategy': 'BlueGreen' }).errors[0]?.message,
    'must be one of canary, blue-green, ab (got "BlueGreen"); did you mean blue-green?')
  t.equal(parseAnnotations({ 'sluice.dev/strategy': 'ab-testing' }).errors[0]?.message,
    'must be one of canary, blue-green, ab (got "ab-testing"); did you mean ab?')
})

t.test('a port that is not a number is rejected at parse time', async t => {
  const parsed = parseAnnotations({ 'sluice.dev/port': 'http' })
  t.same(parsed.errors, [{ field: 'sluice.dev/port', scope: 'annotation', message: 'must be a port number between 1 and 65535 (got "http")' }])
  t.same(parsed.layers, [])
})

t.test('targetRef in sluice.dev/spec is refused and dropped', async t => {
  const parsed = parseAnnotations({ 'sluice.dev/spec': 'targetRef: {name: other}\nsuspend: true' })
  t.same(parsed.errors.map(e => e.message), ['must not set targetRef: the target is this Deployment; remove it'])
  t.same(parsed.layers[0]?.value, { suspend: true })
})

t.test('a mistyped sluice.dev/ key is reported, state keys and other prefixes are not', async t => {
  const parsed = parseAnnotations({
    'sluice.dev/stratgy': 'canary', 'status.sluice.dev/revision': 'abc', 'example.com/x': 'y',
  })
  t.equal(parsed.errors.length, 1)
  t.equal(parsed.errors[0]?.field, 'sluice.dev/stratgy')
  t.match(parsed.errors[0]?.message, /^is not a sluice annotation; use one of sluice.dev\/strategy, /)
})

t.test('a policy name must be a Kubernetes name', async t => {
  t.equal(parseAnnotations({ 'sluice.dev/policy': 'Prod Policy' }).errors[0]?.message,
    'must be the name of a DeliveryPolicy (got "Prod Policy")')
})

t.test('a missing field is set with the annotation that holds it', async t => {
  t.equal(homeAnnotationOf('service.port'), 'sluice.dev/port')
  t.equal(homeAnnotationOf('provider'), 'sluice.dev/provider')
  t.equal(homeAnnotationOf('analysis.iterations'), 'sluice.dev/analysis')
  t.equal(homeAnnotationOf('ingressRef'), 'sluice.dev/spec')
})
