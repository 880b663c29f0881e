// decideDeployment as a pure function: every interception case, with the returned JSON Patch applied to
// the object it was made for, so the assertions are about the object the API server would store.
import t from 'tap'
import { decideDeployment, writtenRevision, type DeploymentContext } from '../../../src/admission/deployments.ts'
import type { AdmissionRequest, AdmissionVerdict, KubeObject, Operation } from '../../../src/admission/review.ts'
import { templateRevision } from '../../../src/kube/revision.ts'
import type { DeliveryPolicy } from '../../../src/api/types.ts'
import { canaryAnnotations, policy } from '../api/fixtures.ts'
import { applyPatch } from '../../helpers/json-patch.ts'
import { container, deployment, manifest } from '../../helpers/objects.ts'

const SLUICE = 'system:serviceaccount:sluice-system:sluice'
const D = 'Deployment shop/podinfo'
const DESIRED = 'status.sluice.dev/desired-replicas'
const REVISION = 'status.sluice.dev/revision'
const PLAN = 'canary shop/podinfo: 5 steps of 20% every 1m (20, 40, 60, 80, 100), promotion in about 6m, done in about 7m; rollback after 5 failed checks, about 6m'

interface Deployment extends KubeObject {
  metadata: { name: string; namespace: string; labels: Record<string, string>; annotations?: Record<string, string> }
  spec: { replicas?: number; selector: { matchLabels: Record<string, string> }; template: { metadata: { labels: Record<string, string>; annotations?: Record<string, string> }; spec: unknown } }
}

/** podinfo as a client sends it: opted in (canaryAnnotations) with 3 replicas unless told; null leaves the field out. */
function sent(o: { annotations?: Record<string, string> | null; replicas?: number | null; image?: string; labels?: Record<string, string> } = {}): Deployment {
  return manifest(deployment({
    metadata: { labels: { app: 'podinfo', ...o.labels }, annotations: o.annotations === null ? null : o.annotations ?? canaryAnnotations() },
    spec: {
      replicas: o.replicas === null ? null : o.replicas ?? 3,
      template: { spec: { containers: [container({ image: o.image })] } },
      },
  })) as Deployment
}

function context(o: { policies?: DeliveryPolicy[]; namespaceLabels?: Record<string, string>; templates?: string[] } = {}): DeploymentContext {
  return {
    sluiceUsername: SLUICE,
    policies: () => o.policies ?? [],
    namespaceLabels: ns => (ns === 'shop' ? o.namespaceLabels ?? { 'kubernetes.io/metadata.name': 'shop' } : undefined),
    refs: {
      metricTemplate: (ns, name) => (o.templates ?? []).includes(`${ns}/${name}`),
      alertProvider: () => false,
    },
  }
}

function request(operation: Operation, object: KubeObject | undefined, oldObject?: KubeObject, extra: Partial<AdmissionRequest> = {}): AdmissionRequest {
  return {
    uid: 'b7f3c2d4-0000-4000-8000-000000000001',
    kind: { group: 'apps', version: 'v1', kind: 'Deployment' },
    resource: { group: 'apps', version: 'v1', resource: 'deployments' },
    namespace: 'shop', name: 'podinfo', operation,
    userInfo: { username: 'alice', groups: ['system:authenticated'] },
    ...(object && { object }), ...(oldObject && { oldObject }),
    ...extra,
  }
}

type Op = { op: string; path: string; value?: unknown }

function opsOf(verdict: AdmissionVerdict): Op[] {
  return verdict.patch === undefined ? [] : JSON.parse(Buffer.from(verdict.patch, 'base64').toString('utf8')) as Op[]
}

/** The verdict, its operations, and the object the API server would store. */
function decide(req: AdmissionRequest, ctx: DeploymentContext = context()): { verdict: AdmissionVerdict; ops: Op[]; stored: Deployment } {
  const verdict = decideDeployment(req, ctx)
  const ops = opsOf(verdict)
  if (verdict.patch !== undefined && verdict.patchType !== 'JSONPatch') throw new Error(`patchType ${verdict.patchType}`)
  return { verdict, ops, stored: applyPatch(req.object, ops) as Deployment }
}

// The object as stored after an opted-in CREATE: the starting point of every UPDATE case.
function created(o: Parameters<typeof sent>[0] = {}): Deployment {
  return decide(request('CREATE', sent(o))).stored
}

t.test('CREATE of an opted-in Deployment', async t => {
  t.test('records desired replicas and revision, holds the target at 0, and shows the plan', async t => {
    const object = sent({ replicas: 3 })
    const { verdict, ops, stored } = decide(request('CREATE', object))
    t.equal(verdict.allowed, true)
    t.equal(stored.spec.replicas, 0, 'the primary serves; the target stays at zero')
    t.equal(stored.metadata.annotations?.[DESIRED], '3')
    t.equal(stored.metadata.annotations?.[REVISION], templateRevision(object.spec.template))
    t.same(stored.metadata.annotations, { ...object.metadata.annotations, [DESIRED]: '3', [REVISION]: templateRevision(object.spec.template) },
      'the user\'s annotations are untouched')
    t.same(stored.spec.template, object.spec.template, 'the pod template is untouched')
    t.same(ops.find(o => o.path === '/spec/replicas'), { op: 'replace', path: '/spec/replicas', value: 0 }, 'replace: the field is present')
    t.ok(ops.some(o => o.path === '/metadata/annotations/status.sluice.dev~1desired-replicas'), 'the "/" in the key is escaped as ~1')
    t.same(verdict.warnings, [`${D}: first deployment: 3 replica(s) go to podinfo-primary without analysis; later revisions: ${PLAN}`])
  })

  t.test('adds spec.replicas when the object has none, recording the default of 1', async t => {
    const { ops, stored } = decide(request('CREATE', sent({ replicas: null })))
    t.same(ops.find(o => o.path === '/spec/replicas'), { op: 'add', path: '/spec/replicas', value: 0 })
    t.equal(stored.spec.replicas, 0)
    t.equal(stored.metadata.annotations?.[DESIRED], '1')
  })

  t.test('sends no replicas operation when the user asked for 0', async t => {
    const { ops, stored } = decide(request('CREATE', sent({ replicas: 0 })))
    t.notOk(ops.some(o => o.path === '/spec/replicas'))
    t.equal(stored.metadata.annotations?.[DESIRED], '0')
  })

  t.test('a dry run gets the same answer (the decision has no side effects to skip)', async t => {
    const wet = decideDeployment(request('CREATE', sent()), context())
    const dry = decideDeployment(request('CREATE', sent(), undefined, { dryRun: true }), context())
    t.same(dry, wet)
  })
})

t.test('UPDATE that opts a live app in leaves its replicas alone', async t => {
  const live = sent({ annotations: null, replicas: 3 })
  const object = sent({ replicas: 3 })
  const { verdict, ops, stored } = decide(request('UPDATE', object, live))
  t.equal(verdict.allowed, true)
  t.notOk(ops.some(o => o.path === '/spec/replicas'), 'no replicas operation')
  t.equal(stored.spec.replicas, 3)
  t.equal(stored.metadata.annotations?.[DESIRED], '3')
  t.equal(stored.metadata.annotations?.[REVISION], templateRevision(object.spec.template))
  t.same(verdict.warnings, [`${D}: opted in: podinfo-primary takes over the current version before podinfo is scaled down; later revisions: ${PLAN}`])
})

t.test('UPDATE with a new revision keeps the live replicas, records the user\'s, and shows the plan', async t => {
  const old = created({ replicas: 3 })
  const object = sent({ replicas: 4, image: 'ghcr.io/stefanprodan/podinfo:6.7.1' })
  const revision = templateRevision(object.spec.template)
  t.not(revision, old.metadata.annotations?.[REVISION], 'the image change is a new revision')
  const { verdict, stored } = decide(request('UPDATE', object, old))
  t.equal(verdict.allowed, true)
  t.equal(stored.spec.replicas, 0, 'held at the live value')
  t.equal(stored.metadata.annotations?.[DESIRED], '4')
  t.equal(stored.metadata.annotations?.[REVISION], revision)
  t.same(verdict.warnings, [`${D}: new revision ${revision.slice(0, 8)}: ${PLAN}`])

  t.test('the live value is whatever sluice last scaled the target to', async t => {
    const scaled = { ...old, spec: { ...old.spec, replicas: 2 } }
    const { stored } = decide(request('UPDATE', sent({ replicas: 3, image: 'ghcr.io/stefanprodan/podinfo:6.7.1' }), scaled))
    t.equal(stored.spec.replicas, 2)
    t.equal(stored.metadata.annotations?.[DESIRED], '3')
  })
})

t.test('writes that carry the held replicas over keep the recorded count', async t => {
  const old = created({ replicas: 3 })
  // kubectl set image / rollout restart / label send the stored object with one change: replicas stay at 0.
  const image = structuredClone(old)
  image.spec.template.spec = { containers: [{ name: 'app', image: 'ghcr.io/stefanprodan/podinfo:6.7.1', ports: [{ name: 'http', containerPort: 9898 }] }] }
  const setImage = decide(request('UPDATE', image, old))
  t.equal(setImage.stored.spec.replicas, 0)
  t.equal(setImage.stored.metadata.annotations?.[DESIRED], '3', 'not 0: the primary keeps its replicas')
  t.match(setImage.verdict.warnings, [/new revision/])

  const restart = structuredClone(old)
  restart.spec.template.metadata.annotations = { 'kubectl.kubernetes.io/restartedAt': '2025-01-01T00:00:00Z' }
  const restarted = decide(request('UPDATE', restart, old))
  t.equal(restarted.stored.metadata.annotations?.[DESIRED], '3')
  t.match(restarted.verdict.warnings, [/new revision/], 'a restart is a new revision')

  const labelled = structuredClone(old)
  labelled.metadata.labels.team = 'web'
  const label = decide(request('UPDATE', labelled, old))
  t.same(label.ops, [], 'nothing to change')
  t.notOk(label.verdict.warnings)
})

t.test('the decision is idempotent: a second call on its own output changes nothing', async t => {
  // Several policy webhooks can send the same request; each sees the previous patch applied.
  const first = decide(request('CREATE', sent({ replicas: 3 })))
  const again = decide(request('CREATE', first.stored))
  t.same(again.stored, first.stored)
  t.equal(again.stored.metadata.annotations?.[DESIRED], '3')

  const old = created({ replicas: 3 })
  const update = decide(request('UPDATE', sent({ replicas: 5, image: 'ghcr.io/stefanprodan/podinfo:6.7.1' }), old))
  const twice = decide(request('UPDATE', update.stored, old))
  t.same(twice.stored, update.stored)
  t.equal(twice.stored.metadata.annotations?.[DESIRED], '5')
})

t.test('UPDATE of replicas only records them without a revision warning', async t => {
  const old = created({ replicas: 3 })
  const { verdict, stored } = decide(request('UPDATE', sent({ replicas: 5 }), old))
  t.equal(verdict.allowed, true)
  t.equal(stored.spec.replicas, 0, 'the live target is not scaled')
  t.equal(stored.metadata.annotations?.[DESIRED], '5')
  t.equal(stored.metadata.annotations?.[REVISION], old.metadata.annotations?.[REVISION], 'same revision')
  t.same(verdict.warnings, [`${D}: replicas 5 go to podinfo-primary at once, without analysis`])
})

t.test('a re-apply of the same manifest is a plain admission', async t => {
  const old = created({ replicas: 3 })
  // kubectl apply merges the manifest into the stored object: sluice's state annotations stay, and
  // replicas: 3 comes back; the answer puts the held value back, so nothing changes.
  const manifest = structuredClone(old)
  manifest.spec.replicas = 3
  const reapply = decide(request('UPDATE', manifest, old))
  t.equal(reapply.verdict.allowed, true)
  t.same(reapply.stored, old, 'the stored object is unchanged')
  t.notOk(reapply.verdict.warnings, 'no plan, no replica note')
  t.same(reapply.ops, [{ op: 'replace', path: '/spec/replicas', value: 0 }], 'only the hold')

  const same = decideDeployment(request('UPDATE', structuredClone(old), old), context())
  t.same(same, { allowed: true }, 'an identical object: no patch, no warnings')
})

t.test('an unchanged template keeps the recorded revision without hashing it again; a changed one is hashed', async t => {
  const old = created({ replicas: 3 })
  const recorded = old.metadata.annotations?.[REVISION]
  t.equal(recorded, templateRevision(old.spec.template), 'CREATE recorded the hash of the template')
  // A stored revision that is not this template's hash shows which path ran: kept, not recomputed.
  const marked = structuredClone(old)
  marked.metadata.annotations = { ...marked.metadata.annotations, [REVISION]: 'recorded-before' }
  t.equal(writtenRevision(sent({ replicas: 4 }), marked), 'recorded-before', 'same template: the recorded revision')
  const { stored, verdict } = decide(request('UPDATE', sent({ replicas: 4 }), marked))
  t.equal(stored.metadata.annotations?.[REVISION], 'recorded-before', 'the re-apply keeps it')
  t.same(verdict.warnings, [`${D}: replicas 4 go to podinfo-primary at once, without analysis`], 'and is no new revision')
  const next = sent({ image: 'ghcr.io/stefanprodan/podinfo:6.1.0' })
  t.equal(writtenRevision(next, marked), templateRevision(next.spec.template), 'a new image: hashed')
  t.equal(writtenRevision(sent(), undefined), templateRevision(sent().spec.template), 'no old object (CREATE): hashed')
  const unrecorded = structuredClone(old)
  delete unrecorded.metadata.annotations?.[REVISION]
  t.equal(writtenRevision(sent(), unrecorded), templateRevision(sent().spec.template), 'nothing recorded yet: hashed')
})

t.test('opt-out (sluice.dev/strategy removed) is admitted with a warning', async t => {
  const old = created({ replicas: 3 })
  const { verdict, ops } = decide(request('UPDATE', sent({ annotations: null, replicas: 3 }), old))
  t.equal(verdict.allowed, true)
  t.same(ops, [], 'nothing is held or recorded')
  t.same(verdict.warnings, [`${D}: opted out of sluice; the Deployment is scaled back up and the generated objects are removed once it serves`])

  const leftover = decide(request('UPDATE', sent({ annotations: { 'sluice.dev/port': '9898' } }), old))
  t.equal(leftover.verdict.allowed, true)
  t.same(leftover.verdict.warnings, [
    `${D}: annotation sluice.dev/port has no effect without sluice.dev/strategy (canary, blue-green or ab)`,
    `${D}: opted out of sluice; the Deployment is scaled back up and the generated objects are removed once it serves`,
  ])
})

const PROD = { 'kubernetes.io/metadata.name': 'shop', tier: 'prod' }
const blueGreenDefaults: DeliveryPolicy['spec']['defaults'] = {
  strategy: 'blue-green', provider: 'kubernetes', service: { port: 9898 },
  analysis: { interval: '2m', threshold: 3, iterations: 5, metrics: [{ name: 'request-success-rate', thresholdRange: { min: 99 } }] },
}

t.test('an enforce DeliveryPolicy', async t => {
  const enforce = policy('prod-delivery', { mode: 'enforce', namespaceSelector: { matchLabels: { tier: 'prod' } }, defaults: blueGreenDefaults })
  const ctx = context({ policies: [enforce], namespaceLabels: PROD })

  t.test('refuses an opt-out, naming the policy', async t => {
    const old = decide(request('CREATE', sent()), ctx).stored
    const { verdict } = decide(request('UPDATE', sent({ annotations: null }), old), ctx)
    t.equal(verdict.allowed, false)
    t.equal(verdict.status?.code, 403)
    t.match(verdict.status?.message, /^Deployment shop\/podinfo: annotation sluice\.dev\/strategy cannot be removed: DeliveryPolicy prod-delivery \(enforce\) requires progressive delivery here/)
    t.notOk(verdict.patch)
  })

  t.test('opts an unannotated Deployment in with its defaults', async t => {
    const object = sent({ annotations: null, replicas: 2 })
    const { verdict, stored } = decide(request('CREATE', object), ctx)
    t.equal(verdict.allowed, true)
    t.equal(stored.spec.replicas, 0)
    t.equal(stored.metadata.annotations?.[DESIRED], '2')
    t.equal(stored.metadata.annotations?.[REVISION], templateRevision(object.spec.template))
    t.notOk(stored.metadata.annotations?.['sluice.dev/strategy'], 'the user\'s keys stay the user\'s')
    t.same(verdict.warnings, [`${D}: first deployment: 2 replica(s) go to podinfo-primary without analysis; later revisions: ` +
      'blue-green shop/podinfo: 5 iterations every 2m, promotion in about 14m, done in about 16m; rollback after 3 failed checks, about 8m'])
  })

  t.test('leaves Deployments in namespaces it does not select alone', async t => {
    const elsewhere = context({ policies: [enforce] })
    t.same(decideDeployment(request('CREATE', sent({ annotations: null })), elsewhere), { allowed: true })
    const opted = created()
    t.equal(decide(request('UPDATE', sent({ annotations: null }), opted), elsewhere).verdict.allowed, true, 'an opt-out is fine there')
  })
})

t.test('policy constraints: audit warns, enforce denies, both name the policy', async t => {
  const limit = (mode: 'audit' | 'enforce'): DeploymentContext => context({
    policies: [policy('max-step-10', { mode, namespaceSelector: { matchLabels: { tier: 'prod' } }, constraints: { maxStepWeight: 10 } })],
    namespaceLabels: PROD,
  })
  const violation = `${D}: annotation sluice.dev/analysis: stepWeight must be at most 10 under DeliveryPolicy max-step-10 (got 20)`

  const audit = decide(request('CREATE', sent({ replicas: 3 })), limit('audit'))
  t.equal(audit.verdict.allowed, true)
  t.equal(audit.stored.spec.replicas, 0, 'still intercepted')
  t.equal(audit.verdict.warnings?.[0], violation)
  t.match(audit.verdict.warnings?.[1], /first deployment: 3 replica\(s\)/)

  const enforce = decide(request('CREATE', sent({ replicas: 3 })), limit('enforce'))
  t.equal(enforce.verdict.allowed, false)
  t.same(enforce.verdict.status, { status: 'Failure', code: 422, reason: 'Invalid', message: violation })
  t.same(enforce.ops, [])
})

t.test('sluice\'s own writes pass unchanged', async t => {
  const old = created({ replicas: 3 })
  const scaled = structuredClone(old)
  scaled.spec.replicas = 3
  const asSluice = (op: Operation, object: KubeObject, previous?: KubeObject): AdmissionVerdict =>
    decideDeployment(request(op, object, previous, { userInfo: { username: SLUICE, groups: ['system:serviceaccounts'] } }), context())
  t.same(asSluice('UPDATE', scaled, old), { allowed: true }, 'scaling the target is not held')
  t.same(asSluice('CREATE', sent({ annotations: { 'sluice.dev/strategy': 'rolling' } })), { allowed: true }, 'not even validated')
  t.equal(decideDeployment(request('UPDATE', scaled, old), context()).allowed, true)
  t.equal(decide(request('UPDATE', scaled, old)).stored.spec.replicas, 0, 'the same write by a user is held')
})

t.test('a bad configuration is denied with the field named', async t => {
  const denied = (annotations: Record<string, string | undefined>, ctx = context()): string | undefined => {
    const verdict = decideDeployment(request('CREATE', sent({ annotations: canaryAnnotations(annotations) })), ctx)
    t.equal(verdict.allowed, false)
    t.equal(verdict.status?.code, 422)
    t.notOk(verdict.patch, 'no patch on a denial')
    return verdict.status?.message
  }
  t.equal(denied({ 'sluice.dev/strategy': 'rolling' }),
    `${D}: annotation sluice.dev/strategy must be one of canary, blue-green, ab (got "rolling")`)
  t.equal(denied({ 'sluice.dev/analysis': 'interval: 1m\nstepWeight: 0\nmetrics: [{name: request-success-rate, thresholdRange: {min: 99}}]' }),
    `${D}: annotation sluice.dev/analysis: stepWeight must be between 1 and 100 (got 0)`)
  t.match(denied({ 'sluice.dev/analysis': 'stepWeight: [20' }), /^Deployment shop\/podinfo: annotation sluice\.dev\/analysis is not valid YAML: /)
  t.match(denied({ 'sluice.dev/analysis': 'interval: 5s\nstepWeight: 20' }), /annotation sluice\.dev\/analysis: interval must be at least 10s \(got 5s\)/)

  const withTemplate = 'interval: 1m\nstepWeight: 20\nmetrics: [{name: latency, templateRef: {name: latency}, thresholdRange: {max: 500}}]'
  t.match(denied({ 'sluice.dev/analysis': withTemplate }), /metrics\[0\]\.templateRef names MetricTemplate shop\/latency, which does not exist/)
  t.equal(decideDeployment(request('CREATE', sent({ annotations: canaryAnnotations({ 'sluice.dev/analysis': withTemplate }) })),
    context({ templates: ['shop/latency'] })).allowed, true, 'admitted once the MetricTemplate is in the cache')

  const two = denied({ 'sluice.dev/analysis': 'interval: 1m\nthreshold: 0\nstepWeights: [10, 5]' })
  t.match(two, /threshold must be at least 1 \(got 0\).*; Deployment shop\/podinfo: .*stepWeights\[1\] must be greater/, 'every problem, joined')

  const update = decideDeployment(request('UPDATE', sent({ annotations: canaryAnnotations({ 'sluice.dev/port': 'http' }) }), created()), context())
  t.equal(update.allowed, false, 'an UPDATE is validated too')
  t.match(update.status?.message, /annotation sluice\.dev\/port must be a port number between 1 and 65535 \(got "http"\)/)
})

t.test('other operations and subresources are admitted untouched', async t => {
  const bad = sent({ annotations: { 'sluice.dev/strategy': 'rolling' } })
  for (const op of ['DELETE', 'CONNECT'] as const) {
    t.same(decideDeployment(request(op, op === 'DELETE' ? undefined : bad, bad), context()), { allowed: true }, op)
  }
  for (const subResource of ['scale', 'status']) {
    t.same(decideDeployment(request('UPDATE', bad, created(), { subResource }), context()), { allowed: true }, subResource)
  }
  t.same(decideDeployment(request('CREATE', undefined), context()), { allowed: true }, 'no object')
})

t.test('Deployments without sluice configuration', async t => {
  t.same(decideDeployment(request('CREATE', sent({ annotations: null })), context()), { allowed: true })
  const stray = decideDeployment(request('CREATE', sent({ annotations: { 'sluice.dev/analysis': 'stepWeight: 10' } })), context())
  t.same(stray, { allowed: true, warnings: [`${D}: annotation sluice.dev/analysis has no effect without sluice.dev/strategy (canary, blue-green or ab)`] })
})
