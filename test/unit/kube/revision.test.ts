import t from 'tap'
import fc from 'fast-check'
import { canonicalQuantity } from '../../../src/kube/quantity.ts'
import { canonicalize, canonicalJson, configHash, defaultPullPolicy, normalizeTemplate, templateRevision } from '../../../src/kube/revision.ts'

// What a user applies.
const submitted = () => ({
  metadata: { labels: { app: 'podinfo' }, annotations: { 'prometheus.io/scrape': 'true' } },
  spec: {
    serviceAccountName: 'podinfo',
    containers: [
      {
        name: 'podinfo',
        image: 'ghcr.io/stefanprodan/podinfo:6.5.0',
        ports: [{ name: 'http', containerPort: 9898 }],
        env: [
          { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
          { name: 'EMPTY', value: '' },
        ],
        readinessProbe: { httpGet: { path: '/readyz', port: 9898 } },
        livenessProbe: { httpGet: { path: '/healthz', port: 'http' }, initialDelaySeconds: 5 },
        resources: { requests: { cpu: 0.1, memory: '64Mi' }, limits: { cpu: '1', memory: '1024Mi' } },
        volumeMounts: [{ name: 'data', mountPath: '/data' }, { name: 'config', mountPath: '/config' }],
      },
      { name: 'sidecar', image: 'busybox', command: ['sh', '-c', 'sleep infinity'] },
    ],
    volumes: [{ name: 'data', emptyDir: {} }, { name: 'config', configMap: { name: 'podinfo-config' } }],
  },
})

// The same template as the API server returns it: defaults filled in, quantities canonical, keys reordered.
const serverDefaulted = {
  metadata: { creationTimestamp: null, annotations: { 'prometheus.io/scrape': 'true' }, labels: { app: 'podinfo' } },
  spec: {
    containers: [
      {
        env: [
          { name: 'POD_NAME', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.name' } } },
          { name: 'EMPTY' },
        ],
        image: 'ghcr.io/stefanprodan/podinfo:6.5.0',
        imagePullPolicy: 'IfNotPresent',
        livenessProbe: {
          failureThreshold: 3, httpGet: { path: '/healthz', port: 'http', scheme: 'HTTP' }, initialDelaySeconds: 5,
          periodSeconds: 10, successThreshold: 1, timeoutSeconds: 1,
        },
        name: 'podinfo',
        ports: [{ containerPort: 9898, name: 'http', protocol: 'TCP' }],
        readinessProbe: {
          failureThreshold: 3, httpGet: { path: '/readyz', port: 9898, scheme: 'HTTP' }, periodSeconds: 10,
          successThreshold: 1, timeoutSeconds: 1,
        },
        resources: { limits: { cpu: '1', memory: '1Gi' }, requests: { cpu: '100m', memory: '64Mi' } },
        terminationMessagePath: '/dev/termination-log',
        terminationMessagePolicy: 'File',
        volumeMounts: [{ mountPath: '/data', name: 'data' }, { mountPath: '/config', name: 'config' }],
      },
      {
        command: ['sh', '-c', 'sleep infinity'],
        image: 'busybox',
        imagePullPolicy: 'Always',
        name: 'sidecar',
        resources: {},
        terminationMessagePath: '/dev/termination-log',
        terminationMessagePolicy: 'File',
      },
    ],
    dnsPolicy: 'ClusterFirst',
    restartPolicy: 'Always',
    schedulerName: 'default-scheduler',
    securityContext: {},
    serviceAccount: 'podinfo',
    serviceAccountName: 'podinfo',
    terminationGracePeriodSeconds: 30,
    volumes: [{ emptyDir: {}, name: 'data' }, { configMap: { defaultMode: 420, name: 'podinfo-config' }, name: 'config' }],
  },
}

t.test('a server-defaulted template hashes like the submitted one', async t => {
  t.equal(templateRevision(serverDefaulted), templateRevision(submitted()))
  t.match(templateRevision(submitted()), /^[0-9a-f]{16}$/)
})

t.test('the revision of a fixed template never changes (a change would restart every canary)', async t => {
  t.equal(templateRevision(submitted()), '25f3d10b54148994')
})

t.test('real changes change the revision', async t => {
  const base = templateRevision(submitted())
  const changed = (edit: (s: ReturnType<typeof submitted>) => void, what: string): void => {
    const template = submitted()
    edit(template)
    t.not(templateRevision(template), base, what)
  }
  const podinfo = (s: ReturnType<typeof submitted>) => s.spec.containers[0] as Record<string, unknown> & ReturnType<typeof submitted>['spec']['containers'][0]
  changed(s => { podinfo(s).image = 'ghcr.io/stefanprodan/podinfo:6.5.1' }, 'a new image')
  changed(s => { Object.assign(s.metadata.annotations, { 'kubectl.kubernetes.io/restartedAt': '2025-01-01T00:00:00Z' }) }, 'a pod annotation (kubectl rollout restart)')
  changed(s => { podinfo(s).env = [{ name: 'EMPTY', value: 'set' }] }, 'an env value')
  changed(s => { podinfo(s).imagePullPolicy = 'Always' }, 'a pull policy that is not the default for a tagged image')
  changed(s => { Object.assign(podinfo(s).resources?.requests ?? {}, { cpu: '200m' }) }, 'a cpu request')
  changed(s => { Object.assign(s.spec, { terminationGracePeriodSeconds: 60 }) }, 'a grace period other than the default')
  changed(s => { s.spec.volumes[0] = { name: 'data', emptyDir: { medium: 'Memory' } } }, 'an emptyDir medium')
  changed(s => { s.spec.volumes.splice(0, 1) }, 'a removed volume')
  changed(s => { s.metadata.labels.app = 'podinfo2' }, 'a label')
  changed(s => { Object.assign(s.spec, { serviceAccountName: 'other' }) }, 'another service account')
})

t.test('quantities compare by value', async t => {
  t.equal(canonicalQuantity('0.5'), canonicalQuantity('500m'))
  t.equal(canonicalQuantity('1Gi'), canonicalQuantity('1024Mi'))
  t.equal(canonicalQuantity(1), canonicalQuantity('1000m'))
  t.equal(canonicalQuantity('1e3'), canonicalQuantity('1k'))
  t.not(canonicalQuantity('1G'), canonicalQuantity('1Gi'))
  t.equal(canonicalQuantity('100m'), '100000000')
  t.equal(canonicalQuantity('lots'), undefined)
})

t.test('the default pull policy follows the image tag', async t => {
  t.equal(defaultPullPolicy('busybox'), 'Always')
  t.equal(defaultPullPolicy('busybox:latest'), 'Always')
  t.equal(defaultPullPolicy('registry:5000/busybox'), 'Always', 'a registry port is not a tag')
  t.equal(defaultPullPolicy('busybox:1.36'), 'IfNotPresent')
  t.equal(defaultPullPolicy('busybox@sha256:abc'), 'IfNotPresent')
})

t.test('canonical JSON sorts keys and drops what the server omits', async t => {
  t.equal(canonicalJson({ b: 1, a: { d: [], c: null, e: '' }, f: { g: '' } }), '{"b":1}')
  t.equal(canonicalJson({ labels: { tier: '' } }), '{"labels":{"tier":""}}', 'an empty label value is kept')
})

t.test('config hashes ignore key order and see every change', async t => {
  t.equal(configHash({ a: '1', b: '2' }), configHash({ b: '2', a: '1' }))
  t.not(configHash({ a: '1' }), configHash({ a: '2' }))
  t.match(configHash({ a: '1' }), /^[0-9a-f]{8}$/)
})

t.test('canonicalJson, written in one pass, is JSON.stringify of canonicalize on any JSON (no revision may change)', async t => {
  // Keys that canonicalize treats specially, among ordinary ones; values that it drops, keeps raw or normalises.
  // Any string too: a key with a quote, a backslash or a control character must be escaped as JSON.stringify does.
  const key = fc.oneof(fc.constantFrom('limits', 'requests', 'overhead', 'sizeLimit', 'divisor', 'labels', 'annotations', 'nodeSelector',
    'matchLabels', 'emptyDir', 'image', 'a', 'b', '', '__proto__', 'a"b', 'a\\b', 'a\nb', 'é'), fc.string(), fc.string({ unit: 'binary' }))
  const leaf = fc.oneof(fc.constantFrom(null, '', '1Gi', '500m', '0.5', '1e3', 'x', 0, 1.5, true, false), fc.string(), fc.integer(), fc.double())
  const { value } = fc.letrec(tie => ({
    value: fc.oneof({ depthSize: 'small', withCrossShrink: true }, leaf, tie('array'), tie('object')),
    array: fc.array(tie('value'), { maxLength: 4 }),
    object: fc.dictionary(key, tie('value'), { maxKeys: 5 }),
  }))
  t.doesNotThrow(() => fc.assert(fc.property(value, key, (v, k) => {
    const wrapped = { [k]: v }
    return canonicalJson(v) === JSON.stringify(canonicalize(v) ?? null) && canonicalJson(wrapped) === JSON.stringify(canonicalize(wrapped) ?? null)
  }), { numRuns: 5000 }), '5000 random values, bare and under each special key, give the same text')
})

t.test('canonicalJson orders wide objects as canonicalize does, either side of the short-list sort', async t => {
  // Up to 16 keys are sorted by insertion, more by Array.prototype.sort: both must give canonicalize's order.
  const key = fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.constantFrom('a', 'B', '_', '0', '10', '9', '4294967295', '-1'))
  const wide = fc.dictionary(key, fc.oneof(fc.string(), fc.integer(), fc.boolean()), { minKeys: 10, maxKeys: 40 })
  t.doesNotThrow(() => fc.assert(fc.property(wide, v => canonicalJson(v) === JSON.stringify(canonicalize(v) ?? null)), { numRuns: 2000 }),
    '2000 objects of 10 to 40 keys give the same text')
})

t.test('quantities are canonical however many distinct ones came before (their memory is bounded)', async t => {
  const withLimit = (memory: string): string => templateRevision({ spec: { containers: [{ name: 'app', image: 'app:1', resources: { limits: { memory } } }] } })
  const gi = withLimit('1Gi')
  for (let i = 0; i < 3000; i++) withLimit(`${i}Mi`)
  t.equal(withLimit('1024Mi'), gi, 'the same amount written another way, after the memory turned over')
  t.equal(withLimit('1Gi'), gi)
  t.not(withLimit('1023Mi'), gi, 'and another amount differs')
})

t.test('keys and quantities too long to remember are hashed as the short ones are', async t => {
  // Over the memories' bounds (320 and 64 characters): written afresh each time, with the same result.
  const longKey = `example.com/${'k'.repeat(400)}`
  const longQuantity = `${'1'.repeat(100)}Mi`
  const template = (key: string, memory: string): unknown => ({
    metadata: { labels: { [key]: 'x' } },
    spec: { containers: [{ name: 'app', image: 'app:1', resources: { limits: { memory } } }] },
  })
  const a = templateRevision(template(longKey, longQuantity))
  t.equal(templateRevision(template(longKey, longQuantity)), a, 'the same each time')
  t.not(templateRevision(template(`${longKey}x`, longQuantity)), a, 'another key differs')
  t.not(templateRevision(template(longKey, `${'1'.repeat(99)}Mi`)), a, 'another amount differs')
  t.equal(canonicalJson(template(longKey, longQuantity)), JSON.stringify(canonicalize(template(longKey, longQuantity))), 'and the text is the canonical one')
})

t.test('a "__proto__" key in a template is hashed as a key, and never becomes a prototype', async t => {
  // JSON.parse makes "__proto__" an ordinary own key; dropping a container's defaults must keep it one.
  const parsed = (extra: string): unknown => JSON.parse(`{"spec":{"containers":[{"name":"app","image":"app:1","terminationMessagePolicy":"File"${extra}}],"restartPolicy":"Always"${extra}}}`)
  const plain = templateRevision(parsed(''))
  const withKey = templateRevision(parsed(',"__proto__":{"polluted":"yes"}'))
  t.not(withKey, plain, 'the key is part of the revision')
  t.equal(templateRevision(parsed(',"__proto__":{"polluted":"yes"}')), withKey, 'and hashed the same each time')
  const normalized = normalizeTemplate(parsed(',"__proto__":{"polluted":"yes"}')) as { spec: { containers: Record<string, unknown>[] } & Record<string, unknown> }
  const container = normalized.spec.containers[0]!
  t.equal(Object.getPrototypeOf(container), Object.prototype, 'the container keeps its prototype')
  t.ok(Object.hasOwn(container, '__proto__'), 'the container keeps the key as its own')
  t.notOk(Object.hasOwn(container, 'terminationMessagePolicy'), 'and its default is dropped')
  t.equal(Object.getPrototypeOf(normalized.spec), Object.prototype, 'so does the pod spec')
  t.ok(Object.hasOwn(normalized.spec, '__proto__'))
  t.equal(({} as Record<string, unknown>).polluted, undefined, 'nothing leaks into Object.prototype')
})
