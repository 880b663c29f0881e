// The benchmark's data: a realistic opted-in Deployment of about 30 KB as the API server sends it in an
// AdmissionReview (managedFields, last-applied annotation, status, several containers with many env vars),
// the UPDATE review that changes its image (a new revision: patch and plan warnings), the in-memory caches
// the handler reads, and the same objects as the local cluster needs them.
import type { DeploymentContext } from '../src/admission/deployments.ts'
import { templateRevision } from '../src/kube/revision.ts'
import type { DeliveryPolicy } from '../src/api/types.ts'

type Json = Record<string, unknown>

export const BENCH_NAMESPACE = 'bench-shop'
export const TEMPLATE_NAME = 'latency-p99'
export const ALERT_PROVIDER_NAME = 'on-call'
export const POLICY_NAME = 'bench-audit'
export const NAMESPACE_LABELS: Readonly<Record<string, string>> = {
  'kubernetes.io/metadata.name': BENCH_NAMESPACE, team: 'checkout', 'cost-center': 'cc-4711', environment: 'production',
}
export const SLUICE_USERNAME = 'system:serviceaccount:sluice-system:sluice'

const OLD_IMAGE = 'registry.example.com/checkout/api:2.41.7'
const NEW_IMAGE = 'registry.example.com/checkout/api:2.42.0'

/** The user-facing sluice annotations: a canary with an analysis block (metrics, webhooks, alerts). */
export const SLUICE_ANNOTATIONS: Readonly<Record<string, string>> = {
  'sluice.dev/strategy': 'canary',
  'sluice.dev/provider': 'gatewayapi',
  'sluice.dev/port': '8080',
  'sluice.dev/spec': [
    'service:',
    '  gatewayRefs:',
    '  - {name: public, namespace: gateways}',
    '  - {name: internal, namespace: gateways}',
    '  hosts: [checkout.example.com, checkout.internal.example.com]',
    '  timeout: 30s',
    '  headers: {request: {set: {x-request-source: checkout}}, response: {remove: [x-envoy-upstream-service-time]}}',
    'progressDeadlineSeconds: 600',
  ].join('\n'),
  'sluice.dev/analysis': [
    'interval: 1m',
    'threshold: 5',
    'maxWeight: 50',
    'stepWeight: 10',
    'metrics:',
    '  - name: request-success-rate',
    '    interval: 1m',
    '    thresholdRange: {min: 99}',
    '  - name: request-duration',
    '    interval: 1m',
    '    thresholdRange: {max: 500}',
    `  - name: ${TEMPLATE_NAME}`,
    '    interval: 2m',
    `    templateRef: {name: ${TEMPLATE_NAME}}`,
    '    templateVariables: {quantile: "0.99", route: "/api/v1/checkout"}',
    '    thresholdRange: {max: 0.8}',
    'webhooks:',
    '  - name: smoke',
    '    type: pre-rollout',
    '    url: http://flagger-loadtester.test/',
    '    timeout: 30s',
    '    metadata: {type: bash, cmd: "curl -sf http://checkout-canary.bench-shop:8080/healthz"}',
    '  - name: load',
    '    url: http://flagger-loadtester.test/',
    '    timeout: 5s',
    '    metadata: {cmd: "hey -z 1m -q 10 -c 2 http://checkout-canary.bench-shop:8080/"}',
    'alerts:',
    '  - name: on-call',
    '    severity: error',
    `    providerRef: {name: ${ALERT_PROVIDER_NAME}}`,
  ].join('\n'),
}

// ---- the Deployment ------------------------------------------------------------------------------

function envVars(container: string, n: number): Json[] {
  const prefix = container.toUpperCase().replace(/-/g, '_')
  const out: Json[] = []
  for (let i = 0; i < n; i++) {
    const name = `${prefix}_SETTING_${String(i).padStart(2, '0')}`
    if (i % 7 === 3) out.push({ name, valueFrom: { secretKeyRef: { name: `${container}-secrets`, key: `setting-${i}` } } })
    else if (i % 7 === 5) out.push({ name, valueFrom: { configMapKeyRef: { name: `${container}-config`, key: `setting-${i}` } } })
    else out.push({ name, value: `value-${container}-${i}-${'x'.repeat(i % 5 * 6)}` })
  }
  out.push({ name: 'POD_NAME', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.name' } } })
  out.push({ name: 'POD_IP', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'status.podIP' } } })
  return out
}

function probe(path: string, port: number, initialDelaySeconds: number): Json {
  return {
    httpGet: { path, port, scheme: 'HTTP' }, initialDelaySeconds,
    timeoutSeconds: 2, periodSeconds: 10, successThreshold: 1, failureThreshold: 3,
  }
}

function container(name: string, image: string, port: number, envCount: number): Json {
  return {
    name, image, imagePullPolicy: 'IfNotPresent',
    args: [`--port=${port}`, '--log-format=json', '--log-level=info', `--metrics-port=${port + 1000}`],
    ports: [
      { name: 'http', containerPort: port, protocol: 'TCP' },
      { name: 'metrics', containerPort: port + 1000, protocol: 'TCP' },
    ],
    env: envVars(name, envCount),
    envFrom: [{ configMapRef: { name: `${name}-env` } }],
    resources: { requests: { cpu: '250m', memory: '256Mi' }, limits: { cpu: '1', memory: '512Mi' } },
    livenessProbe: probe('/healthz', port, 10),
    readinessProbe: probe('/readyz', port, 5),
    volumeMounts: [
      { name: 'config', mountPath: `/etc/${name}`, readOnly: true },
      { name: 'tmp', mountPath: '/tmp' },
      { name: 'certs', mountPath: '/etc/ssl/private', readOnly: true },
    ],
    securityContext: {
      allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, runAsNonRoot: true, runAsUser: 10001,
      capabilities: { drop: ['ALL'] },
    },
    terminationMessagePath: '/dev/termination-log', terminationMessagePolicy: 'File',
  }
}

// Init containers take no probes and no ports.
function initContainer(image: string): Json {
  const { livenessProbe: _l, readinessProbe: _r, ports: _p, ...rest } = container('migrate', image, 7070, 3)
  return { ...rest, args: ['migrate', '--wait-for-db=60s'] }
}

function podTemplate(image: string): Json {
  return {
    metadata: {
      labels: { app: 'checkout', 'app.kubernetes.io/name': 'checkout', 'app.kubernetes.io/part-of': 'shop', version: 'stable' },
      annotations: { 'prometheus.io/scrape': 'true', 'prometheus.io/port': '9080', 'kubectl.kubernetes.io/default-container': 'app' },
    },
    spec: {
      serviceAccountName: 'checkout',
      initContainers: [initContainer(image)],
      containers: [
        container('app', image, 8080, 12),
        container('sidecar-proxy', 'registry.example.com/platform/proxy:1.31.2', 15001, 4),
        container('log-shipper', 'registry.example.com/platform/fluent-bit:3.2.1', 2020, 3),
      ],
      volumes: [
        { name: 'config', configMap: { name: 'checkout-config', defaultMode: 420 } },
        { name: 'certs', secret: { secretName: 'checkout-tls', defaultMode: 420 } },
        { name: 'tmp', emptyDir: { sizeLimit: '1Gi' } },
      ],
      affinity: {
        podAntiAffinity: {
          preferredDuringSchedulingIgnoredDuringExecution: [{
            weight: 100,
            podAffinityTerm: { topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: { app: 'checkout' } } },
          }],
        },
      },
      tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'shop', effect: 'NoSchedule' }],
      topologySpreadConstraints: [{ maxSkew: 1, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'ScheduleAnyway', labelSelector: { matchLabels: { app: 'checkout' } } }],
      restartPolicy: 'Always', terminationGracePeriodSeconds: 45, dnsPolicy: 'ClusterFirst', schedulerName: 'default-scheduler',
      securityContext: { fsGroup: 10001, seccompProfile: { type: 'RuntimeDefault' } },
    },
  }
}

function labels(): Record<string, string> {
  const out: Record<string, string> = {
    app: 'checkout', 'app.kubernetes.io/name': 'checkout', 'app.kubernetes.io/instance': 'checkout-prod',
    'app.kubernetes.io/version': '2.42.0', 'app.kubernetes.io/component': 'api', 'app.kubernetes.io/part-of': 'shop',
    'app.kubernetes.io/managed-by': 'Helm', 'helm.sh/chart': 'checkout-7.3.1', team: 'checkout', tier: 'backend',
  }
  for (let i = 0; i < 8; i++) out[`example.com/label-${i}`] = `value-${i}`
  return out
}

/** The spec as the user wrote it: what create sends, and what last-applied-configuration records. */
export function userDeployment(name: string, namespace: string, image: string): Json {
  const annotations: Record<string, string> = {
    ...SLUICE_ANNOTATIONS,
    'meta.helm.sh/release-name': 'checkout-prod', 'meta.helm.sh/release-namespace': namespace,
    'example.com/owner': 'team-checkout@example.com', 'example.com/runbook': 'https://runbooks.example.com/checkout/api',
    'example.com/slo': '99.9', 'example.com/oncall': 'checkout-primary',
  }
  return {
    apiVersion: 'apps/v1', kind: 'Deployment',
    metadata: { name, namespace, labels: labels(), annotations },
    spec: {
      replicas: 6, revisionHistoryLimit: 5, progressDeadlineSeconds: 600,
      selector: { matchLabels: { app: 'checkout' } },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: 0 } },
      template: podTemplate(image),
    },
  }
}

// managedFields' FieldsV1: the set of fields a manager owns, as the API server records it.
function fieldsV1(value: unknown): Json {
  if (typeof value !== 'object' || value === null) return {}
  if (Array.isArray(value)) {
    const out: Json = {}
    value.forEach((item, i) => {
      const key = typeof item === 'object' && item !== null && 'name' in item ? `k:{"name":${JSON.stringify((item as Json).name)}}` : `i:${i}`
      out[key] = { '.': {}, ...fieldsV1(item) }
    })
    return out
  }
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [`f:${k}`, fieldsV1(v)]))
}

function stored(image: string, revision: string, generation: number, replicas: number, desiredReplicas: number): Json {
  const user = userDeployment('checkout', BENCH_NAMESPACE, image)
  const meta = user.metadata as Json
  const spec = user.spec as Json
  return {
    ...user,
    metadata: {
      ...meta,
      uid: '3f1c9a52-8e0b-4b6f-9d7e-2a1b3c4d5e6f', resourceVersion: '48213977', generation,
      creationTimestamp: '2026-01-12T09:14:03Z',
      annotations: {
        ...(meta.annotations as Json),
        'deployment.kubernetes.io/revision': String(generation),
        'kubectl.kubernetes.io/last-applied-configuration': JSON.stringify(user),
        'status.sluice.dev/desired-replicas': String(desiredReplicas),
        'status.sluice.dev/revision': revision,
      },
      managedFields: [
        { manager: 'kubectl-client-side-apply', operation: 'Update', apiVersion: 'apps/v1', time: '2026-03-02T11:40:19Z', fieldsType: 'FieldsV1', fieldsV1: fieldsV1({ metadata: { labels: meta.labels, annotations: meta.annotations }, spec }) },
        { manager: 'kube-controller-manager', operation: 'Update', apiVersion: 'apps/v1', time: '2026-03-02T11:41:02Z', fieldsType: 'FieldsV1', subresource: 'status', fieldsV1: { 'f:status': { 'f:availableReplicas': {}, 'f:conditions': {}, 'f:observedGeneration': {}, 'f:readyReplicas': {}, 'f:replicas': {}, 'f:updatedReplicas': {} } } },
      ],
    },
    spec: { ...spec, replicas },
    status: {
      observedGeneration: generation, replicas: 0,
      conditions: [
        { type: 'Available', status: 'True', lastUpdateTime: '2026-03-02T11:41:02Z', lastTransitionTime: '2026-01-12T09:14:40Z', reason: 'MinimumReplicasAvailable', message: 'Deployment has minimum availability.' },
        { type: 'Progressing', status: 'True', lastUpdateTime: '2026-03-02T11:41:02Z', lastTransitionTime: '2026-01-12T09:14:03Z', reason: 'NewReplicaSetAvailable', message: 'ReplicaSet "checkout-7d9f8b6c5d" has successfully progressed.' },
      ],
    },
  }
}

export interface BenchReview {
  /** The AdmissionReview with a placeholder uid of UID_LENGTH characters. */
  readonly review: Json
  readonly objectBytes: number
  readonly reviewBytes: number
}

export const UID_LENGTH = 36
export const PLACEHOLDER_UID = '00000000-0000-4000-8000-000000000000'

/**
 * An UPDATE by a user (kubectl apply) of a managed Deployment: by default one that changes the app image (a
 * new revision); `same-template` re-applies the stored template (a GitOps re-sync, a label or replica change).
 */
export function updateReview(change: 'new-image' | 'same-template' = 'new-image'): BenchReview {
  // The target runs at zero (the generated primary serves); the apply carries the user's 6 replicas and the
  // state annotations of the stored object, whose revision is the old template's.
  const oldRevision = templateRevision((userDeployment('checkout', BENCH_NAMESPACE, OLD_IMAGE).spec as Json).template)
  const oldObject = stored(OLD_IMAGE, oldRevision, 7, 0, 6)
  const object = stored(change === 'new-image' ? NEW_IMAGE : OLD_IMAGE, oldRevision, 8, 6, 6)
  const review = {
    apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview',
    request: {
      uid: PLACEHOLDER_UID,
      kind: { group: 'apps', version: 'v1', kind: 'Deployment' },
      resource: { group: 'apps', version: 'v1', resource: 'deployments' },
      requestKind: { group: 'apps', version: 'v1', kind: 'Deployment' },
      requestResource: { group: 'apps', version: 'v1', resource: 'deployments' },
      name: 'checkout', namespace: BENCH_NAMESPACE, operation: 'UPDATE',
      userInfo: { username: 'alice@example.com', uid: 'oidc:alice', groups: ['team-checkout', 'system:authenticated'], extra: { 'authentication.kubernetes.io/credential-id': ['JTI=0f3c2b1a'] } },
      object, oldObject, dryRun: false,
      options: { kind: 'UpdateOptions', apiVersion: 'meta.k8s.io/v1', fieldManager: 'kubectl-client-side-apply', fieldValidation: 'Strict' },
    },
  }
  return { review, objectBytes: Buffer.byteLength(JSON.stringify(object)), reviewBytes: Buffer.byteLength(JSON.stringify(review)) }
}

// ---- the caches the handler reads ---------------------------------------------------------------

/** An audit-mode policy that applies to the namespace, so that policy resolution and constraints run. */
export function deliveryPolicy(): DeliveryPolicy {
  return {
    apiVersion: 'sluice.dev/v1beta1', kind: 'DeliveryPolicy', metadata: { name: POLICY_NAME },
    spec: {
      mode: 'audit',
      namespaceSelector: { matchLabels: { environment: 'production' } },
      defaults: { analysis: { interval: '1m', threshold: 5 } },
      constraints: { requiredMetrics: ['request-success-rate'], maxStepWeight: 25, minInterval: '30s', allowedProviders: ['gatewayapi', 'nginx', 'istio'] },
    },
  }
}

/** The in-memory stand-in for the informer caches: one policy, the namespace's labels, the referenced objects. */
export function memoryContext(): DeploymentContext {
  const policies = [deliveryPolicy()]
  return {
    sluiceUsername: SLUICE_USERNAME,
    policies: () => policies,
    namespaceLabels: ns => ns === BENCH_NAMESPACE ? NAMESPACE_LABELS : undefined,
    refs: {
      metricTemplate: (ns, name) => ns === BENCH_NAMESPACE && name === TEMPLATE_NAME,
      alertProvider: (ns, name) => ns === BENCH_NAMESPACE && name === ALERT_PROVIDER_NAME,
    },
    // As the webhook runs: its lints are remembered until a cache changes, which none does here.
    cacheGeneration: () => 0,
  }
}

// ---- the cluster's objects -----------------------------------------------------------------------

export function metricTemplate(namespace: string): Json {
  return {
    apiVersion: 'sluice.dev/v1beta1', kind: 'MetricTemplate', metadata: { name: TEMPLATE_NAME, namespace },
    spec: {
      provider: { type: 'prometheus', address: 'http://prometheus.monitoring:9090' },
      query: 'histogram_quantile({{ variables.quantile }}, sum(rate(http_request_duration_seconds_bucket{namespace="{{ namespace }}",route="{{ variables.route }}"}[{{ interval }}])) by (le))',
    },
  }
}

export function alertProvider(namespace: string): Json {
  return {
    apiVersion: 'sluice.dev/v1beta1', kind: 'AlertProvider', metadata: { name: ALERT_PROVIDER_NAME, namespace },
    spec: { type: 'slack', channel: '#checkout-deploys', username: 'sluice', secretRef: { name: 'slack-url' } },
  }
}

/** A create of an opted-in Deployment as `kubectl apply` sends it: the user's spec and its last-applied record. */
export function createBody(name: string, namespace: string): Json {
  const user = userDeployment(name, namespace, NEW_IMAGE)
  const meta = user.metadata as Json
  return {
    ...user,
    metadata: { ...meta, annotations: { ...(meta.annotations as Json), 'kubectl.kubernetes.io/last-applied-configuration': JSON.stringify(user) } },
  }
}
