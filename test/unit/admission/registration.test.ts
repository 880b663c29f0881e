// The webhook configurations: scope (namespaces, objects, match conditions), failure behaviour, and
// endpoints. The matchConditions are parsed and evaluated by a small CEL subset below, so that a typo
// fails here and the conditions are shown to send exactly the requests sluice must see.
import t from 'tap'
import type { V1LabelSelector, V1MatchCondition, V1MutatingWebhook, V1ValidatingWebhook } from '@kubernetes/client-node'
import {
  DEPLOYMENTS_WEBHOOK, GUARD_SCALE_WEBHOOK, GUARD_WEBHOOK, RESOURCES_WEBHOOK, mutatingConfiguration, validatingConfiguration, type RegistrationOptions,
} from '../../../src/admission/registration.ts'
import { MUTATE_DEPLOYMENTS_PATH, VALIDATE_GUARD_PATH, VALIDATE_RESOURCES_PATH } from '../../../src/admission/server.ts'
import type { DeliveryPolicy } from '../../../src/api/types.ts'
import { policy } from '../api/fixtures.ts'
import { deployment, manifest } from '../../helpers/objects.ts'

const SLUICE = 'system:serviceaccount:sluice-system:sluice'
const service: RegistrationOptions = {
  endpoint: { kind: 'service', namespace: 'sluice-system', name: 'sluice' },
  sluiceNamespace: 'sluice-system', sluiceUsername: SLUICE,
}
const local: RegistrationOptions = {
  endpoint: { kind: 'url', base: 'https://127.0.0.1:9443' },
  caBundle: 'LS0tLS1CRUdJTi0tLS0t', sluiceNamespace: 'sluice-system', sluiceUsername: SLUICE,
}

// ---- a CEL subset: literals, variables, field selection, has(), !, &&, ||, ==, !=, exists(), startsWith(), endsWith()

type Node =
  | { t: 'lit'; v: unknown }
  | { t: 'var'; name: string }
  | { t: 'sel'; of: Node; field: string }
  | { t: 'has'; arg: Node & { t: 'sel' } }
  | { t: 'not'; arg: Node }
  | { t: 'bin'; op: '&&' | '||' | '==' | '!='; l: Node; r: Node }
  | { t: 'exists'; of: Node; v: string; body: Node }
  | { t: 'startsWith' | 'endsWith'; of: Node; arg: Node }

const TOKEN = /\s*(?:(\|\||&&|==|!=|[!().,])|'((?:[^'\\]|\\.)*)'|([A-Za-z_][A-Za-z0-9_]*))/y

function tokenize(src: string): string[] {
  const out: string[] = []
  TOKEN.lastIndex = 0
  while (TOKEN.lastIndex < src.trimEnd().length) {
    const at = TOKEN.lastIndex
    const m = TOKEN.exec(src)
    if (!m) throw new Error(`unexpected character at ${at}: ${src.slice(at, at + 10)}`)
    out.push(m[1] ?? (m[2] !== undefined ? `'${m[2]}` : m[3] ?? ''))
  }
  return out
}

function parseCel(src: string): Node {
  const tokens = tokenize(src)
  let i = 0
  const peek = (): string | undefined => tokens[i]
  const eat = (want?: string): string => {
    const tok = tokens[i++]
    if (tok === undefined || (want !== undefined && tok !== want)) throw new Error(`expected ${want ?? 'a token'} at token ${i - 1}, got ${tok}`)
    return tok
  }
  const ident = (): string => {
    const tok = eat()
    if (!/^[A-Za-z_]/.test(tok)) throw new Error(`expected an identifier, got ${tok}`)
    return tok
  }
  const binary = (ops: readonly string[], next: () => Node) => (): Node => {
    let l = next()
    while (ops.includes(peek() ?? '')) l = { t: 'bin', op: eat() as '&&', l, r: next() }
    return l
  }
  const primary = (): Node => {
    const tok = eat()
    if (tok === '(') { const e = or(); eat(')'); return e }
    if (tok.startsWith("'")) return { t: 'lit', v: tok.slice(1).replace(/\\(.)/g, '$1') }
    if (tok === 'null' || tok === 'true' || tok === 'false') return { t: 'lit', v: JSON.parse(tok) as unknown }
    if (tok === 'has') {
      eat('(')
      const arg = postfix()
      eat(')')
      if (arg.t !== 'sel') throw new Error('has() takes a field selection')
      return { t: 'has', arg }
    }
    if (!/^[A-Za-z_]/.test(tok)) throw new Error(`unexpected ${tok}`)
    return { t: 'var', name: tok }
  }
  const postfix = (): Node => {
    let node = primary()
    while (peek() === '.') {
      eat('.')
      const name = ident()
      if (peek() !== '(') { node = { t: 'sel', of: node, field: name }; continue }
      eat('(')
      if (name === 'exists') {
        const v = ident()
        eat(',')
        node = { t: 'exists', of: node, v, body: or() }
      } else if (name === 'startsWith' || name === 'endsWith') {
        node = { t: name, of: node, arg: or() }
      } else {
        throw new Error(`unknown method ${name}`)
      }
      eat(')')
    }
    return node
  }
  const unary = (): Node => (peek() === '!' ? (eat('!'), { t: 'not', arg: unary() }) : postfix())
  const equality = binary(['==', '!='], unary)
  const and = binary(['&&'], equality)
  const or = binary(['||'], and)
  const tree = or()
  if (i !== tokens.length) throw new Error(`unexpected ${tokens[i]} after a complete expression`)
  return tree
}

type Env = Record<string, unknown>

function record(v: unknown, what: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error(`${what} is not a map`)
  return v as Record<string, unknown>
}

function binary(node: Node & { t: 'bin' }, env: Env): boolean {
  if (node.op === '&&') return bool(evaluate(node.l, env)) && bool(evaluate(node.r, env))
  if (node.op === '||') return bool(evaluate(node.l, env)) || bool(evaluate(node.r, env))
  const equal = JSON.stringify(evaluate(node.l, env)) === JSON.stringify(evaluate(node.r, env))
  return node.op === '==' ? equal : !equal
}

function affix(node: Node & { t: 'startsWith' | 'endsWith' }, env: Env): boolean {
  const s = evaluate(node.of, env)
  const part = evaluate(node.arg, env)
  if (typeof s !== 'string' || typeof part !== 'string') throw new Error(`${node.t}() takes strings`)
  return node.t === 'startsWith' ? s.startsWith(part) : s.endsWith(part)
}

// Errors where CEL has them (a missing key, an undeclared name, a non-bool operand), so that an
// expression that would fail at run time in the API server fails here too.
function evaluate(node: Node, env: Env): unknown {
  switch (node.t) {
    case 'lit': return node.v
    case 'var':
      if (!(node.name in env)) throw new Error(`undeclared reference to ${node.name}`)
      return env[node.name]
    case 'sel': {
      const m = record(evaluate(node.of, env), 'operand')
      if (!Object.hasOwn(m, node.field)) throw new Error(`no such key: ${node.field}`)
      return m[node.field]
    }
    case 'has': return Object.hasOwn(record(evaluate(node.arg.of, env), 'operand of has()'), node.arg.field)
    case 'not': return !bool(evaluate(node.arg, env))
    case 'bin': return binary(node, env)
    case 'exists': return Object.keys(record(evaluate(node.of, env), 'exists() operand')).some(k => bool(evaluate(node.body, { ...env, [node.v]: k })))
    case 'startsWith':
    case 'endsWith': return affix(node, env)
  }
}

function bool(v: unknown): boolean {
  if (typeof v !== 'boolean') throw new Error(`expected a bool, got ${JSON.stringify(v)}`)
  return v
}

// The variables the API server declares for matchConditions.
interface Review { username: string; object: unknown; oldObject: unknown; name?: string }

function env(r: Review): Env {
  return { request: { name: r.name ?? 'podinfo', userInfo: { username: r.username } }, object: r.object, oldObject: r.oldObject, authorizer: {}, params: null }
}

/** Whether the API server would send the request to this webhook, as far as matchConditions decide. */
function sends(webhook: { matchConditions?: V1MatchCondition[] }, r: Review): boolean {
  return (webhook.matchConditions ?? []).every(c => bool(evaluate(parseCel(c.expression), env(r))))
}

/** podinfo as a client sends it, with `annotations`. */
const sent = (annotations?: Record<string, string>): unknown => manifest(deployment({ metadata: { annotations } }))

const OPTED_IN = sent({ 'sluice.dev/strategy': 'canary' })
const PLAIN = sent()
const OTHER_ANNOTATIONS = sent({ 'deployment.kubernetes.io/revision': '3' })
const STATE_ONLY = sent({ 'status.sluice.dev/revision': 'abc', 'status.sluice.dev/desired-replicas': '3' })

t.test('the CEL subset itself', async t => {
  t.equal(evaluate(parseCel("a.b == 'x' && !(c != null)"), { a: { b: 'x' }, c: null }), true)
  t.throws(() => parseCel("has(object.metadata"), /expected \)/, 'unbalanced parentheses')
  t.throws(() => parseCel("object.metadata.annotations.exists(k, k.startsWith('sluice.dev/')) ||"), /expected a token/)
  t.throws(() => parseCel("request.userInfo.username != 'x"), /unexpected character/, 'an unterminated string')
  t.throws(() => evaluate(parseCel('objekt == null'), env({ username: 'a', object: null, oldObject: null })), /undeclared reference to objekt/)
})

function mutating(o: RegistrationOptions = service): V1MutatingWebhook[] {
  return mutatingConfiguration(o).webhooks ?? []
}

function validating(o: RegistrationOptions = service): V1ValidatingWebhook[] {
  return validatingConfiguration(o).webhooks ?? []
}

const prod = policy('prod', {
  mode: 'enforce',
  namespaceSelector: { matchLabels: { tier: 'prod' }, matchExpressions: [{ key: 'team', operator: 'Exists' }] },
  selector: { matchExpressions: [{ key: 'sluice.dev/exempt', operator: 'DoesNotExist' }] },
})
const audit = policy('baseline', { mode: 'audit', selector: { matchLabels: { 'app.kubernetes.io/part-of': 'shop' } } })
const withPolicies = (policies: DeliveryPolicy[]): RegistrationOptions => ({ ...service, policies })

t.test('every match condition parses and uses only the declared variables', async t => {
  const all = [...mutating(withPolicies([prod, audit])), ...validating()]
  for (const webhook of all) {
    t.ok((webhook.matchConditions ?? []).length > 0, `${webhook.name} has match conditions`)
    const names = (webhook.matchConditions ?? []).map(c => c.name)
    t.same(new Set(names).size, names.length, `${webhook.name}: condition names are unique`)
    for (const c of webhook.matchConditions ?? []) {
      t.match(c.name, /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, `${c.name} is a valid condition name`)
      t.doesNotThrow(() => parseCel(c.expression), `${webhook.name}/${c.name} parses`)
      // Every condition must evaluate without error on CREATE (no oldObject) and UPDATE, annotated or not.
      for (const [object, oldObject] of [[PLAIN, null], [OPTED_IN, null], [PLAIN, OPTED_IN], [STATE_ONLY, PLAIN]]) {
        t.type(evaluate(parseCel(c.expression), env({ username: 'alice', object, oldObject })), 'boolean')
      }
    }
  }
})

t.test('the Deployments webhook receives only Deployments with sluice annotations, never sluice\'s own writes', async t => {
  const [webhook] = mutating()
  if (!webhook) throw new Error('no webhook')
  t.equal(webhook.name, DEPLOYMENTS_WEBHOOK)
  t.ok(sends(webhook, { username: 'alice', object: OPTED_IN, oldObject: null }), 'CREATE of an opted-in Deployment')
  t.ok(sends(webhook, { username: 'alice', object: OPTED_IN, oldObject: OPTED_IN }), 'a new revision')
  t.ok(sends(webhook, { username: 'alice', object: PLAIN, oldObject: OPTED_IN }), 'an opt-out (the annotation is only on the old object)')
  t.ok(sends(webhook, { username: 'alice', object: sent({ 'sluice.dev/analysis': 'x' }), oldObject: null }), 'any sluice.dev/ key, so a stray one is reported')
  t.notOk(sends(webhook, { username: 'alice', object: PLAIN, oldObject: null }), 'no annotations at all')
  t.notOk(sends(webhook, { username: 'alice', object: OTHER_ANNOTATIONS, oldObject: OTHER_ANNOTATIONS }), 'unrelated annotations')
  t.notOk(sends(webhook, { username: 'alice', object: STATE_ONLY, oldObject: STATE_ONLY }), 'sluice\'s state keys are not an opt-in')
  t.notOk(sends(webhook, { username: SLUICE, object: OPTED_IN, oldObject: OPTED_IN }), 'sluice\'s own write')
  t.same(webhook.rules, [{ operations: ['CREATE', 'UPDATE'], apiGroups: ['apps'], apiVersions: ['v1'], resources: ['deployments'], scope: 'Namespaced' }],
    'no subresources, no DELETE')
})

t.test('failure and side-effect settings', async t => {
  for (const webhook of [...mutating(withPolicies([prod])), ...validating()]) {
    t.equal(webhook.failurePolicy, 'Fail', `${webhook.name}: what is sent is never admitted unchecked`)
    t.equal(webhook.sideEffects, 'None', `${webhook.name}: dry runs are allowed`)
    t.ok(webhook.timeoutSeconds !== undefined && webhook.timeoutSeconds >= 1 && webhook.timeoutSeconds <= 5, `${webhook.name}: timeout ≤ 5s`)
    t.same(webhook.admissionReviewVersions, ['v1'])
    t.equal(webhook.matchPolicy, 'Equivalent', `${webhook.name}: other API versions of the same resources are sent too`)
  }
  t.equal(mutating({ ...service, timeoutSeconds: 3 })[0]?.timeoutSeconds, 3)
  for (const webhook of mutating(withPolicies([prod]))) t.equal(webhook.reinvocationPolicy, 'Never', webhook.name)
})

function excluded(selector: V1LabelSelector | undefined): string[] {
  const rule = selector?.matchExpressions?.find(e => e.key === 'kubernetes.io/metadata.name')
  if (rule?.operator !== 'NotIn') return []
  return rule.values ?? []
}

t.test('kube-system and sluice\'s own namespace are never sent', async t => {
  const custom = { ...service, sluiceNamespace: 'delivery', policies: [prod, audit] }
  for (const webhook of [...mutating(custom), ...validating(custom)]) {
    const names = excluded(webhook.namespaceSelector)
    t.ok(names.includes('kube-system'), `${webhook.name} excludes kube-system`)
    t.ok(names.includes('delivery'), `${webhook.name} excludes sluice's namespace`)
  }
})

t.test('namespaceLabels narrow every webhook (tests run webhooks side by side)', async t => {
  const scoped = { ...service, namespaceLabels: { 'sluice-test': 'run-1' }, policies: [prod] }
  for (const webhook of [...mutating(scoped), ...validating(scoped)]) {
    t.equal(webhook.namespaceSelector?.matchLabels?.['sluice-test'], 'run-1', webhook.name)
  }
  t.notOk(mutating()[0]?.namespaceSelector?.matchLabels, 'no matchLabels when unscoped')
})

t.test('clientConfig: a Service in the cluster, or a URL for local runs', async t => {
  const [m] = mutating()
  const [v] = validating()
  t.same(m?.clientConfig, { service: { namespace: 'sluice-system', name: 'sluice', path: MUTATE_DEPLOYMENTS_PATH, port: 443 } }, 'no caBundle: sluice injects it')
  t.same(v?.clientConfig, { service: { namespace: 'sluice-system', name: 'sluice', path: VALIDATE_GUARD_PATH, port: 443 } })
  t.equal(mutating({ ...service, endpoint: { kind: 'service', namespace: 'x', name: 'y', port: 8443 } })[0]?.clientConfig.service?.port, 8443)

  const [lm] = mutating(local)
  const [lv] = validating(local)
  t.same(lm?.clientConfig, { url: `https://127.0.0.1:9443${MUTATE_DEPLOYMENTS_PATH}`, caBundle: local.caBundle })
  t.same(lv?.clientConfig, { url: `https://127.0.0.1:9443${VALIDATE_GUARD_PATH}`, caBundle: local.caBundle })
  t.notOk(lm?.clientConfig.service, 'never both')
})

t.test('one webhook per DeliveryPolicy, with its selectors, for the Deployments it opts in', async t => {
  const webhooks = mutating(withPolicies([prod, audit]))
  t.same(webhooks.map(w => w.name), [DEPLOYMENTS_WEBHOOK, 'baseline.policy.sluice.dev', 'prod.policy.sluice.dev'], 'sorted by name: stable output')
  t.same(mutating(withPolicies([audit, prod])), webhooks, 'the policy order does not matter')
  const byName = (name: string): V1MutatingWebhook => {
    const w = webhooks.find(x => x.name === name)
    if (!w) throw new Error(`no ${name}`)
    return w
  }
  const p = byName('prod.policy.sluice.dev')
  t.same(p.namespaceSelector?.matchLabels, { tier: 'prod' })
  t.same(p.namespaceSelector?.matchExpressions?.slice(1), [{ key: 'team', operator: 'Exists' }], 'the policy\'s own expressions kept')
  t.ok(excluded(p.namespaceSelector).includes('kube-system'), 'and the exclusions still apply')
  t.same(p.objectSelector, prod.spec.selector)
  t.same(p.clientConfig, mutating()[0]?.clientConfig, 'the same endpoint as the Deployments webhook')
  t.same(p.rules, mutating()[0]?.rules)
  t.same(byName('baseline.policy.sluice.dev').objectSelector, { matchLabels: { 'app.kubernetes.io/part-of': 'shop' } })
  t.same(mutating(withPolicies([policy('all', { mode: 'enforce' })]))[1]?.objectSelector, {}, 'no selector: every Deployment')

  // Unannotated Deployments reach sluice through a policy webhook; annotated ones through the Deployments webhook.
  for (const [object, oldObject] of [[PLAIN, null], [OPTED_IN, null], [PLAIN, OPTED_IN], [STATE_ONLY, STATE_ONLY], [OPTED_IN, PLAIN]]) {
    const review = { username: 'alice', object, oldObject }
    t.equal([byName(DEPLOYMENTS_WEBHOOK), p].filter(w => sends(w, review)).length, 1, `sent once: ${JSON.stringify([object, oldObject])}`)
  }
  t.notOk(sends(p, { username: SLUICE, object: PLAIN, oldObject: null }), 'not sluice\'s own writes')
  t.equal(mutating(withPolicies([])).length, 1, 'no policies: the Deployments webhook alone')
})

t.test('the guard receives only generated objects, and not sluice\'s writes', async t => {
  const [guard, scale, resourcesHook, ...rest] = validating()
  t.same(rest, [])
  t.equal(resourcesHook?.name, RESOURCES_WEBHOOK)
  if (!guard || !scale) throw new Error('no guard')
  t.equal(guard.name, GUARD_WEBHOOK)
  t.same(guard.objectSelector, { matchLabels: { 'app.kubernetes.io/managed-by': 'sluice' } })
  t.notOk(sends(guard, { username: SLUICE, object: PLAIN, oldObject: PLAIN }))
  t.ok(sends(guard, { username: 'alice', object: null, oldObject: PLAIN }), 'a DELETE (no object) evaluates')
  const resources = (guard.rules ?? []).flatMap(r => (r.resources ?? []).map(res => `${r.apiGroups?.[0] ?? ''}/${res}`))
  for (const r of ['apps/deployments', '/services', '/configmaps', '/secrets', 'networking.k8s.io/ingresses', 'autoscaling/horizontalpodautoscalers', 'sluice.dev/canaries']) {
    t.ok(resources.includes(r), `guards ${r}`)
  }
  t.notOk(resources.includes('apps/deployments/scale'), 'not scale: its objectSelector would be matched against a Scale, which has no labels')
  for (const rule of guard.rules ?? []) t.same(rule.operations, ['CREATE', 'UPDATE', 'DELETE'], `${rule.resources?.join(',')}: deletes too`)
})

t.test('sluice\'s own kinds are sent to the resources webhook on CREATE and UPDATE, never sluice\'s writes', async t => {
  const w = validating(local).find(x => x.name === RESOURCES_WEBHOOK)
  if (!w) throw new Error('no resources webhook')
  t.same(w.clientConfig, { url: `https://127.0.0.1:9443${VALIDATE_RESOURCES_PATH}`, caBundle: local.caBundle })
  t.same((w.rules ?? []).flatMap(r => (r.resources ?? []).map(res => `${r.scope}:${res}:${r.operations?.join(',')}`)),
    ['Namespaced:canaries:CREATE,UPDATE', 'Namespaced:metrictemplates:CREATE,UPDATE', 'Namespaced:alertproviders:CREATE,UPDATE', 'Cluster:deliverypolicies:CREATE,UPDATE'])
  t.equal(w.objectSelector, undefined, 'hand-written objects have no sluice label to select by')
  t.notOk(sends(w, { username: SLUICE, object: PLAIN, oldObject: null }), 'not sluice\'s own writes')
  t.ok(sends(w, { username: 'alice', object: PLAIN, oldObject: null }))
})

// A Scale as the API server hands it to matchConditions: no labels, so nothing about the Deployment.
const SCALE = { apiVersion: 'autoscaling/v1', kind: 'Scale', metadata: { name: 'podinfo-primary', namespace: 'shop' }, spec: { replicas: 1 } }
const HPA_SA = 'system:serviceaccount:kube-system:horizontal-pod-autoscaler'

t.test('scale requests reach the guard through their own webhook, without an objectSelector', async t => {
  const scale = validating().find(w => w.name === GUARD_SCALE_WEBHOOK)
  if (!scale) throw new Error('no scale guard')
  t.same(scale.rules, [{ operations: ['UPDATE'], apiGroups: ['apps'], apiVersions: ['v1'], resources: ['deployments/scale'], scope: 'Namespaced' }],
    'scale writes are UPDATEs (PUT and PATCH) of the subresource')
  t.equal(scale.objectSelector, undefined, 'an objectSelector would be matched against the Scale, and never match')
  t.same(scale.clientConfig, validating()[0]?.clientConfig, 'the guard\'s endpoint: the handler tells scale requests apart')
  t.same(scale.namespaceSelector, validating()[0]?.namespaceSelector)
  const review = (username: string, name: string): Review => ({ username, name, object: SCALE, oldObject: SCALE })
  t.ok(sends(scale, review('admin', 'podinfo-primary')), 'a user scaling a primary')
  t.notOk(sends(scale, review('admin', 'podinfo')), 'a name sluice never generates: such scales never wait on sluice')
  t.notOk(sends(scale, review(SLUICE, 'podinfo-primary')), 'sluice\'s own')
  t.notOk(sends(scale, review(HPA_SA, 'podinfo-primary')), 'the autoscaler (its own ServiceAccount)')
  t.notOk(sends(scale, review('system:kube-controller-manager', 'podinfo-primary')), 'the autoscaler (as the controller-manager)')
  t.ok(sends(scale, review('system:serviceaccount:kube-system:generic-garbage-collector', 'podinfo-primary')), 'no other controller')
})

t.test('the configurations are named sluice, the name RBAC lets sluice update', async t => {
  for (const c of [mutatingConfiguration(service), validatingConfiguration(service)]) {
    t.equal(c.apiVersion, 'admissionregistration.k8s.io/v1')
    t.equal(c.metadata?.name, 'sluice')
  }
})
