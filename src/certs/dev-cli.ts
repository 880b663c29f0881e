// `make certs`: local development certificates in certs/ (or the directory given), reused while valid.
import { writeDevelopmentCertificates } from './dev.ts'

if (import.meta.main) {
  const dir = process.argv[2] ?? 'certs'
  const { paths, written } = await writeDevelopmentCertificates({ dir })
  console.log(written ? `wrote development certificates to ${dir}/` : `development certificates in ${dir}/ are still valid; kept`)
  for (const [what, path] of Object.entries(paths)) console.log(`  ${what.padEnd(12)}${path}`)
}
