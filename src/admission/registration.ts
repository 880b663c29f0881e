// sluice's webhook configurations, built in one place for the manifests, for local runs (by URL) and
// for the running webhook, which adds one entry per DeliveryPolicy so that only Deployments a policy
// selects (or that carry sluice annotations) are ever sent.
import type {
  V1MutatingWebhookConfiguration, V1ValidatingWebhookConfiguration, V1MutatingWebhook, V1ValidatingWebhook, V1LabelSelector,
} from '@kubernetes/client-node'
import { MANAGED_BY_LABEL, MANAGED_BY_VALUE } from '../api/resolve.ts'
import type { DeliveryPolicy } from '../api/types.ts'
import { primaryName } from '../deployer/primary.ts'
import { AUTOSCALER_USERNAMES } from './guard.ts'
import { MUTATE_DEPLOYMENTS_PATH, VALIDATE_GUARD_PATH, VALIDATE_RESOURCES_PATH } from './server.ts'

export const CONFIGURATION_NAME = 'sluice'
export const DEPLOYMENTS_WEBHOOK = 'deployments.sluice.dev'
export const GUARD_WEBHOOK = 'guard.sluice.dev'
export const RESOURCES_WEBHOOK = 'resources.sluice.dev'
export const GUARD_SCALE_WEBHOOK = 'scale.guard.sluice.dev'
export const POLICY_WEBHOOK_SUFFIX = '.policy.sluice.dev'

export type Endpoint =
  | { readonly kind: 'service'; readonly namespace: string; readonly name: string; readonly port?: number }
  | { readonly kind: 'url'; readonly base: string }          // e.g. https://127.0.0.1:9443 for local runs

export interface RegistrationOptions {
  readonly endpoint: Endpoint
  readonly caBundle?: string                                   // base64 PEM
  readonly sluiceNamespace: string
  readonly sluiceUsername: string
  readonly policies?: readonly DeliveryPolicy[]
  readonly timeoutSeconds?: number
  /** Narrows every webhook to namespaces with these labels (tests run several webhooks side by side). */
  readonly namespaceLabels?: Readonly<Record<string, string>>
}

// Never kube-system (a cluster must be repairable when sluice is down) nor sluice's own namespace.
function namespaceSelector(o: RegistrationOptions, extra?: V1LabelSelector): V1LabelSelector {
  return {
    ...(o.namespaceLabels || extra?.matchLabels ? { matchLabels: { ...extra?.matchLabels, ...o.namespaceLabels } } : {}),
    matchExpressions: [
      { key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: ['kube-system', 'kube-node-lease', o.sluiceNamespace] },
      ...(extra?.matchExpressions ?? []),
    ],
  }
}

function clientConfig(o: RegistrationOptions, path: string): V1MutatingWebhook['clientConfig'] {
  const e = o.endpoint
  const bundle = o.caBundle ? { caBundle: o.caBundle } : {}
  if (e.kind === 'url') return { url: `${e.base}${path}`, ...bundle }
  return { service: { namespace: e.namespace, name: e.name, path, port: e.port ?? 443 }, ...bundle }
}

const hasSluiceKey = (v: string): string =>
  `has(${v}.metadata.annotations) && ${v}.metadata.annotations.exists(k, k.startsWith('sluice.dev/'))`

function notSluice(o: RegistrationOptions): { name: string; expression: string } {
  // sluice's own writes pass unchanged; skipping them here also keeps them off the network.
  return { name: 'not-sluice', expression: `request.userInfo.username != '${o.sluiceUsername}'` }
}

const common = (o: RegistrationOptions): Pick<V1MutatingWebhook, 'admissionReviewVersions' | 'sideEffects' | 'failurePolicy' | 'timeoutSeconds' | 'matchPolicy'> => ({
  admissionReviewVersions: ['v1'],
  sideEffects: 'None',
  failurePolicy: 'Fail',
  timeoutSeconds: o.timeoutSeconds ?? 5,
  matchPolicy: 'Equivalent',
})

const deploymentRules = [{ operations: ['CREATE', 'UPDATE'], apiGroups: ['apps'], apiVersions: ['v1'], resources: ['deployments'], scope: 'Namespaced' }]

function policyWebhook(o: RegistrationOptions, p: DeliveryPolicy): V1MutatingWebhook {
  return {
    name: `${p.metadata.name}${POLICY_WEBHOOK_SUFFIX}`,
    ...common(o),
    reinvocationPolicy: 'Never',
    clientConfig: clientConfig(o, MUTATE_DEPLOYMENTS_PATH),
    rules: deploymentRules,
    namespaceSelector: namespaceSelector(o, p.spec.namespaceSelector),
    objectSelector: (p.spec.selector ?? {}),
    // Annotated Deployments are already sent by the first webhook; send each request once.
    matchConditions: [notSluice(o), { name: 'not-annotated', expression: `!(${hasSluiceKey('object')}) && (oldObject == null || !(${hasSluiceKey('oldObject')}))` }],
  }
}

export function mutatingConfiguration(o: RegistrationOptions): V1MutatingWebhookConfiguration {
  return {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'MutatingWebhookConfiguration',
    metadata: { name: CONFIGURATION_NAME, labels: { 'app.kubernetes.io/name': 'sluice' } },
    webhooks: [
      {
        name: DEPLOYMENTS_WEBHOOK,
        ...common(o),
        reinvocationPolicy: 'Never',
        clientConfig: clientConfig(o, MUTATE_DEPLOYMENTS_PATH),
        rules: deploymentRules,
        namespaceSelector: namespaceSelector(o),
        // Only Deployments that carry (or carried) sluice annotations are sent: the rest never wait on sluice.
        matchConditions: [notSluice(o), { name: 'annotated', expression: `(${hasSluiceKey('object')}) || (oldObject != null && ${hasSluiceKey('oldObject')})` }],
      },
      ...[...(o.policies ?? [])].sort((a, b) => (a.metadata.name ?? '').localeCompare(b.metadata.name ?? '')).map(p => policyWebhook(o, p)),
    ],
  }
}

// sluice's own kinds are checked at apply against what this version runs (src/admission/resources.ts). The
// namespace selector does not apply to the cluster-scoped DeliveryPolicy, which is always sent.
function resourcesWebhook(o: RegistrationOptions): V1ValidatingWebhook {
  return {
    name: RESOURCES_WEBHOOK,
    ...common(o),
    clientConfig: clientConfig(o, VALIDATE_RESOURCES_PATH),
    rules: [
      { operations: ['CREATE', 'UPDATE'], apiGroups: ['sluice.dev'], apiVersions: ['v1beta1'], resources: ['canaries', 'metrictemplates', 'alertproviders'], scope: 'Namespaced' },
      { operations: ['CREATE', 'UPDATE'], apiGroups: ['sluice.dev'], apiVersions: ['v1beta1'], resources: ['deliverypolicies'], scope: 'Cluster' },
    ],
    namespaceSelector: namespaceSelector(o),
    matchConditions: [notSluice(o)],
  }
}

export function validatingConfiguration(o: RegistrationOptions): V1ValidatingWebhookConfiguration {
  return {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'ValidatingWebhookConfiguration',
    metadata: { name: CONFIGURATION_NAME, labels: { 'app.kubernetes.io/name': 'sluice' } },
    webhooks: [{
      name: GUARD_WEBHOOK,
      ...common(o),
      clientConfig: clientConfig(o, VALIDATE_GUARD_PATH),
      rules: [
        { operations: ['CREATE', 'UPDATE', 'DELETE'], apiGroups: ['apps'], apiVersions: ['v1'], resources: ['deployments'], scope: 'Namespaced' },
        { operations: ['CREATE', 'UPDATE', 'DELETE'], apiGroups: [''], apiVersions: ['v1'], resources: ['services', 'configmaps', 'secrets'], scope: 'Namespaced' },
        { operations: ['CREATE', 'UPDATE', 'DELETE'], apiGroups: ['networking.k8s.io'], apiVersions: ['v1'], resources: ['ingresses'], scope: 'Namespaced' },
        { operations: ['CREATE', 'UPDATE', 'DELETE'], apiGroups: ['gateway.networking.k8s.io'], apiVersions: ['*'], resources: ['httproutes'], scope: 'Namespaced' },
        { operations: ['CREATE', 'UPDATE', 'DELETE'], apiGroups: ['networking.istio.io'], apiVersions: ['*'], resources: ['virtualservices', 'destinationrules'], scope: 'Namespaced' },
        { operations: ['CREATE', 'UPDATE', 'DELETE'], apiGroups: ['traefik.io'], apiVersions: ['*'], resources: ['traefikservices'], scope: 'Namespaced' },
        { operations: ['CREATE', 'UPDATE', 'DELETE'], apiGroups: ['projectcontour.io'], apiVersions: ['*'], resources: ['httpproxies'], scope: 'Namespaced' },
        { operations: ['CREATE', 'UPDATE', 'DELETE'], apiGroups: ['split.smi-spec.io'], apiVersions: ['*'], resources: ['trafficsplits'], scope: 'Namespaced' },
        { operations: ['CREATE', 'UPDATE', 'DELETE'], apiGroups: ['autoscaling'], apiVersions: ['v2'], resources: ['horizontalpodautoscalers'], scope: 'Namespaced' },
        { operations: ['CREATE', 'UPDATE', 'DELETE'], apiGroups: ['sluice.dev'], apiVersions: ['v1beta1'], resources: ['canaries'], scope: 'Namespaced' },
      ],
      namespaceSelector: namespaceSelector(o),
      // Only generated objects are sent (for DELETE the API server matches the old object's labels).
      objectSelector: { matchLabels: { [MANAGED_BY_LABEL]: MANAGED_BY_VALUE } },
      matchConditions: [notSluice(o)],
    }, scaleGuardWebhook(o), resourcesWebhook(o)],
  }
}

// `kubectl scale` writes the scale subresource, whose object is an autoscaling/v1 Scale without labels:
// an objectSelector never matches it (kubernetes/kubernetes#113594), so this entry has none. The webhook
// reads the Deployment's label from its cache. Only names sluice generates (`<target>-primary`) are sent,
// and the autoscaler's writes are not, so neither other Deployments nor autoscaling wait on sluice.
function scaleGuardWebhook(o: RegistrationOptions): V1ValidatingWebhook {
  const notAutoscaler = AUTOSCALER_USERNAMES.map(u => `request.userInfo.username != '${u}'`).join(' && ')
  return {
    name: GUARD_SCALE_WEBHOOK,
    ...common(o),
    clientConfig: clientConfig(o, VALIDATE_GUARD_PATH),
    rules: [{ operations: ['UPDATE'], apiGroups: ['apps'], apiVersions: ['v1'], resources: ['deployments/scale'], scope: 'Namespaced' }],
    namespaceSelector: namespaceSelector(o),
    matchConditions: [
      notSluice(o),
      { name: 'primary-name', expression: `request.name.endsWith('${primaryName('')}')` },
      { name: 'not-autoscaler', expression: notAutoscaler },
    ],
  }
}
