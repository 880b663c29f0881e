// Installs the Prometheus Operator's ServiceMonitor and PrometheusRule CRDs (as published in its module's
// example/prometheus-operator-crd) into the test cluster, so that sluice's monitoring manifests are
// checked by the API server against the real schemas. No operator runs: only the kinds are needed.
import { join } from 'node:path'
import { kubectlOk } from '../helpers/kube.ts'
import { goModuleDir } from './go-module.ts'

export const PROMETHEUS_OPERATOR_VERSION = process.env.SLUICE_PROMETHEUS_OPERATOR_VERSION ?? 'v0.85.0'
const CRDS = ['servicemonitors', 'prometheusrules'] as const

/** Applies (server-side, idempotent) the two CRDs and waits until they are Established. */
export async function installMonitoringCrds(version = PROMETHEUS_OPERATOR_VERSION): Promise<void> {
  const dir = await goModuleDir('github.com/prometheus-operator/prometheus-operator', version)
  const files = CRDS.flatMap(c => ['-f', join(dir, 'example/prometheus-operator-crd', `monitoring.coreos.com_${c}.yaml`)])
  await kubectlOk(['apply', '--server-side', '--force-conflicts', '--field-manager=sluice-tests', ...files])
  await kubectlOk(['wait', '--for=condition=Established', '--timeout=60s', ...files])
}
