// Gates kept in one ConfigMap the load tester owns (`<kind>.<namespace>.<name>: open|closed`), so that a
// restart keeps them: Flagger's are in memory, and a restart silently closes every gate it had opened.
//
// Every check reads the ConfigMap (a hand edit with kubectl counts at once). Every change is a JSON patch
// of one key made conditional on the resourceVersion it was computed from (kube/precondition.ts): two
// writers never lose each other's keys, and a writer that lost the race (409) reads again and retries,
// after a jittered wait so that racing writers do not collide again in step. Within one process the
// writes go one at a time, so only other replicas can race: without that, a burst of gate calls on one
// load tester conflicts with itself and some calls run out of attempts.
//
// RBAC: get and patch on this one ConfigMap, by name. `create` cannot be limited to a name, so the
// manifest creates the ConfigMap and the load tester creates it only when it may (local runs).
import { CoreV1Api, PatchStrategy, setHeaderOptions, type KubeConfig, type V1ConfigMap } from '@kubernetes/client-node'
import { describeError, isConflict, isNotFound, readApiError } from '../kube/errors.ts'
import { ifUnchanged, type JsonPatchOp } from '../kube/precondition.ts'
import { retryOnConflict, type RetryBackoff } from '../kube/retry.ts'
import { withTimeout } from '../kube/timeout.ts'
import { escapeSegment } from '../kube/json-patch.ts'
import { CLOSED, gateKey, OPEN, type GateStore } from './gates.ts'

export const DEFAULT_GATE_CONFIGMAP = 'sluice-loadtester-gates'

const REQUEST_TIMEOUT_MS = 10_000
/** Eight attempts, waits from 10 ms doubling to 640 ms, each up to twice as long at random. */
const WRITE_BACKOFF: RetryBackoff = { steps: 8, initialMs: 10, factor: 2, jitter: 1 }

export interface ConfigMapRef {
  readonly namespace: string
  readonly name: string
}

export interface ConfigMapGateStore extends GateStore {
  /** Checks at start that the ConfigMap can be read, creating it when missing and allowed to. */
  ensure(): Promise<void>
}

function missing(ref: ConfigMapRef): Error {
  return new Error(`the gate ConfigMap ${ref.namespace}/${ref.name} does not exist: apply manifests/loadtester.yaml, which creates it`)
}

export function configMapGateStore(kc: KubeConfig, ref: ConfigMapRef): ConfigMapGateStore {
  const core = kc.makeApiClient(CoreV1Api)
  const what = `ConfigMap ${ref.namespace}/${ref.name}`
  let writes: Promise<unknown> = Promise.resolve()

  async function read(): Promise<V1ConfigMap | undefined> {
    try {
      return await core.readNamespacedConfigMap(ref, withTimeout(REQUEST_TIMEOUT_MS))
    } catch (e) {
      if (isNotFound(e)) return undefined
      throw new Error(`reading the gate ${what}: ${describeError(e)}`, { cause: e })
    }
  }

  async function patch(cm: V1ConfigMap, key: string, value: string): Promise<void> {
    const rv = cm.metadata?.resourceVersion ?? ''
    const ops: JsonPatchOp[] = cm.data === undefined
      ? [{ op: 'add', path: '/data', value: { [key]: value } }]
      : [{ op: 'add', path: `/data/${escapeSegment(key)}`, value }]
    try {
      await core.patchNamespacedConfigMap({ ...ref, body: ifUnchanged(rv, ops) },
        withTimeout(REQUEST_TIMEOUT_MS, setHeaderOptions('Content-Type', PatchStrategy.JsonPatch)))
    } catch (e) {
      // A 409 is the lost race, retried by the caller; anything else says what the API server answered.
      if (isConflict(e)) throw e
      throw new Error(`writing ${key} to the gate ${what}: ${describeError(e)}`, { cause: e })
    }
  }

  return {
    async ensure() {
      if (await read() !== undefined) return
      try {
        await core.createNamespacedConfigMap({
          namespace: ref.namespace,
          body: { metadata: { name: ref.name, namespace: ref.namespace, labels: { 'app.kubernetes.io/name': 'sluice-loadtester' } } },
        }, withTimeout(REQUEST_TIMEOUT_MS))
      } catch (e) {
        if (isConflict(e)) return
        if (readApiError(e)?.code === 403) throw missing(ref)
        throw new Error(`creating the gate ${what}: ${describeError(e)}`, { cause: e })
      }
    },
    async isOpen(kind, canary) {
      const cm = await read()
      if (cm === undefined) throw missing(ref)
      return cm.data?.[gateKey(kind, canary) ?? ''] === OPEN
    },
    async set(kind, canary, open) {
      const key = gateKey(kind, canary)
      if (key === undefined) throw new Error(`${canary.namespace}/${canary.name}: the name is too long for a gate key`)
      const value = open ? OPEN : CLOSED
      const write = writes.then(() => retryOnConflict(async () => {
        const cm = await read()
        if (cm === undefined) throw missing(ref)
        if (cm.data?.[key] !== value) await patch(cm, key, value)
      }, { backoff: WRITE_BACKOFF }))
      writes = write.catch(() => undefined)
      try {
        await write
      } catch (e) {
        if (!isConflict(e)) throw e
        throw new Error(`the gate ${what} kept changing while ${key} was written (${WRITE_BACKOFF.steps} attempts); try again`, { cause: e })
      }
    },
  }
}
