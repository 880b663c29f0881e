// decideResource: sluice's own kinds as the API server sends them (CREATE with object, UPDATE with both),
// refused when this version cannot run them, with warnings for references not in the cache yet.
import t from 'tap'
import { decideResource } from '../../../src/admission/resources.ts'
import type { AdmissionRequest, KubeObject, Operation } from '../../../src/admission/review.ts'
import type { Canary, MetricTemplate } from '../../../src/api/types.ts'
import { canary, manifest, metricTemplate } from '../../helpers/objects.ts'

const SLUICE = 'system:serviceaccount:sluice-system:sluice'
const PLURALS: Record<string, string> = { Canary: 'canaries', MetricTemplate: 'metrictemplates', AlertProvider: 'alertproviders', DeliveryPolicy: 'deliverypolicies' }

function request(kind: string, operation: Operation, object: KubeObject, old?: KubeObject, username = 'admin'): AdmissionRequest {
  return {
    uid: 'c0ffee00-0000-4000-8000-000000000003',
    kind: { group: 'sluice.dev', version: 'v1beta1', kind },
    resource: { group: 'sluice.dev', version: 'v1beta1', resource: PLURALS[kind]! },
    ...(kind !== 'DeliveryPolicy' && { namespace: 'shop' }), name: object.metadata?.name ?? '', operation,
    userInfo: { username, groups: ['system:authenticated'] }, object, ...(old && { oldObject: old }),
  }
}

const ctx = (templates: string[] = []) => ({
  sluiceUsername: SLUICE,
  refs: { metricTemplate: (_ns: string, name: string) => templates.includes(name), alertProvider: () => true },
})

/** The object as a client sends it, decoded from JSON as the webhook reads it. */
const sent = (o: Canary | MetricTemplate): KubeObject => JSON.parse(JSON.stringify(manifest(o))) as KubeObject

const KUMA = sent(canary({ spec: { provider: 'kuma', analysis: { interval: '1m', stepWeight: 10 } } }))
const BLUE_GREEN = sent(canary({ spec: { provider: 'kubernetes', analysis: { interval: '1m', iterations: 2 } } }))

t.test('a Canary with a provider this version has no router for is refused, naming the field', async t => {
  const v = decideResource(request('Canary', 'CREATE', KUMA), ctx())
  t.equal(v.allowed, false)
  t.equal(v.status?.code, 422)
  t.equal(v.status?.message, 'Canary shop/podinfo: spec.provider kuma is not available yet in this version of sluice; available: kubernetes, nginx, gatewayapi, gatewayapi:v1beta1, istio, linkerd, traefik, contour')
})

t.test('a Canary that runs is admitted; a template not in the cache yet is a warning, not a refusal', async t => {
  t.same(decideResource(request('Canary', 'CREATE', BLUE_GREEN), ctx()), { allowed: true })
  const withTemplate = sent(canary({ spec: {
    provider: 'kubernetes', analysis: { interval: '1m', iterations: 2, metrics: [{ name: 'errors', templateRef: { name: 'errors' }, thresholdRange: { max: 1 } }] },
  } }))
  const v = decideResource(request('Canary', 'CREATE', withTemplate), ctx())
  t.equal(v.allowed, true)
  t.match(v.warnings, [/MetricTemplate shop\/errors, which does not exist/])
  t.same(decideResource(request('Canary', 'CREATE', withTemplate), ctx(['errors'])), { allowed: true })
})

t.test('an UPDATE that leaves the spec alone goes through, so that an old object can still be deleted or retried', async t => {
  const finalizerGone = { ...KUMA, metadata: { ...KUMA.metadata, finalizers: [] } } as KubeObject
  t.same(decideResource(request('Canary', 'UPDATE', finalizerGone, KUMA), ctx()), { allowed: true })
  t.equal(decideResource(request('Canary', 'UPDATE', KUMA, BLUE_GREEN), ctx()).allowed, false, 'a spec change is checked')
})

t.test('sluice\'s own writes and subresources are not checked again', async t => {
  t.same(decideResource(request('Canary', 'CREATE', KUMA, undefined, SLUICE), ctx()), { allowed: true })
  t.same(decideResource({ ...request('Canary', 'UPDATE', KUMA, KUMA), subResource: 'status' }, ctx()), { allowed: true })
})

t.test('MetricTemplate, AlertProvider and DeliveryPolicy are checked by their own rules', async t => {
  const datadog = sent(metricTemplate({ spec: { provider: { type: 'datadog' }, query: 'q' } }))
  t.equal(decideResource(request('MetricTemplate', 'CREATE', datadog), ctx()).status?.message,
    'MetricTemplate shop/errors: spec.provider.type datadog is not available yet in this version of sluice; available: prometheus')
  const teams = { apiVersion: 'sluice.dev/v1beta1', kind: 'AlertProvider', metadata: { name: 'teams', namespace: 'shop' }, spec: { type: 'msteams', username: 'bot' } } as KubeObject
  t.equal(decideResource(request('AlertProvider', 'CREATE', teams), ctx()).status?.message, [
    'AlertProvider shop/teams: spec.username is not used by type msteams (only by slack, rocket, discord); remove it',
    'AlertProvider shop/teams: spec.address or secretRef (a Secret with the key address) is required: where the alerts are sent',
  ].join('\n'))
  const policy = { apiVersion: 'sluice.dev/v1beta1', kind: 'DeliveryPolicy', metadata: { name: 'prod' }, spec: { defaults: { service: { meshName: 'global' } } } } as KubeObject
  t.equal(decideResource(request('DeliveryPolicy', 'CREATE', policy), ctx()).status?.message,
    'DeliveryPolicy prod: spec.defaults.service.meshName is not available yet in this version of sluice; remove it')
})
