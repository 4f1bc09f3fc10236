import { expect } from 'chai'
import { parseIpAddress as ip } from '../../../src/core/proximity/ip-address.js'
import { rankPeers, comparePeers, peerTieKey, pairPriority, type RankCandidate, type PeerPlace } from '../../../src/core/proximity/peer-ranking.js'

interface Peer extends RankCandidate { name: string }

function id (n: number): Uint8Array {
  const b = new Uint8Array(32)
  new DataView(b.buffer).setUint32(28, n)
  return b
}
function peer (name: string, n: number, address: string | undefined, asn: number, rttMs?: number): Peer {
  return { name, address: address === undefined ? undefined : ip(address), asn, tieKey: peerTieKey(id(n)), rttMs }
}
const names = (ps: Peer[]): string[] => ps.map((p) => p.name)

describe('core/proximity/peer-ranking', () => {
  const self: PeerPlace = { address: ip('10.1.2.3'), asn: 100, tieKey: peerTieKey(id(0)) }

  it('puts peers in the same AS before closer prefixes in other ASes', () => {
    const ranked = rankPeers(self, [peer('otherAsSame24', 1, '10.1.2.9', 200), peer('sameAsFar', 2, '99.0.0.1', 100)])
    expect(names(ranked)).to.deep.equal(['sameAsFar', 'otherAsSame24'])
  })

  it('prefers the longer shared prefix within the same AS', () => {
    const ranked = rankPeers(self, [peer('slash8', 1, '10.9.9.9', 100), peer('slash24', 2, '10.1.2.200', 100), peer('slash16', 3, '10.1.200.1', 100), peer('noAddr', 4, undefined, 100)])
    expect(names(ranked)).to.deep.equal(['slash24', 'slash16', 'slash8', 'noAddr'])
  })

  it('orders equally near peers by RTT with unknown RTT last', () => {
    const ranked = rankPeers(self, [peer('unknown', 1, '10.1.2.9', 100), peer('slow', 2, '10.1.2.9', 100, 80), peer('fast', 3, '10.1.2.9', 100, 5)])
    expect(names(ranked)).to.deep.equal(['fast', 'slow', 'unknown'])
  })

  it('never counts unknown AS 0 as a shared AS', () => {
    const lost: PeerPlace = { address: undefined, asn: 0, tieKey: 7 }
    const ranked = rankPeers(lost, [peer('unknownAs', 1, undefined, 0, 50), peer('someAs', 2, undefined, 5, 10)])
    expect(names(ranked)).to.deep.equal(['someAs', 'unknownAs'])
  })

  it('breaks full ties by a symmetric pair priority, the same on every call', () => {
    expect(pairPriority(123, 456)).to.equal(pairPriority(456, 123))
    const set = (): Peer[] => Array.from({ length: 20 }, (_, i) => peer(`p${i}`, i + 1, '10.1.2.9', 100, 10))
    const first = names(rankPeers(self, set()))
    expect(names(rankPeers(self, set().reverse()))).to.deep.equal(first)
    const expected = set().sort((a, b) => pairPriority(self.tieKey, a.tieKey) - pairPriority(self.tieKey, b.tieKey))
    expect(first).to.deep.equal(names(expected))
  })

  it('spreads load: different choosers put different peers first among equals', () => {
    const firstPicks = new Map<string, number>()
    for (let chooser = 1000; chooser < 1400; chooser++) {
      const me: PeerPlace = { address: ip('10.1.2.3'), asn: 100, tieKey: peerTieKey(id(chooser)) }
      const top = rankPeers(me, Array.from({ length: 10 }, (_, i) => peer(`p${i}`, i + 1, '10.1.2.9', 100)))[0].name
      firstPicks.set(top, (firstPicks.get(top) ?? 0) + 1)
    }
    // 400 choosers over 10 equal peers: every peer is someone's first pick, none is picked by more than a quarter.
    expect(firstPicks.size).to.equal(10)
    for (const count of firstPicks.values()) expect(count).to.be.within(15, 100)
  })

  it('with proximity off ranks by RTT then tie-break only', () => {
    const ps = [peer('sameAs', 1, '10.1.2.9', 100, 50), peer('farFast', 2, '99.9.9.9', 900, 5)]
    expect(names(rankPeers(self, ps.slice()))).to.deep.equal(['sameAs', 'farFast'])
    expect(names(rankPeers(self, ps.slice(), { proximity: false }))).to.deep.equal(['farFast', 'sameAs'])
    const tieOnly = rankPeers(self, ps.slice(), { proximity: false, rtt: false })
    const byPriority = ps.slice().sort((a, b) => pairPriority(self.tieKey, a.tieKey) - pairPriority(self.tieKey, b.tieKey))
    expect(names(tieOnly)).to.deep.equal(names(byPriority))
  })

  it('comparePeers agrees with rankPeers', () => {
    const ps = Array.from({ length: 60 }, (_, i) => peer(`p${i}`, i + 1, `10.${i % 3}.${i % 7}.1`, 100 + (i % 2) * 100, i % 5 === 0 ? undefined : (i * 7) % 13))
    const viaRank = names(rankPeers(self, ps.slice()))
    const viaCompare = names(ps.slice().sort((a, b) => comparePeers(self, a, b)))
    expect(viaRank).to.deep.equal(viaCompare)
  })

  it('handles more candidates than its scratch space and returns the same array', () => {
    const ps = Array.from({ length: 300 }, (_, i) => peer(`p${i}`, i + 1, '10.1.2.9', 100, 300 - i))
    const out = rankPeers(self, ps)
    expect(out).to.equal(ps)
    expect(out[0].name).to.equal('p299')
    expect(new Set(names(out)).size).to.equal(300)
  })
})
