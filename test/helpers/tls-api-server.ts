// An HTTPS server standing in for an API server's transport in unit tests of the Kubernetes client's plumbing
// (src/kube: the request transport, the watch stream), with a kubeconfig that trusts it. Closed at teardown.
// Like kube-apiserver it offers HTTP/2 and HTTP/1.1 in the TLS handshake; the client picks.
import { writeFileSync } from 'node:fs'
import { createSecureServer } from 'node:http2'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { join } from 'node:path'
import type { Test } from 'tap'
import { createCA, createLeaf } from '../../src/certs/pki.ts'

const ca = createCA('sluice-unit-api-ca', 3600)
const leaf = createLeaf(ca, { commonName: '127.0.0.1', ipAddresses: ['127.0.0.1'], usage: 'server', lifetimeSeconds: 3600 })

export interface TlsApiServer {
  readonly port: number
  /** A kubeconfig for this server (or `port`, e.g. one nothing listens on) with a bearer token. */
  kubeconfig(port?: number): string
}

export async function startTlsApiServer(t: Test, handle: (req: IncomingMessage, res: ServerResponse) => void): Promise<TlsApiServer> {
  // An HTTP/1.1 request reaches `handle` as IncomingMessage and ServerResponse; an HTTP/2 one as their compatible
  // Http2ServerRequest and Http2ServerResponse.
  const server = createSecureServer({ cert: leaf.certPem, key: leaf.keyPem, allowHTTP1: true }, handle as never)
  const sockets = new Set<Socket>()
  server.on('secureConnection', (socket: Socket) => {
    sockets.add(socket)
    socket.once('close', () => sockets.delete(socket))
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => {
    for (const socket of sockets) socket.destroy()
    server.close()
  })
  const port = (server.address() as AddressInfo).port
  let n = 0
  let dir: string | undefined
  return {
    port,
    kubeconfig(target = port) {
      dir ??= t.testdir()
      const file = join(dir, `kubeconfig-${++n}`)
      writeFileSync(file, `apiVersion: v1
kind: Config
clusters:
- {name: local, cluster: {server: 'https://127.0.0.1:${target}', certificate-authority-data: ${Buffer.from(ca.certPem).toString('base64')}}}
users:
- {name: sluice, user: {token: not-a-real-token}}
contexts:
- {name: local, context: {cluster: local, user: sluice}}
current-context: local
`)
      return file
    },
  }
}
