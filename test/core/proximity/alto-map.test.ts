import { expect } from 'chai'
import { readFileSync } from 'node:fs'
import { AltoCosts, AltoMapError } from '../../../src/core/proximity/alto-map.js'
import { parseIpAddress } from '../../../src/core/proximity/ip-address.js'
import { rankPeers, type RankCandidate } from '../../../src/core/proximity/peer-ranking.js'

const networkMap = JSON.parse(readFileSync('test/fixtures/loopback-alto-networkmap.json', 'utf8')) as Record<string, any>
const costMap = JSON.parse(readFileSync('test/fixtures/loopback-alto-costmap.json', 'utf8')) as Record<string, any>
const ip = parseIpAddress

describe('core/proximity: ALTO maps (RFC 7285) as a ranking input', () => {
  const alto = AltoCosts.fromJson(networkMap, costMap)

  it('places addresses by longest matching prefix and reads PID-pair costs', () => {
    expect(alto.pidOf(ip('127.1.2.3'))).to.equal('pid-a')
    expect(alto.pidOf(ip('127.4.9.5'))).to.equal('pid-d9')
    expect(alto.pidOf(ip('127.4.9.200'))).to.equal('pid-d')
    expect(alto.pidOf(ip('fd00:4::1'))).to.equal('pid-d')
    expect(alto.pidOf(ip('127.9.0.1'))).to.equal(undefined)
    expect(alto.cost(ip('127.1.0.1'), ip('127.3.0.1'))).to.equal(2)
    expect(alto.cost(ip('127.1.0.1'), ip('127.2.0.1'))).to.equal(10)
    expect(alto.cost(ip('127.3.0.1'), ip('127.2.0.1'))).to.equal(undefined)
    expect(alto.cost(ip('127.9.0.1'), ip('127.2.0.1'))).to.equal(undefined)
  })

  it('ranks lower cost first only among peers of equal AS/prefix nearness, unknown cost last', () => {
    const self = { address: ip('127.1.0.1'), asn: 64601, tieKey: 1 }
    const at = (a: string, asn: number, tieKey: number): RankCandidate & { name: string } => ({ name: a, address: ip(a), asn, tieKey, cost: alto.cost(self.address, ip(a)) })
    // 127.2 and 127.3 share 14 bits with 127.1: equal nearness, so the cost decides (c: 2 before b: 10); 127.5 has no cost.
    const ranked = rankPeers(self, [at('127.5.0.1', 64605, 7), at('127.2.0.1', 64602, 8), at('127.3.0.1', 64603, 9), at('127.1.0.2', 64601, 10)])
    expect(ranked.map(c => c.name)).to.deep.equal(['127.1.0.2', '127.3.0.1', '127.2.0.1', '127.5.0.1'])
    // Nearness still wins over cost: a same-AS peer with a high cost stays first.
    const same = { ...at('127.1.0.9', 64601, 11), cost: 1000 }
    expect(rankPeers(self, [at('127.3.0.1', 64603, 9), same])[0]).to.equal(same)
    // Proximity off drops the cost rule with the others.
    const off = rankPeers(self, [at('127.2.0.1', 64602, 8), at('127.3.0.1', 64603, 9)], { proximity: false, rtt: false }).map(c => c.name)
    const offSwapped = rankPeers(self, [at('127.3.0.1', 64603, 9), at('127.2.0.1', 64602, 8)], { proximity: false, rtt: false }).map(c => c.name)
    expect(off).to.deep.equal(offSwapped)
  })

  it('refuses a cost map computed for another network map, non-numerical costs and unknown PIDs', () => {
    const other = structuredClone(costMap)
    other.meta['dependent-vtags'][0].tag = 'stale'
    expect(() => AltoCosts.fromJson(networkMap, other)).to.throw(AltoMapError, /computed for network map/)
    const ordinal = structuredClone(costMap)
    ordinal.meta['cost-type']['cost-mode'] = 'ordinal'
    expect(() => AltoCosts.fromJson(networkMap, ordinal)).to.throw(AltoMapError, /not supported/)
    const unknown = structuredClone(costMap)
    unknown['cost-map']['pid-z'] = { 'pid-a': 1 }
    expect(() => AltoCosts.fromJson(networkMap, unknown)).to.throw(AltoMapError, /pid-z/)
    const badPrefix = structuredClone(networkMap)
    badPrefix['network-map']['pid-a'].ipv4 = ['127.1.0.0/40']
    expect(() => AltoCosts.fromJson(badPrefix, costMap)).to.throw(AltoMapError, /not a prefix/)
    const negative = structuredClone(costMap)
    negative['cost-map']['pid-a']['pid-b'] = -1
    expect(() => AltoCosts.fromJson(networkMap, negative)).to.throw(AltoMapError)
  })
})
