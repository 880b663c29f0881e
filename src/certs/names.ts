// The names a serving certificate must carry. The API server (Go TLS) ignores the CN: the SAN
// `<svc>.<ns>.svc` is what it checks when it calls the webhook through its Service.
import { isIP } from 'node:net'

export interface ServiceIdentity {
  readonly service: string
  readonly namespace: string
  /** e.g. `localhost` for local runs. */
  readonly extraDnsNames?: readonly string[]
  /** e.g. `127.0.0.1` for a webhook registered by URL. */
  readonly extraIpAddresses?: readonly string[]
  readonly clusterDomain?: string
}

export interface SubjectNames {
  readonly commonName: string
  readonly dnsNames: readonly string[]
  readonly ipAddresses: readonly string[]
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/

function checkLabel(what: string, value: string): void {
  if (!DNS_LABEL.test(value) || value.length > 63) {
    throw new Error(`serving certificate: ${what} "${value}" is not a DNS label (lower-case letters, digits and '-', at most 63)`)
  }
}

export function servingNames(id: ServiceIdentity): SubjectNames {
  checkLabel('service', id.service)
  checkLabel('namespace', id.namespace)
  for (const ip of id.extraIpAddresses ?? []) {
    if (isIP(ip) === 0) throw new Error(`serving certificate: "${ip}" is not an IP address`)
  }
  const svc = `${id.service}.${id.namespace}.svc`
  const dnsNames = [id.service, `${id.service}.${id.namespace}`, svc, `${svc}.${id.clusterDomain ?? 'cluster.local'}`, ...(id.extraDnsNames ?? [])]
  return { commonName: svc, dnsNames: [...new Set(dnsNames)], ipAddresses: [...new Set(id.extraIpAddresses ?? [])] }
}

/** Names for a webhook on this machine only (local runs and tests). */
export function localNames(): SubjectNames {
  return { commonName: 'localhost', dnsNames: ['localhost'], ipAddresses: ['127.0.0.1', '::1'] }
}
