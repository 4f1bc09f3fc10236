import { expect } from 'chai'
import { ReachabilityOptionError, ReachabilityTracker, verifierNetwork } from '../../../src/core/reach/reachability.js'
import { OverlayPeer, type PolicyMeasurements } from '../../../src/core/peer/overlay-peer.js'
import { keyFromBytes, type Key } from '../../../src/core/ids.js'
import type { Contact } from '../../../src/core/dht/contact.js'
import type { PeerPlace } from '../../../src/core/proximity/peer-ranking.js'

const ADDR = '/ip4/198.18.101.1/tcp/4001'
const yes = (verifier: string, verifierIp: string, addr = ADDR): { verifier: string, verifierIp: string, addr: string, dialable: boolean } => ({ verifier, verifierIp, addr, dialable: true })
const no = (verifier: string, verifierIp: string, addr = ADDR): { verifier: string, verifierIp: string, addr: string, dialable: boolean } => ({ verifier, verifierIp, addr, dialable: false })

describe('ReachabilityTracker', () => {
  it('is unknown until two verifier networks agree, then public on the confirmed address', () => {
    const t = new ReachabilityTracker()
    expect(t.status(0).reachability).to.equal('unknown')
    t.report(0, yes('A', '198.18.1.10'))
    expect(t.status(1).reachability).to.equal('unknown')
    expect(t.undecided(1, ADDR)).to.equal(true)
    t.report(2, yes('B', '198.18.2.10'))
    expect(t.status(3)).to.deep.equal({ reachability: 'public', confirmedAddrs: [ADDR], refutedAddrs: [], verifierNetworks: 2 })
    expect(t.reachable(3)).to.equal(true)
    expect(t.undecided(3, ADDR)).to.equal(false)
  })

  it('is not fooled by one host: many peer ids in one /24 count once', () => {
    const t = new ReachabilityTracker()
    for (let i = 0; i < 50; i++) t.report(i, yes(`liar-${i}`, `203.0.113.${i}`))
    expect(t.status(100).reachability).to.equal('unknown')
    expect(t.status(100).verifierNetworks).to.equal(1)
    expect(verifierNetwork('203.0.113.1')).to.equal(verifierNetwork('203.0.113.200'))
    expect(verifierNetwork('2001:db8:1:2::1')).to.equal(verifierNetwork('2001:db8:1:ffff::9'))
    expect(verifierNetwork('2001:db8:1::1')).to.not.equal(verifierNetwork('2001:db8:2::1'))
  })

  it('is private when two networks failed to dial back and none succeeded', () => {
    const t = new ReachabilityTracker()
    t.report(0, no('A', '198.18.1.10'))
    t.report(0, no('B', '198.18.2.10'))
    expect(t.status(1)).to.deep.equal({ reachability: 'private', confirmedAddrs: [], refutedAddrs: [ADDR], verifierNetworks: 2 })
    // One network saying yes against two saying no decides nothing.
    t.report(2, yes('C', '198.18.3.10'))
    expect(t.status(3).reachability).to.equal('unknown')
  })

  it('forgets an address\'s verdicts when its path changed (a new port forward), so new ones decide at once', () => {
    const t = new ReachabilityTracker()
    t.report(0, no('A', '198.18.1.10'))
    t.report(0, no('B', '198.18.2.10'))
    expect(t.status(1).reachability).to.equal('private')
    expect(t.undecided(1, ADDR)).to.equal(false)
    t.forget(ADDR)
    expect(t.undecided(2, ADDR)).to.equal(true)
    t.report(3, yes('A', '198.18.1.10'))
    t.report(3, yes('B', '198.18.2.10'))
    expect(t.status(4)).to.deep.equal({ reachability: 'public', confirmedAddrs: [ADDR], refutedAddrs: [], verifierNetworks: 2 })
  })

  it('lets a network change its verdict, and forgets verdicts after the TTL', () => {
    const t = new ReachabilityTracker({ verdictTtlMs: 1000 })
    t.report(0, yes('A', '198.18.1.10'))
    t.report(0, yes('B', '198.18.2.10'))
    t.report(10, no('B2', '198.18.2.99'))
    expect(t.status(20).reachability).to.equal('unknown')
    expect(t.status(2000).reachability).to.equal('unknown')
    expect(t.status(2000).verifierNetworks).to.equal(0)
  })

  it('bounds addresses and verdicts whatever is reported', () => {
    const t = new ReachabilityTracker({ maxAddresses: 3, maxVerdictsPerAddress: 4 })
    for (let i = 0; i < 1000; i++) t.report(i, yes(`p${i}`, `10.${i % 250}.${i % 7}.1`, `/ip4/198.18.0.${i % 20}/tcp/1`))
    const s = t.status(1000)
    expect(s.confirmedAddrs.length + s.refutedAddrs.length).to.be.at.most(3)
    expect(s.verifierNetworks).to.be.at.most(12)
  })

  it('rejects bad options with ReachabilityOptionError', () => {
    expect(() => new ReachabilityTracker({ minConfirmations: 0 })).to.throw(ReachabilityOptionError)
    expect(() => new ReachabilityTracker({ verdictTtlMs: -1 })).to.throw(ReachabilityOptionError)
  })
})

describe('OverlayPeer reachability', () => {
  const enc = new TextEncoder()
  const self: Contact = { id: keyFromBytes(enc.encode('self')), peerId: 'self', addrs: ['/ip4/10.1.0.11/tcp/4001'] }
  class Host {
    measurements: PolicyMeasurements = { spareUploadBytesPerSec: 1e6, regionSupernodes: 0, regionLeaves: 5 }
    placeOf (c: Contact): PeerPlace { return { address: undefined, asn: 0, tieKey: c.id[0] } }
    selfPlace (): PeerPlace { return { address: undefined, asn: 0, tieKey: 0 } }
    heldKeys (): Iterable<Key> { return [] }
    policyInputs (): PolicyMeasurements { return this.measurements }
  }
  const policy = { minUptimeMs: 1000, minSpareUploadBytesPerSec: 1, minSupernodesPerRegion: 1, targetLeavesPerSupernode: 1 }

  it('promotes only once its address is confirmed by two networks (one verifier is not enough)', () => {
    const p = new OverlayPeer(self, new Host(), () => 0, [], { role: 'auto', policyIntervalMs: 10_000, policy })
    p.start(0)
    p.reachabilityVerdict(0, yes('A', '198.18.1.10'))
    for (let t = 0; t <= 60_000; t += 1000) p.timer(t)
    expect(p.role).to.equal('leaf')
    expect(p.reachability(60_000).reachability).to.equal('unknown')
    p.reachabilityVerdict(60_000, yes('B', '198.18.2.10'))
    for (let t = 60_000; t <= 120_000; t += 1000) p.timer(t)
    expect(p.role).to.equal('supernode')
    expect(p.verifiesReachability).to.equal(true)
  })

  it('stays a leaf behind a NAT: its observed address was refuted', () => {
    const p = new OverlayPeer(self, new Host(), () => 0, [], { role: 'auto', policyIntervalMs: 10_000, policy })
    p.start(0)
    p.reachabilityVerdict(0, no('A', '198.18.1.10'))
    p.reachabilityVerdict(0, no('B', '198.18.2.10'))
    for (let t = 0; t <= 60_000; t += 1000) p.timer(t)
    expect(p.role).to.equal('leaf')
    expect(p.reachability(60_000).reachability).to.equal('private')
    expect(p.wantsReachVerdict(60_000, ADDR)).to.equal(false)
    expect(p.verifiesReachability).to.equal(false)
  })
})
