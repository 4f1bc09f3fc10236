import { expect } from 'chai'
import { PieceSpread, isBusyItem } from '../../../src/core/swarm/origin-spread.js'

describe('core/swarm/origin-spread', () => {
  it('serves each piece of a busy item once before repeating any, and repeats a piece after repeatAfterMs', () => {
    const s = new PieceSpread(3, { repeatAfterMs: 10_000 })
    expect(s.request(0, 1, 'a')).to.equal(true)
    // A second requester asks for the same piece before the round is done: ask peers.
    expect(s.request(100, 1, 'b')).to.equal(false)
    expect(s.request(200, 0, 'a')).to.equal(true)
    expect(s.request(300, 2, 'a')).to.equal(true)
    // Every piece served once: the second round starts.
    expect(s.request(400, 1, 'c')).to.equal(true)
    expect(s.request(500, 1, 'd')).to.equal(false)
    // Long enough since piece 1 was last served: served again whatever the round.
    expect(s.request(10_400, 1, 'e')).to.equal(true)
    expect(s.servedCount(1)).to.equal(3)
    expect(s.request(0, 7, 'a')).to.equal(false)
  })

  it('serves a piece to a requester that asks again after a decline (none of its peers has it), once', () => {
    const s = new PieceSpread(2, { repeatAfterMs: 10_000 })
    expect(s.request(0, 0, 'a')).to.equal(true)
    expect(s.request(10, 0, 'b')).to.equal(false)
    expect(s.request(1_010, 0, 'b')).to.equal(true)
    // The exception is used up: b asking a third time is declined again.
    expect(s.request(1_020, 0, 'b')).to.equal(false)
    s.forget('b')
    expect(s.request(1_030, 0, 'b')).to.equal(false)
  })

  it('is busy only from the threshold on, and never without one (the long tail is served in full)', () => {
    expect(isBusyItem(3, 4)).to.equal(false)
    expect(isBusyItem(4, 4)).to.equal(true)
    expect(isBusyItem(100, undefined)).to.equal(false)
  })
})

describe('core/swarm/origin-spread: requests that were never read', () => {
  it('unserve gives a dropped piece back, so others are not declined it', () => {
    const s = new PieceSpread(2)
    expect(s.request(0, 0, 'x')).to.equal(true)
    expect(s.request(1, 0, 'y')).to.equal(false)
    s.unserve(0)
    expect(s.servedCount(0)).to.equal(0)
    expect(s.request(2, 0, 'z')).to.equal(true)
  })

  it('check admits without counting, recordServed counts once the piece went out', () => {
    const s = new PieceSpread(2)
    expect(s.check(0, 0, 'x')).to.equal(true)
    expect(s.servedCount(0)).to.equal(0)
    expect(s.request(1, 0, 'y')).to.equal(true)
    s.recordServed(2, 0)
    expect(s.servedCount(0)).to.equal(2)
    expect(s.check(3, 0, 'z')).to.equal(false)
  })
})
