// The pure parts of observation: the revision (template plus tracked configs), the desired replicas, the
// operator's requests, and the tracked configs read from (in-memory stand-ins of) the informer caches.
import type { V1Deployment } from '@kubernetes/client-node'
import t from 'tap'
import type { Caches, ConfigSummary } from '../../../src/controller/caches.ts'
import { desiredReplicas, requestsOf, revisionOf, trackedConfigs } from '../../../src/controller/observe.ts'
import { templateRevision } from '../../../src/kube/revision.ts'
import { canary, deployment } from '../../helpers/objects.ts'

/** The target podinfo, reading configs four ways; without `replicas` it has none (the server's default applies). */
function target(options: { replicas?: number; annotations?: Record<string, string>; image?: string } = {}): V1Deployment {
  return deployment({
    metadata: { annotations: options.annotations },
    spec: {
      replicas: options.replicas ?? null,
      template: {
        spec: {
          containers: [{
            name: 'app', image: options.image ?? 'podinfo:6.0.0',
            envFrom: [{ configMapRef: { name: 'settings' } }, { secretRef: { name: 'token' } }],
            env: [{ name: 'SHARED', valueFrom: { configMapKeyRef: { name: 'shared', key: 'k' } } }],
          }],
          volumes: [{ name: 'gone', configMap: { name: 'missing' } }],
        },
      },
    },
  })
}

const template = (d: V1Deployment): unknown => d.spec?.template

t.test('revisionOf', async t => {
  const d = target()
  t.equal(revisionOf(d, { refs: [], hashes: {} }), templateRevision(template(d)), 'without configs, the template revision')
  const withConfigs = revisionOf(d, { refs: [], hashes: { 'configmap/settings': 'aaaa1111', 'secret/token': 'bbbb2222' } })
  t.not(withConfigs, templateRevision(template(d)), 'tracked configs fold into the revision')
  t.equal(withConfigs.length, templateRevision(template(d)).length, 'of the same length as a template revision')
  t.match(withConfigs, /^[0-9a-f]+$/)
  t.equal(
    revisionOf(d, { refs: [], hashes: { 'secret/token': 'bbbb2222', 'configmap/settings': 'aaaa1111' } }), withConfigs,
    'independent of the order of the hashes',
  )
  t.not(
    revisionOf(d, { refs: [], hashes: { 'configmap/settings': 'aaaa1112', 'secret/token': 'bbbb2222' } }), withConfigs,
    'a changed config hash is a new revision',
  )
  t.not(
    revisionOf(d, { refs: [], hashes: { 'configmap/settings': 'aaaa1111' } }), withConfigs,
    'so is a config no longer tracked',
  )
  t.not(
    revisionOf(target({ image: 'podinfo:6.0.1' }), { refs: [], hashes: { 'configmap/settings': 'aaaa1111', 'secret/token': 'bbbb2222' } }),
    withConfigs, 'and a changed template with the same configs',
  )
  t.equal(revisionOf(target({ replicas: 7 }), { refs: [], hashes: {} }), revisionOf(d, { refs: [], hashes: {} }), 'replicas are not part of it')
})

t.test('desiredReplicas', async t => {
  const primary = target({ replicas: 4 })
  t.equal(desiredReplicas(target({ replicas: 0, annotations: { 'status.sluice.dev/desired-replicas': '5' } }), primary), 5, 'the recorded annotation wins')
  t.equal(desiredReplicas(target({ replicas: 2, annotations: { 'status.sluice.dev/desired-replicas': '0' } }), primary), 0, 'even when it records 0')
  t.equal(desiredReplicas(target({ replicas: 2, annotations: { 'status.sluice.dev/desired-replicas': 'five' } }), primary), 2, 'an unreadable annotation is ignored')
  t.equal(desiredReplicas(target({ replicas: 3 }), primary), 3, 'else the target\'s replicas')
  t.equal(desiredReplicas(target({ replicas: 3 }), undefined), 3)
  t.equal(desiredReplicas(target({ replicas: 0 }), primary), 4, 'a target scaled to 0 (by sluice): the primary\'s')
  t.equal(desiredReplicas(target({ replicas: 0 }), undefined), 0, 'no primary yet: the target\'s 0 stands')
  t.equal(desiredReplicas(target({ replicas: 0 }), target()), 1, 'a primary without replicas runs the default 1')
  t.equal(desiredReplicas(target(), undefined), 1, 'a target without replicas: the default 1')
})

t.test('requestsOf reads RFC 3339 times', async t => {
  const r = requestsOf(canary({ metadata: { annotations: {
    'sluice.dev/retry': '2025-03-01T12:00:00Z',
    'sluice.dev/promote': '2025-03-01T13:30:00.250+01:00',
    'sluice.dev/abort': '2025-03-01t12:00:05z',
    'example.com/other': 'not a time',
  } } }))
  t.same(r.invalid, [])
  t.ok(r.requests.retry instanceof Date)
  t.equal(r.requests.retry?.toISOString(), '2025-03-01T12:00:00.000Z')
  t.equal(r.requests.promote?.toISOString(), '2025-03-01T12:30:00.250Z', 'the offset is applied')
  t.equal(r.requests.abort?.toISOString(), '2025-03-01T12:00:05.000Z', 'lower-case t and z are RFC 3339 too')
  t.same(requestsOf(canary({ metadata: { annotations: {} } })), { requests: {}, invalid: [] })
})

t.test('requestsOf reports an invalid time with its annotation and leaves the request out', async t => {
  const r = requestsOf(canary({ metadata: { annotations: { 'sluice.dev/retry': '2025-03-01T12:00:00Z', 'sluice.dev/promote': 'now' } } }))
  t.equal(r.requests.retry?.toISOString(), '2025-03-01T12:00:00.000Z', 'the valid one still counts')
  t.equal(r.requests.promote, undefined)
  t.equal(r.invalid.length, 1)
  t.match(r.invalid[0], /^sluice\.dev\/promote: "now" is not a time/)
  t.match(r.invalid[0], /date -u/, 'with how to write one')
})

t.test('requestsOf reports values Date would read but that are no RFC 3339 time', async t => {
  // new Date('1') is 2001-01-01 and a zone-less time is local time: either would be a silently ignored or
  // misdated request, where the user should be told.
  for (const text of ['1', 'true', '2025', '2025-03-01', '2025-03-01T12:00:00', 'March 1, 2025 12:00 UTC']) {
    const r = requestsOf(canary({ metadata: { annotations: { 'sluice.dev/abort': text } } }))
    t.equal(r.requests.abort, undefined, `${JSON.stringify(text)} is no request`)
    t.same(r.invalid.map(m => m.split(' is ')[0]), [`sluice.dev/abort: ${JSON.stringify(text)}`], `${JSON.stringify(text)} is reported`)
  }
})

/** In-memory stand-ins for the two informers trackedConfigs reads: get by name and namespace, list. */
function memory(items: ConfigSummary[]): { get(name: string, namespace?: string): ConfigSummary | undefined; list(namespace?: string): ConfigSummary[] } {
  return {
    get: (name, namespace) => items.find(i => i.metadata?.name === name && i.metadata?.namespace === namespace),
    list: namespace => items.filter(i => namespace === undefined || i.metadata?.namespace === namespace),
  }
}

function summary(kind: 'ConfigMap' | 'Secret', name: string, hash: string, options: { namespace?: string; annotations?: Record<string, string> } = {}): ConfigSummary {
  return {
    apiVersion: 'v1', kind, hash,
    metadata: { name, namespace: options.namespace ?? 'shop', ...(options.annotations && { annotations: options.annotations }) },
  }
}

function caches(configMaps: ConfigSummary[], secrets: ConfigSummary[]): Caches {
  // Only the members trackedConfigs touches; the real informers are tested elsewhere.
  return { configMaps: memory(configMaps), secrets: memory(secrets) } as unknown as Caches
}

t.test('trackedConfigs', async t => {
  const c = caches(
    [
      summary('ConfigMap', 'settings', 'cm111111'),
      summary('ConfigMap', 'shared', 'cm222222', { annotations: { 'sluice.dev/config-tracking': 'disabled' } }),
      summary('ConfigMap', 'missing', 'cm333333', { namespace: 'other' }),
    ],
    [summary('Secret', 'token', 'se111111')],
  )
  const tracked = trackedConfigs(c, target())
  t.same(tracked.refs, [{ kind: 'configmap', name: 'settings' }, { kind: 'secret', name: 'token' }],
    'missing (here: only in another namespace) and opted-out configs are skipped')
  t.same(tracked.hashes, { 'configmap/settings': 'cm111111', 'secret/token': 'se111111' })

  const bySecretName = trackedConfigs(caches([], [summary('Secret', 'settings', 'se999999')]), target())
  t.same(bySecretName.refs, [], 'a Secret does not stand in for a ConfigMap of the same name')

  const enabled = trackedConfigs(caches([summary('ConfigMap', 'settings', 'cm111111', { annotations: { 'sluice.dev/config-tracking': 'enabled' } })], []), target())
  t.same(enabled.hashes, { 'configmap/settings': 'cm111111' }, 'only "disabled" opts out')

  t.same(trackedConfigs(c, { metadata: { name: 'bare', namespace: 'shop' } }), { refs: [], hashes: {} }, 'a Deployment without a template tracks nothing')
})
