import t from 'tap'
import { trafficSplit } from '../../../src/router/linkerd.ts'
import { httpRoute } from '../../../src/router/gatewayapi.ts'
import { canary } from '../../helpers/objects.ts'
import { linkerdCanaryShare, trafficSplitCanaryShare } from '../../simulator/linkerd.ts'

const names = { primary: 'podinfo-primary', canary: 'podinfo-canary' }

t.test('the canary\'s share under the TrafficSplit the linkerd router writes, at each weight', async t => {
  const c = canary({ metadata: { uid: 'u' }, spec: { provider: 'linkerd', service: { port: 9898 } } })
  for (const w of [0, 10, 50, 100]) t.equal(trafficSplitCanaryShare(trafficSplit(c, { primary: 100 - w, canary: w }).spec, names), w / 100, `weight ${w}`)
  t.equal(trafficSplitCanaryShare({ backends: [{ service: 'podinfo-canary', weight: 1 }, { service: 'podinfo-primary', weight: 3 }] }, names), 0.25, 'weights are relative')
  t.equal(trafficSplitCanaryShare(undefined, names), 0, 'no TrafficSplit: the primary')
  t.equal(trafficSplitCanaryShare({ backends: [{ service: 'other', weight: 100 }] }, names), 0, 'neither side weighed')
})

t.test('the HTTPRoute of the Gateway API path wins over a TrafficSplit; A/B takes its fraction', async t => {
  const c = canary({ metadata: { uid: 'u' }, spec: {
    provider: 'linkerd', service: { port: 9898, gatewayRefs: [{ group: '', kind: 'Service', name: 'podinfo' }] },
    analysis: { interval: '1m', iterations: 3, match: [{ headers: { 'x-canary': { exact: 'insider' } } }] },
  } })
  const split = { spec: { backends: [{ service: 'podinfo-canary', weight: 0 }, { service: 'podinfo-primary', weight: 100 }] } }
  t.equal(linkerdCanaryShare(httpRoute(c, { primary: 0, canary: 100 }), split, names, 0.2), 0.2, 'the matching fraction goes to the canary')
  t.equal(linkerdCanaryShare(undefined, split, names, 0.2), 0)
})
