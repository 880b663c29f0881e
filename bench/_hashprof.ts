import { updateReview } from './fixture.ts'
import { canonicalJson, normalizeTemplate, templateRevision } from '../src/kube/revision.ts'
import { createHash } from 'node:crypto'
const r = updateReview().review as any
const tpl = r.request.object.spec.template
const N = 3000
function time(name: string, f: () => unknown) {
  for (let i = 0; i < 500; i++) f()
  const t0 = process.cpuUsage(); for (let i = 0; i < N; i++) f(); const d = process.cpuUsage(t0)
  console.log(name, ((d.user + d.system) / N).toFixed(1), 'µs')
}
const norm = normalizeTemplate(tpl)
const text = canonicalJson(norm)
console.log('canonical bytes', text.length, 'raw', JSON.stringify(tpl).length)
time('normalize', () => normalizeTemplate(tpl))
time('canonicalJson', () => canonicalJson(norm))
time('sha256', () => createHash('sha256').update(text).digest('hex'))
time('JSON.stringify', () => JSON.stringify(tpl))
time('templateRevision', () => templateRevision(tpl))
