import t from 'tap'
import { checkSchema } from '../../../src/api/schema-check.ts'
import type { JSONSchema } from '../../../src/api/schema.ts'

const schema: JSONSchema = {
  type: 'object',
  required: ['port'],
  properties: {
    port: { type: 'integer', minimum: 1, maximum: 65535 },
    targetPort: { 'x-kubernetes-int-or-string': true },
    value: { type: 'number', nullable: true },
    labels: { type: 'object', additionalProperties: { type: 'string' } },
    extra: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
    steps: { type: 'array', items: { type: 'integer', minimum: 1 }, minItems: 1 },
    name: { type: 'string', minLength: 1 },
  },
}

t.test('a valid value has no problems', async t => {
  t.same(checkSchema({ port: 80, targetPort: 'http', value: null, labels: { a: 'b' }, extra: { any: [1] }, steps: [1] }, schema), [])
  t.same(checkSchema({ port: 80, targetPort: 8080 }, schema), [])
})

t.test('each keyword has its own message and path', async t => {
  t.same(checkSchema({ labels: { a: 1 }, targetPort: 1.5, steps: [], name: '' }, schema), [
    { field: 'port', message: 'is required' },
    { field: 'labels.a', message: 'must be a string (got 1)' },
    { field: 'targetPort', message: 'must be a number or a name (got 1.5)' },
    { field: 'steps', message: 'must have at least 1 entry' },
    { field: 'name', message: 'must not be empty' },
  ])
  t.same(checkSchema({ port: 1, steps: [2, 0] }, schema), [{ field: 'steps[1]', message: 'must be at least 1 (got 0)' }])
  t.same(checkSchema({ port: 1, Port: 2 }, schema), [{ field: 'Port', message: 'is not a known field; did you mean port?' }])
  t.match(checkSchema({ port: 1, zzz: 2 }, schema), [{ field: 'zzz', message: /^is not a known field; known fields: port, targetPort, / }])
})

t.test('required hints are added by path', async t => {
  t.same(checkSchema({}, schema, { requiredHints: { port: 'e.g. 80' } }), [{ field: 'port', message: 'is required (e.g. 80)' }])
})
