import t from 'tap'
import fc from 'fast-check'
import { isDeepStrictEqual } from 'node:util'
import { cloneJson, jsonEqual } from '../../../src/util/json.ts'

// JSON as JSON.parse gives it (no -0: the API server never sends one), keys drawn so that objects often share some.
const key = fc.oneof(fc.constantFrom('a', 'b', 'c', '0', '1', '__proto__', 'constructor'), fc.string())
const { json } = fc.letrec(tie => ({
  json: fc.oneof({ depthSize: 'small' }, tie('leaf'), tie('array'), tie('object')),
  leaf: fc.oneof(fc.constantFrom(null, true, false, '', 0, 1), fc.string(), fc.integer({ min: 1 }), fc.double({ noNaN: true, noDefaultInfinity: true, min: 1e-9 })),
  array: fc.array(tie('json'), { maxLength: 4 }),
  object: fc.dictionary(key, tie('json'), { maxKeys: 5 }),
}))
const parsed = json.map(v => JSON.parse(JSON.stringify(v)) as unknown)

function sharesAnObject(a: unknown, b: unknown): boolean {
  if (typeof a !== 'object' || a === null) return false
  if (a === b) return true
  return Object.keys(a).some(k => sharesAnObject((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]))
}

t.test('cloneJson: an equal copy that shares no object with the original, __proto__ keys kept as keys', async t => {
  t.doesNotThrow(() => fc.assert(fc.property(parsed, v => {
    const copy = cloneJson(v)
    return isDeepStrictEqual(copy, v) && !sharesAnObject(copy, v)
  }), { numRuns: 3000 }))
  const copy = cloneJson(JSON.parse('{"__proto__":{"polluted":true}}') as Record<string, unknown>)
  t.equal(Object.getPrototypeOf(copy), Object.prototype, 'the copy\'s prototype is untouched')
  t.same(Object.keys(copy), ['__proto__'])
  t.equal(({} as Record<string, unknown>).polluted, undefined)
})

t.test('cloneJson copies a Date (a client-node object) as a Date', async t => {
  const d = new Date(0)
  const copy = cloneJson({ at: d })
  t.ok(copy.at instanceof Date && copy.at !== d && copy.at.getTime() === 0)
})

t.test('jsonEqual answers as isDeepStrictEqual on JSON, key order aside', async t => {
  t.doesNotThrow(() => fc.assert(fc.property(parsed, parsed, (a, b) => jsonEqual(a, b) === isDeepStrictEqual(a, b)), { numRuns: 3000 }))
  // Equal values built apart: the property above rarely draws two equal ones.
  t.doesNotThrow(() => fc.assert(fc.property(parsed, v => jsonEqual(v, cloneJson(v)) && jsonEqual(cloneJson(v), v)), { numRuns: 1000 }))
  t.ok(jsonEqual({ a: 1, b: [1, { c: 2 }] }, { b: [1, { c: 2 }], a: 1 }), 'key order aside')
  t.notOk(jsonEqual({ a: 1 }, { a: 1, b: undefined }), 'a key more')
  t.notOk(jsonEqual({ a: undefined }, { b: undefined }), 'other keys')
  t.notOk(jsonEqual([1, 2], { 0: 1, 1: 2 }), 'a list is not an object')
  t.notOk(jsonEqual({ 0: 1, 1: 2 }, [1, 2]), 'an object is not a list')
  t.notOk(jsonEqual([], [undefined]), 'lengths')
  t.notOk(jsonEqual(null, {}), 'null is no object')
  t.notOk(jsonEqual('1', 1), 'types')
})
