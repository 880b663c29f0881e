// sluice as one file, as the image runs it: bin/sluice.ts and everything it imports (sluice's sources and the
// production dependencies) bundled by esbuild into OUT/bin/sluice.mjs, with the few files sluice reads at
// run time copied to OUT at the paths its sources name. Loading one ESM file instead of ~1,300 modules
// (client-node alone is 1,033 files, 25 MB of JavaScript that V8 keeps as source) and no type stripping at
// start: about 40 MB less resident memory (`make bench-controller` shows it).
//   node image/bundle.ts OUT
import { build, type Plugin } from 'esbuild'
import { cpSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs'
import { join, relative, resolve } from 'node:path'

const ROOT = resolve(import.meta.dirname, '..')
const out = process.argv[2]
if (!out) {
  process.stderr.write('usage: node image/bundle.ts OUT\n')
  process.exit(2)
}
const OUT = resolve(out)

/** What sluice reads at run time through `new URL(…, import.meta.url)`, kept at the same paths under OUT. */
const RUNTIME_FILES = ['package.json', 'src/cli/dashboard/client']

// In one bundle every module's import.meta.url would be the bundle's own. Each of sluice's sources gets its
// own back, as a URL under OUT (the bundle is OUT/bin/sluice.mjs), so its relative reads find RUNTIME_FILES.
const ownUrls: Plugin = {
  name: 'sluice-own-import-meta-url',
  setup(b) {
    b.onLoad({ filter: /\.ts$/ }, args => {
      const path = relative(ROOT, args.path)
      const text = readFileSync(args.path, 'utf8')
      if (path.startsWith('..') || !text.includes('import.meta.url')) return undefined
      return { contents: text.replaceAll('import.meta.url', `new URL(${JSON.stringify(path)}, __sluiceRoot).href`), loader: 'ts' }
    })
  },
}

/** The license files of every package the bundle took code from, in OUT/licenses/<package>/. */
function copyLicenses(inputs: readonly string[]): void {
  const packages = new Set<string>()
  for (const input of inputs) {
    const m = /^(.*node_modules\/(?:@[^/]+\/)?[^/]+)\//.exec(input)
    if (m?.[1]) packages.add(m[1])
  }
  for (const dir of packages) {
    const name = dir.slice(dir.lastIndexOf('node_modules/') + 'node_modules/'.length)
    for (const file of readdirSync(join(ROOT, dir)).filter(f => /^(licen[cs]e|copying|notice)/i.test(f))) {
      mkdirSync(join(OUT, 'licenses', name), { recursive: true })
      cpSync(join(ROOT, dir, file), join(OUT, 'licenses', name, file))
    }
  }
}

const started = performance.now()
rmSync(OUT, { recursive: true, force: true })
mkdirSync(join(OUT, 'bin'), { recursive: true })
const result = await build({
  entryPoints: [join(ROOT, 'bin/sluice.ts')],
  outfile: join(OUT, 'bin/sluice.mjs'),
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node24',
  // Whitespace and syntax only: function names stay, so a stack trace in a bug report still reads.
  minifyWhitespace: true,
  minifySyntax: true,
  legalComments: 'linked',
  // Dependencies written as CommonJS call require() for Node's built-in modules.
  banner: { js: "import { createRequire as __sluiceRequire } from 'node:module'; const require = __sluiceRequire(import.meta.url); const __sluiceRoot = new URL('../', import.meta.url);" },
  plugins: [ownUrls],
  logLevel: 'warning',
  metafile: true,
})
if (result.errors.length > 0) process.exit(1)
for (const f of RUNTIME_FILES) cpSync(join(ROOT, f), join(OUT, f), { recursive: true })
copyLicenses(Object.keys(result.metafile.inputs))
const mb = (statSync(join(OUT, 'bin/sluice.mjs')).size / 1e6).toFixed(1)
process.stderr.write(`bundle: ${relative(process.cwd(), join(OUT, 'bin/sluice.mjs')) || OUT} (${mb} MB) in ${((performance.now() - started) / 1000).toFixed(1)} s\n`)
