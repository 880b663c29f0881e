// Proof (c): a MutatingWebhookConfiguration registered by URL with a caBundle is called by the API
// server over TLS on `kubectl apply`, and its patch is visible on the stored object.
import t from 'tap'
import Fastify from 'fastify'
import { AdmissionregistrationV1Api, AppsV1Api } from '@kubernetes/client-node'
import { createCA, createLeaf } from '../../../src/certs/pki.ts'
import { kubeConfig, kubectlOk, namespace } from '../../helpers/kube.ts'
import { until } from '../../helpers/wait.ts'

interface Review { request: { uid: string; operation: string; object: { metadata: { labels?: Record<string, string> } } } }

t.test('the API server calls a URL-registered webhook over TLS and stores its patch', async t => {
  const ns = await namespace(t)
  const ca = createCA('proof-webhook-ca', 3600)
  const leaf = createLeaf(ca, { commonName: 'proof-webhook', ipAddresses: ['127.0.0.1'], usage: 'server', lifetimeSeconds: 3600 })
  const calls: string[] = []
  const app = Fastify({ https: { key: leaf.keyPem, cert: leaf.certPem } })
  app.post('/mutate', async req => {
    const review = req.body as Review
    calls.push(review.request.operation)
    const patch = [{ op: 'add', path: '/metadata/labels/proof.sluice.dev~1mutated', value: 'true' }]
    return {
      apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview',
      response: { uid: review.request.uid, allowed: true, patchType: 'JSONPatch', patch: Buffer.from(JSON.stringify(patch)).toString('base64') },
    }
  })
  await app.listen({ host: '127.0.0.1', port: 0 })
  t.teardown(() => app.close())
  const port = (app.server.address() as { port: number }).port

  const admission = kubeConfig().makeApiClient(AdmissionregistrationV1Api)
  const name = `proof-${ns}`
  await admission.createMutatingWebhookConfiguration({ body: {
    metadata: { name },
    webhooks: [{
      name: 'proof.sluice.dev', admissionReviewVersions: ['v1'], sideEffects: 'None', failurePolicy: 'Fail', timeoutSeconds: 5,
      clientConfig: { url: `https://127.0.0.1:${port}/mutate`, caBundle: Buffer.from(ca.certPem).toString('base64') },
      rules: [{ operations: ['CREATE', 'UPDATE'], apiGroups: ['apps'], apiVersions: ['v1'], resources: ['deployments'] }],
      namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': ns } },
    }],
  } })
  t.teardown(() => admission.deleteMutatingWebhookConfiguration({ name }))

  const manifest = `
apiVersion: apps/v1
kind: Deployment
metadata: {name: hooked, namespace: ${ns}, labels: {app: hooked}}
spec:
  replicas: 1
  selector: {matchLabels: {app: hooked}}
  template:
    metadata: {labels: {app: hooked}}
    spec: {containers: [{name: app, image: example.invalid/app:1}]}
`
  // The API server learns of new webhook configurations through an informer: poll with dry-run applies.
  await until(() => kubectlOk(['apply', '--dry-run=server', '-o', 'jsonpath={.metadata.labels}', '-f', '-'], manifest),
    out => out.includes('proof.sluice.dev/mutated'), 'the webhook to be active')
  const out = await kubectlOk(['apply', '-f', '-'], manifest)
  t.match(out, /deployment.apps\/hooked created/)
  const stored = await kubeConfig().makeApiClient(AppsV1Api).readNamespacedDeployment({ name: 'hooked', namespace: ns })
  t.equal(stored.metadata?.labels?.['proof.sluice.dev/mutated'], 'true', 'the patch is on the stored object')
  t.ok(calls.includes('CREATE'), 'the webhook saw the CREATE')
})
