// Local development certificates in a directory (`certs/`, git-ignored): a CA and a serving
// certificate for localhost, 127.0.0.1 and ::1. Reused while valid, so repeated runs keep one CA.
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { joinPemBundle, splitPemBundle } from './inspect.ts'
import { advanceCertificates } from './issue.ts'
import { localNames } from './names.ts'
import type { SubjectNames } from './names.ts'
import type { CertificateSet, RotationPolicy } from './rotation.ts'
import { SECRET_KEYS } from './store.ts'

const DAY = 86_400

// One process serves locally, so a CA rotation may complete at once (no overlap).
export const DEV_ROTATION_POLICY: RotationPolicy = {
  caLifetimeSeconds: 365 * DAY,
  caRenewBeforeSeconds: 60 * DAY,
  servingLifetimeSeconds: 90 * DAY,
  servingRenewBeforeSeconds: 30 * DAY,
  overlapSeconds: 0,
}

// The same file names as the keys of the certificate Secret, so a directory can stand in for it.
export const DEV_FILES = SECRET_KEYS

export interface DevCertificateOptions {
  readonly dir: string
  readonly names?: SubjectNames
  readonly policy?: RotationPolicy
  readonly now?: Date
}

export interface DevCertificates {
  readonly set: CertificateSet
  /** Absolute or relative as `dir` was given. */
  readonly paths: { readonly [K in keyof typeof DEV_FILES]: string }
  /** False when the files on disk were still good and were kept. */
  readonly written: boolean
}

async function readOptional(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw err
  }
}

async function load(paths: DevCertificates['paths']): Promise<CertificateSet | undefined> {
  const [caCert, caKey, servingCert, servingKey, bundle] = await Promise.all(
    [paths.caCert, paths.caKey, paths.servingCert, paths.servingKey, paths.bundle].map(readOptional))
  if (!caCert || !caKey || !servingCert || !servingKey || bundle === undefined) return undefined
  return { ca: { certPem: caCert, keyPem: caKey }, serving: { certPem: servingCert, keyPem: servingKey }, trusted: splitPemBundle(bundle) }
}

// Write-then-rename, so a reader never sees half a key.
async function writeAtomically(path: string, content: string, mode: number): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`
  await writeFile(tmp, content, { mode })
  await rename(tmp, path)
}

export async function writeDevelopmentCertificates(opts: DevCertificateOptions): Promise<DevCertificates> {
  const paths = {
    caCert: join(opts.dir, DEV_FILES.caCert),
    caKey: join(opts.dir, DEV_FILES.caKey),
    servingCert: join(opts.dir, DEV_FILES.servingCert),
    servingKey: join(opts.dir, DEV_FILES.servingKey),
    bundle: join(opts.dir, DEV_FILES.bundle),
  }
  const { set, steps } = advanceCertificates(await load(paths), opts.names ?? localNames(), opts.now ?? new Date(), opts.policy ?? DEV_ROTATION_POLICY)
  if (steps.length === 0) return { set, paths, written: false }
  await mkdir(opts.dir, { recursive: true, mode: 0o700 })
  await writeAtomically(paths.caKey, set.ca.keyPem, 0o600)
  await writeAtomically(paths.servingKey, set.serving.keyPem, 0o600)
  await writeAtomically(paths.caCert, set.ca.certPem, 0o644)
  await writeAtomically(paths.servingCert, set.serving.certPem, 0o644)
  await writeAtomically(paths.bundle, joinPemBundle(set.trusted), 0o644)
  return { set, paths, written: true }
}
