import t from 'tap'
import { decodeSecretData } from '../../../src/kube/secrets.ts'

t.test('a Secret\'s data is base64-decoded, key by key; no data is no keys', async t => {
  t.same(decodeSecretData({ token: Buffer.from('t0k').toString('base64'), url: Buffer.from('https://x/y?z=1').toString('base64') }), { token: 't0k', url: 'https://x/y?z=1' })
  t.same(decodeSecretData(undefined), {})
})
