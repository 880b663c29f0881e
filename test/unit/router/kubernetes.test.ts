import t from 'tap'
import { sideForWeights, weightsForSide } from '../../../src/router/kubernetes.ts'
import { canary } from '../../helpers/objects.ts'

t.test('blue-green weights map to one side and back', async t => {
  t.equal(sideForWeights(canary(), { primary: 100, canary: 0 }), 'primary')
  t.equal(sideForWeights(canary(), { primary: 0, canary: 100 }), 'canary')
  t.same(weightsForSide('primary'), { primary: 100, canary: 0 })
  t.same(weightsForSide('canary'), { primary: 0, canary: 100 })
})

t.test('a split is refused with a message naming the Canary and what to use instead', async t => {
  t.throws(() => sideForWeights(canary(), { primary: 80, canary: 20 }), /Canary shop\/podinfo: .*80\/20.*nginx or gatewayapi/)
})
