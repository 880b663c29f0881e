// Upstream YAML (CRDs) read from the Go module cache (`go mod download`), at test time, so that no copy of
// it lives in this repository.
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'

const run = promisify(execFile)

/** The directory of `module@version` in the module cache, downloaded through the Go proxy when missing. */
export async function goModuleDir(module: string, version: string): Promise<string> {
  // Outside any module, so the download depends on nothing in the working directory.
  const { stdout } = await run('go', ['mod', 'download', '-json', `${module}@${version}`], { cwd: '/', maxBuffer: 16 << 20 })
    .catch((e: unknown) => ({ stdout: (e as { stdout?: string }).stdout ?? JSON.stringify({ Error: (e as Error).message }) }))
  const info = JSON.parse(stdout) as { Dir?: string; Error?: string }
  if (info.Error || !info.Dir) throw new Error(`go mod download ${module}@${version}: ${info.Error ?? 'no Dir in the answer'}`)
  return info.Dir
}
