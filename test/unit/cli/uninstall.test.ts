// What sluice uninstall decides from what it read: how each app is reverted (never by the CLI scaling it),
// when it refuses (no controller; an enforce policy with -n), what it removes and what it leaves, the plan
// as printed, and the opt-out patch it writes.
import t from 'tap'
import type { Canary } from '../../../src/api/types.ts'
import { optOutPatch } from '../../../src/cli/uninstall-cluster.ts'
import {
  controllerRunning, CRD_OBJECTS, INSTALL_OBJECTS, planUninstall, renderPlan, WEBHOOK_OBJECTS, type Revert, type Snapshot,
} from '../../../src/cli/uninstall-plan.ts'
import { canary, deployment } from '../../helpers/objects.ts'
import { policy } from '../api/fixtures.ts'

const NOW = new Date('2026-06-01T12:00:00Z')
const ANNOTATIONS = { 'sluice.dev/strategy': 'canary', 'sluice.dev/port': '9898', 'status.sluice.dev/desired-replicas': '3', 'status.sluice.dev/revision': 'abc', 'team': 'web' }
const EVERYTHING = [...WEBHOOK_OBJECTS, ...INSTALL_OBJECTS, ...CRD_OBJECTS]
const LIVE_LEASE = { name: 'sluice-system/sluice-controller', holder: 'sluice-0', renewTime: new Date('2026-06-01T11:59:55Z'), leaseDurationSeconds: 15 }

function generated(name = 'podinfo', overrides: Partial<Canary['spec']> = {}): Canary {
  return canary({
    metadata: {
      name, labels: { 'app.kubernetes.io/managed-by': 'sluice' },
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name, uid: `deployment-${name}` }],
    },
    spec: { targetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name }, ...overrides },
    status: { phase: 'Initialized' },
  })
}

function snapshot(o: Partial<Snapshot> = {}): Snapshot {
  return {
    canaries: [], deployments: [], policies: [], namespaceLabels: new Map([['shop', { tier: 'prod' }]]), elsewhere: [],
    leaseName: 'sluice-system/sluice-controller', lease: LIVE_LEASE, present: EVERYTHING, now: NOW, ...o,
  }
}

const OPTIONS = { keepInstall: false, crds: false }

t.test('an annotated app is reverted by removing its sluice.dev/ annotations: the controller does the rest', async t => {
  const p = planUninstall(snapshot({
    canaries: [generated()],
    deployments: [deployment({ metadata: { annotations: ANNOTATIONS }, spec: { replicas: 0 } }), deployment({ metadata: { name: 'podinfo-primary', labels: { 'app.kubernetes.io/managed-by': 'sluice' }, annotations: { 'sluice.dev/x': 'y' } } })],
  }), OPTIONS)
  t.same(p.reverts, [{ kind: 'opt-out', namespace: 'shop', deployment: 'podinfo', canary: 'podinfo', keys: ['sluice.dev/port', 'sluice.dev/strategy'] }],
    'only the user\'s keys: the controller takes its own state off and scales the app, and the generated -primary is not touched')
  t.same(p.waitFor, ['shop/podinfo'])
  t.same(p.blockers, [])
})

t.test('a hand-written Canary is deleted, with revertOnDeletion turned on first when it was off', async t => {
  const off = canary({ metadata: { name: 'frontend' }, spec: { targetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'frontend' }, revertOnDeletion: false } })
  const p = planUninstall(snapshot({ canaries: [canary(), off], deployments: [deployment(), deployment({ metadata: { name: 'frontend' } })] }), OPTIONS)
  t.same(p.reverts, [
    { kind: 'delete', namespace: 'shop', canary: 'podinfo', target: 'podinfo', setRevertOnDeletion: false },
    { kind: 'delete', namespace: 'shop', canary: 'frontend', target: 'frontend', setRevertOnDeletion: true },
  ])
  t.same(p.waitFor, ['shop/podinfo', 'shop/frontend'])
})

t.test('an annotated Deployment without a Canary gets its annotations off and the replicas the webhook held', async t => {
  const held = deployment({ metadata: { name: 'held', annotations: ANNOTATIONS }, spec: { replicas: 0 } })
  const running = deployment({ metadata: { name: 'running', annotations: ANNOTATIONS }, spec: { replicas: 2 } })
  const p = planUninstall(snapshot({ deployments: [held, running], lease: undefined }), OPTIONS)
  const keys = ['sluice.dev/port', 'sluice.dev/strategy', 'status.sluice.dev/desired-replicas', 'status.sluice.dev/revision']
  t.same(p.reverts, [
    { kind: 'opt-out', namespace: 'shop', deployment: 'held', keys, replicas: 3 },
    { kind: 'opt-out', namespace: 'shop', deployment: 'running', keys },
  ])
  t.same(p.blockers, [], 'no Canary: nothing for the controller to do, so it need not run')
})

t.test('without a running controller nothing is done while a Canary is there', async t => {
  t.ok(controllerRunning(LIVE_LEASE, NOW))
  t.notOk(controllerRunning({ ...LIVE_LEASE, renewTime: new Date('2026-06-01T11:58:00Z') }, NOW), 'last renewed 2 minutes ago: gone')
  t.notOk(controllerRunning({ name: 'x', renewTime: NOW }, NOW), 'no holder: released')
  t.notOk(controllerRunning(undefined, NOW))
  const stale = planUninstall(snapshot({ canaries: [generated()], lease: { ...LIVE_LEASE, renewTime: new Date('2026-06-01T11:50:00Z') } }), OPTIONS)
  t.equal(stale.blockers.length, 1)
  t.match(stale.blockers[0], /^the controller is not running \(its Lease sluice-system\/sluice-controller was last renewed by sluice-0 at 2026-06-01T11:50:00.000Z\), and only the controller can give the apps back without losing their endpoints/)
  t.match(stale.blockers[0], /Start it first/)
  t.match(planUninstall(snapshot({ canaries: [generated()], lease: undefined }), OPTIONS).blockers[0], /its Lease sluice-system\/sluice-controller does not exist/)
})

t.test('enforce policies that would keep an app opted in are deleted first; with -n that is refused', async t => {
  const enforce = policy('strict', { mode: 'enforce', namespaceSelector: { matchLabels: { tier: 'prod' } } })
  const audit = policy('lax', { mode: 'audit', namespaceSelector: { matchLabels: { tier: 'prod' } } })
  const s = snapshot({ canaries: [generated()], deployments: [deployment({ metadata: { annotations: ANNOTATIONS } })], policies: [enforce, audit] })
  const p = planUninstall(s, OPTIONS)
  t.same(p.policies, ['strict'], 'the audit policy opts nothing in')
  t.same(p.blockers, [])
  t.match(renderPlan(p), /- delete DeliveryPolicy strict \(mode enforce: it would opt the Deployments it selects in again\)/)
  const scoped = planUninstall({ ...s, namespace: 'shop' }, OPTIONS)
  t.match(scoped.blockers[0], /^DeliveryPolicy strict \(shop\/podinfo\) enforces sluice on Deployments of namespace shop; deleting it would revert the apps of every namespace it selects/)
  const elsewhere = planUninstall({ ...s, namespaceLabels: new Map([['shop', { tier: 'dev' }]]) }, OPTIONS)
  t.same(elsewhere.policies, [], 'a policy that does not select the app stays')
})

t.test('what goes: webhooks, then the install; the CRDs only with --crds; nothing of it while other namespaces are opted in', async t => {
  const names = (p: { remove: readonly { kind: string; name: string }[] }): string[] => p.remove.map(o => `${o.kind}/${o.name}`)
  const full = planUninstall(snapshot(), OPTIONS)
  t.same(names(full), [
    'MutatingWebhookConfiguration/sluice', 'ValidatingWebhookConfiguration/sluice', 'ClusterRoleBinding/sluice', 'ClusterRole/sluice',
    'ClusterRoleBinding/sluice-dashboard', 'ClusterRole/sluice-dashboard', 'Namespace/sluice-system',
  ], 'the webhooks first')
  t.match(full.kept, [/the CRDs stay, with your DeliveryPolicies, MetricTemplates and AlertProviders \(--crds deletes them all\)/])
  t.same(names(planUninstall(snapshot(), { keepInstall: false, crds: true })).slice(-4), CRD_OBJECTS.map(o => `${o.kind}/${o.name}`))
  const keep = planUninstall(snapshot(), { keepInstall: true, crds: false })
  t.same(names(keep), ['MutatingWebhookConfiguration/sluice', 'ValidatingWebhookConfiguration/sluice'])
  t.match(keep.kept, [/--keep-install\): remove it with helm uninstall, or kubectl delete -k manifests\//])
  const partly = planUninstall(snapshot({ present: [WEBHOOK_OBJECTS[1]!, INSTALL_OBJECTS[4]!] }), OPTIONS)
  t.same(names(partly), ['ValidatingWebhookConfiguration/sluice', 'Namespace/sluice-system'], 'what is gone already is not deleted again (a re-run)')
  const scoped = planUninstall(snapshot({ namespace: 'shop', elsewhere: ['web/a', 'web/b', 'web/c', 'web/d', 'web/e', 'web/f'] }), OPTIONS)
  t.same(scoped.remove, [])
  t.match(scoped.kept, [/^the webhooks and the install stay: apps in other namespaces are still opted in \(web\/a, web\/b, web\/c, web\/d, web\/e, and 1 more\)/])
})

t.test('the plan as printed', async t => {
  const p = planUninstall(snapshot({
    canaries: [generated(), canary({ metadata: { name: 'frontend' }, spec: { targetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'frontend' }, revertOnDeletion: false } })],
    deployments: [deployment({ metadata: { annotations: ANNOTATIONS } })],
  }), { keepInstall: false, crds: true })
  t.equal(renderPlan(p), `1. Revert the opted-in apps (the controller's opt-out path):
   - Canary shop/frontend (written by hand): set spec.revertOnDeletion to true, then delete it; the controller gives Deployment frontend its replicas back before it lets the Canary go
   - Deployment shop/podinfo: remove sluice.dev/port, sluice.dev/strategy; the controller reverts Canary podinfo (replicas back and ready, then the Service, then the generated objects go) and deletes it
2. Remove the webhook configurations (nothing intercepts Deployment writes any more):
   - delete MutatingWebhookConfiguration sluice
   - delete ValidatingWebhookConfiguration sluice
3. Remove the rest of the install:
   - delete ClusterRoleBinding sluice
   - delete ClusterRole sluice
   - delete ClusterRoleBinding sluice-dashboard
   - delete ClusterRole sluice-dashboard
   - delete Namespace sluice-system (the controller, webhook, load tester, their Service, Secrets and Lease)
   - delete CustomResourceDefinition canaries.sluice.dev (and every object of the kind)
   - delete CustomResourceDefinition deliverypolicies.sluice.dev (and every object of the kind)
   - delete CustomResourceDefinition metrictemplates.sluice.dev (and every object of the kind)
   - delete CustomResourceDefinition alertproviders.sluice.dev (and every object of the kind)
`)
  t.equal(renderPlan(planUninstall(snapshot({ present: [] }), OPTIONS)), `1. Revert the opted-in apps (the controller's opt-out path):
   nothing is opted in
2. Remove the webhook configurations (nothing intercepts Deployment writes any more):
   none to remove
3. Remove the rest of the install:
   nothing left to remove
`, 'a re-run after everything went')
})

t.test('the opt-out patch: conditional on the version read, only what is still there', async t => {
  const r: Extract<Revert, { kind: 'opt-out' }> = { kind: 'opt-out', namespace: 'shop', deployment: 'podinfo', keys: ['sluice.dev/port', 'sluice.dev/strategy'], replicas: 3 }
  const d = deployment({ metadata: { annotations: { 'sluice.dev/strategy': 'canary' }, resourceVersion: '42' }, spec: { replicas: 0 } })
  t.same(optOutPatch(d, r), [
    { op: 'replace', path: '/metadata/resourceVersion', value: '42' },
    { op: 'remove', path: '/metadata/annotations/sluice.dev~1strategy' },
    { op: 'replace', path: '/spec/replicas', value: 3 },
  ])
  t.equal(optOutPatch(deployment({ spec: { replicas: 3 } }), r), undefined, 'done already (a re-run): nothing to write')
  t.same(optOutPatch(deployment({ metadata: { annotations: { 'sluice.dev/port': '1' } }, spec: { replicas: 5 } }), r)?.slice(1), [
    { op: 'remove', path: '/metadata/annotations/sluice.dev~1port' },
  ], 'replicas someone set meanwhile are kept')
})
