import { expect } from 'chai'
import { admitPeers, MAX_SOURCE_CONNECT_TRIES, SourceChooser } from '../../../src/core/swarm/source-admission.js'

describe('core/swarm/source-admission', () => {
  it('keeps places for near peers that are found later once far peers fill maxFarPeers, and caps nobody without a known AS', () => {
    const far = ['f1', 'f2', 'f3', 'f4', 'f5', 'f6'].map(item => ({ item, near: false }))
    // An early downloader's first answer: only far peers started yet.
    expect(admitPeers(far, { near: 0, far: 0 }, { maxPeers: 8, maxFarPeers: 4, knowsOwnAs: true })).to.deep.equal(['f1', 'f2', 'f3', 'f4'])
    // The next answer brings its AS's members: they still get in, further far peers do not.
    const later = [{ item: 'n1', near: true }, { item: 'n2', near: true }, { item: 'f7', near: false }]
    expect(admitPeers(later, { near: 0, far: 4 }, { maxPeers: 8, maxFarPeers: 4, knowsOwnAs: true })).to.deep.equal(['n1', 'n2'])
    // maxPeers still bounds everything.
    const many = ['a', 'b', 'c', 'd', 'e'].map(item => ({ item, near: true }))
    expect(admitPeers(many, { near: 2, far: 4 }, { maxPeers: 8, maxFarPeers: 4, knowsOwnAs: true })).to.deep.equal(['a', 'b'])
    // No prefix table or proximity off: all far, no cap beyond maxPeers.
    expect(admitPeers(far, { near: 0, far: 0 }, { maxPeers: 8, maxFarPeers: 4, knowsOwnAs: false })).to.have.length(6)
  })

  it('a closed source frees its place and, when no find is scheduled or running, asks for one after the base interval', () => {
    const c = new SourceChooser({ self: 'me', maxPeers: 1, refindIntervalMs: 5000 })
    expect(c.choose([{ peerId: 'p1', origin: false, near: false }]).map(s => s.peerId)).to.deep.equal(['p1'])
    expect(c.sourceClosed('p1', false), 'the first find has not answered yet: it is pending').to.equal(undefined)
    expect(c.choose([{ peerId: 'p1', origin: false, near: false }])).to.deep.equal([])
    expect(c.choose([{ peerId: 'p2', origin: false, near: false }]).map(s => s.peerId)).to.deep.equal(['p2'])
    expect(c.refindAfter(1), 'full: no find').to.equal(undefined)
    expect(c.sourceClosed('p2', false), 'nothing pending: a find after the base interval').to.equal(5000)
    expect(c.peers).to.equal(0)
    expect(c.choose([{ peerId: 'p3', origin: false, near: false }]).map(s => s.peerId)).to.deep.equal(['p3'])
    expect(c.sourceClosed('p3', false), 'that find is scheduled: no second one').to.equal(undefined)
    expect(c.refindAfter(0), 'its answer added nobody: the interval doubles').to.equal(10_000)
  })

  it('counts only peers as what a find answer added: an answer that added only origins doubles the interval', () => {
    const c = new SourceChooser({ self: 'me', maxPeers: 4, refindIntervalMs: 1000 })
    expect(c.answered([{ isOrigin: true }, { isOrigin: false }])).to.equal(1000)
    expect(c.answered([{ isOrigin: true }])).to.equal(2000)
    expect(c.answered([])).to.equal(4000)
    expect(c.answered([{}])).to.equal(1000)
  })

  it('a peer that could not be opened frees its place and may be chosen again, up to MAX_SOURCE_CONNECT_TRIES opens', () => {
    const c = new SourceChooser({ self: 'me', maxPeers: 2 })
    const answer = [{ peerId: 'p1', origin: false, near: false }, { peerId: 'p2', origin: false, near: false }]
    expect(c.choose(answer).map(s => s.peerId)).to.deep.equal(['p1', 'p2'])
    expect(c.refindAfter(0), 'full: no find').to.equal(undefined)
    expect(c.connectFailed('p1', false), 'a find after the base interval').to.equal(5000)
    expect(c.peers).to.equal(1)
    for (let tries = 2; tries <= MAX_SOURCE_CONNECT_TRIES; tries++) {
      expect(c.choose(answer).map(s => s.peerId), `try ${tries}`).to.deep.equal(['p1'])
      expect(c.connectFailed('p1', false), 'a find is scheduled already').to.equal(undefined)
    }
    // Given up: the next answer does not name it again, and its place stays free for another peer.
    expect(c.choose(answer)).to.deep.equal([])
    expect(c.choose([{ peerId: 'p3', origin: false, near: false }]).map(s => s.peerId)).to.deep.equal(['p3'])
    expect(c.connectFailed('nobody', false), 'not a chosen peer').to.equal(undefined)
  })
})
