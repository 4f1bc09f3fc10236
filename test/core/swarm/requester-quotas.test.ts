import { expect } from 'chai'
import { RequesterQuotas } from '../../../src/core/swarm/requester-quotas.js'

describe('core/swarm/requester-quotas: streams and queued requests per peer and network', () => {
  it('refuses a peer\'s stream over maxStreamsPerPeer and takes it again once one closes', () => {
    const q = new RequesterQuotas({ maxStreamsPerPeer: 2 })
    expect(q.openStream('a', 'n1')).to.equal(true)
    expect(q.openStream('a', 'n1')).to.equal(true)
    expect(q.openStream('a', 'n1')).to.equal(false)
    expect(q.openStream('b', 'n1')).to.equal(true)
    q.closeStream('a', 'n1')
    expect(q.openStream('a', 'n1')).to.equal(true)
  })

  it('caps a network across its peers (fresh identities do not help)', () => {
    const q = new RequesterQuotas({ maxStreamsPerNetwork: 3 })
    for (const p of ['a', 'b', 'c']) expect(q.openStream(p, 'n1')).to.equal(true)
    expect(q.openStream('d', 'n1')).to.equal(false)
    expect(q.openStream('d', 'n2')).to.equal(true)
  })

  it('caps queued requests per peer and per network, and forgets keys with nothing held', () => {
    const q = new RequesterQuotas({ maxQueuedRequestsPerPeer: 2, maxQueuedRequestsPerNetwork: 3 })
    expect(q.queueRequest('a', 'n1')).to.equal(true)
    expect(q.queueRequest('a', 'n1')).to.equal(true)
    expect(q.queueRequest('a', 'n1')).to.equal(false)
    expect(q.queueRequest('b', 'n1')).to.equal(true)
    expect(q.queueRequest('c', 'n1')).to.equal(false)
    q.unqueueRequests('a', 'n1', 2)
    q.unqueueRequests('b', 'n1', 1)
    expect(q.size).to.equal(0)
  })

  it('rejects nonsense limits', () => {
    expect(() => new RequesterQuotas({ maxStreamsPerPeer: 0 })).to.throw(RangeError)
  })
})
