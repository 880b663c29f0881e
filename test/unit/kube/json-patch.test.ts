import t from 'tap'
import { add, escapeSegment, replace, setAnnotation, setAnnotations, setAt, test as testOp, valueAt } from '../../../src/kube/json-patch.ts'
import { applyPatch } from '../../helpers/json-patch.ts'
import { sentDeployment } from '../admission/fixtures.ts'

t.test('RFC 6901 escaping: ~ before /', async t => {
  t.equal(escapeSegment('sluice.dev/strategy'), 'sluice.dev~1strategy')
  t.equal(escapeSegment('a~b'), 'a~0b')
  t.equal(escapeSegment('~1'), '~01', 'a literal "~1" does not become a slash')
  t.equal(escapeSegment('/~/'), '~1~0~1')
  t.equal(add(['metadata', 'annotations', 'status.sluice.dev/replicas'], 1).path, '/metadata/annotations/status.sluice.dev~1replicas')
  t.equal(add(['spec', 'template', 'spec', 'containers', 0, 'env'], 1).path, '/spec/template/spec/containers/0/env')
  t.equal(add([''], 1).path, '/', 'the empty key is a valid segment')
})

t.test('prototype segments, negative indexes and the whole document are refused', async t => {
  for (const bad of ['__proto__', 'constructor', 'prototype']) {
    t.throws(() => add(['metadata', bad, 'x'], 1), new RegExp(`path segment "${bad}" is not allowed`))
    t.throws(() => setAnnotation(sentDeployment(), bad, 'x'), /not allowed/)
  }
  t.throws(() => testOp(['spec', -1], 1), /not a non-negative integer/)
  t.throws(() => add([], 1), /whole document/)
})

t.test('whole arrays are never replaced', async t => {
  t.throws(() => replace(['spec', 'template', 'spec', 'containers'], []), /refusing to replace the array at \/spec\/template\/spec\/containers whole/)
  t.throws(() => setAt(sentDeployment(), ['spec', 'template', 'spec', 'containers'], [{ name: 'x' }]), /whole/)
  t.same(replace(['spec', 'replicas'], 0), { op: 'replace', path: '/spec/replicas', value: 0 })
})

t.test('setting an annotation: the key when the map exists, the map when it does not', async t => {
  const withMap = sentDeployment()
  t.same(setAnnotation(withMap, 'status.sluice.dev/replicas', '3'),
    { op: 'add', path: '/metadata/annotations/status.sluice.dev~1replicas', value: '3' })
  const withoutMap = { metadata: { name: 'x' } }
  t.same(setAnnotation(withoutMap, 'status.sluice.dev/replicas', '3'),
    { op: 'add', path: '/metadata/annotations', value: { 'status.sluice.dev/replicas': '3' } })
  t.same(setAnnotation({ metadata: { annotations: null } }, 'a', 'b'), { op: 'add', path: '/metadata/annotations', value: { a: 'b' } })
  t.same(setAnnotation({}, 'a', 'b'), { op: 'add', path: '/metadata', value: { annotations: { a: 'b' } } })
  for (const doc of [withMap, withoutMap]) {
    const out = applyPatch(doc, [setAnnotation(doc, 'status.sluice.dev/replicas', '3')])
    t.equal(valueAt(out, ['metadata', 'annotations', 'status.sluice.dev/replicas']), '3')
  }
})

t.test('keys named like Object.prototype members are not taken as present', async t => {
  const doc = { metadata: { annotations: {} } }
  t.same(setAnnotation(doc, 'toString', 'x'), { op: 'add', path: '/metadata/annotations/toString', value: 'x' })
  t.equal(valueAt(doc, ['metadata', 'annotations', 'hasOwnProperty']), undefined)
})

t.test('several annotations: one op per changed key, or one map', async t => {
  const doc = sentDeployment()
  const ops = setAnnotations(doc, { 'sluice.dev/strategy': 'canary', 'status.sluice.dev/replicas': '3', 'status.sluice.dev/revision': 'abc' })
  t.same(ops, [
    { op: 'add', path: '/metadata/annotations/status.sluice.dev~1replicas', value: '3' },
    { op: 'add', path: '/metadata/annotations/status.sluice.dev~1revision', value: 'abc' },
  ], 'unchanged keys are left out')
  t.same(setAnnotations({ metadata: {} }, { a: '1', 'b/c': '2' }), [{ op: 'add', path: '/metadata/annotations', value: { a: '1', 'b/c': '2' } }])
  t.same(setAnnotations({ metadata: {} }, {}), [])
  t.throws(() => setAnnotations({ metadata: {} }, JSON.parse('{"__proto__":"x"}') as Record<string, string>), /not allowed/)
})

t.test('nested paths', async t => {
  const doc = sentDeployment()
  t.same(setAt(doc, ['metadata', 'labels', 'app.kubernetes.io/managed-by'], 'sluice'), { op: 'add', path: '/metadata/labels/app.kubernetes.io~1managed-by', value: 'sluice' })
  t.same(setAt(doc, ['spec', 'template', 'spec', 'containers', 0, 'resources', 'limits', 'cpu'], '1'),
    { op: 'add', path: '/spec/template/spec/containers/0/resources', value: { limits: { cpu: '1' } } })
  t.throws(() => setAt(doc, ['spec', 'template', 'spec', 'containers', 5, 'image'], 'x'), /no array element \/spec\/template\/spec\/containers\/5/)
  t.throws(() => setAt(doc, ['spec', 'template', 'spec', 'containers', 'name'], 'x'), /is an array, not a map/)
  t.throws(() => setAt(doc, ['spec', 'template', 'spec', 'containers', 0], {}), /object member path/)
  const out = applyPatch(doc, [setAt(doc, ['spec', 'replicas'], 0), add(['spec', 'template', 'metadata', 'labels', 'a~b/c'], 'd')])
  t.equal(valueAt(out, ['spec', 'replicas']), 0)
  t.equal(valueAt(out, ['spec', 'template', 'metadata', 'labels', 'a~b/c']), 'd')
})
