import { expect } from 'chai'
import { PieceSpread, isBusyItem } from '../../../src/core/swarm/origin-spread.js'

describe('core/swarm/origin-spread', () => {
  it('serves each piece of a busy item once before repeating any, and repeats a piece after repeatAfterMs', () => {
    const s = new PieceSpread(3, { repeatAfterMs: 10_000 })
    expect(s.request(0, 1)).to.equal(true)
    // A second requester asks for the same piece before the round is done: ask peers.
    expect(s.request(100, 1)).to.equal(false)
    expect(s.request(200, 0)).to.equal(true)
    expect(s.request(300, 2)).to.equal(true)
    // Every piece served once: the second round starts.
    expect(s.request(400, 1)).to.equal(true)
    expect(s.request(500, 1)).to.equal(false)
    // Long enough since piece 1 was last served: served again whatever the round.
    expect(s.request(10_400, 1)).to.equal(true)
    expect(s.servedCount(1)).to.equal(3)
    expect(s.request(0, 7)).to.equal(false)
  })

  it('is busy only from the threshold on, and never without one (the long tail is served in full)', () => {
    expect(isBusyItem(3, 4)).to.equal(false)
    expect(isBusyItem(4, 4)).to.equal(true)
    expect(isBusyItem(100, undefined)).to.equal(false)
  })
})
