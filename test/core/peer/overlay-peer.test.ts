import { expect } from 'chai'
import { keyFromBytes, type Key } from '../../../src/core/ids.js'
import type { Contact } from '../../../src/core/dht/contact.js'
import { OverlayPeer, type OverlayEffect, type OverlayPeerHost, type PolicyMeasurements } from '../../../src/core/peer/overlay-peer.js'
import { OverlayOptionError, resolveOverlayOptions, type OverlayPeerInit } from '../../../src/core/peer/overlay-options.js'
import type { PeerPlace } from '../../../src/core/proximity/peer-ranking.js'
import type { DhtMessage } from '../../../src/core/messages/dht-messages.js'
import { formatIpAddress, parseIpAddress } from '../../../src/core/proximity/ip-address.js'

const enc = new TextEncoder()
const contact = (name: string, origin = false): Contact => ({ id: keyFromBytes(enc.encode(name)), peerId: name, addrs: [`/ip4/127.0.0.${name.length}/tcp/1`], ...(origin ? { origin } : {}) })
const key = (name: string): Key => keyFromBytes(enc.encode(name))

/** A host that knows nothing about places and holds `held`. */
class Host implements OverlayPeerHost {
  held: Key[] = []
  measurements: PolicyMeasurements = { reachable: false, spareUploadBytesPerSec: 0 }
  placeOf (c: Contact): PeerPlace { return { address: undefined, asn: 0, tieKey: c.id[0] } }
  selfPlace (): PeerPlace { return { address: undefined, asn: 0, tieKey: 0 } }
  heldKeys (): Iterable<Key> { return this.held }
  policyInputs (): PolicyMeasurements { return this.measurements }
}

function peer (role: OverlayPeerInit['role'], init: OverlayPeerInit = {}, bootstrap: Contact[] = []): { p: OverlayPeer, host: Host } {
  const host = new Host()
  const p = new OverlayPeer(contact(`self-${String(role)}`), host, mulberry32(7), bootstrap, { ...init, role })
  return { p, host }
}

/** A small seeded uniform [0, 1) generator (tests pass randomness in, as the simulator does). */
function mulberry32 (seed: number): () => number {
  let a = seed
  return () => {
    a = (a + 0x6D2B79F5) | 0
    let t = Math.imul(a ^ (a >>> 15), 1 | a)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const sends = (effects: OverlayEffect[]): Array<{ to: string, message: DhtMessage }> =>
  effects.flatMap(e => e.type === 'send' ? [{ to: e.to.peerId, message: e.message }] : [])

describe('core/peer/overlay-peer', () => {
  it('answers a DHT request with not-a-dht-node while it is a leaf', () => {
    const { p } = peer('leaf')
    p.start(0)
    const out = sends(p.message(10, contact('asker'), 'supernode', { type: 'ping', requestId: 7 }))
    expect(out).to.deep.equal([{ to: 'asker', message: { type: 'error', requestId: 7, code: 'not-a-dht-node' } }])
  })

  it('a supernode sheds a new leaf while the host reports full upload slots, and takes it once load falls', () => {
    const { p } = peer('supernode')
    p.start(0)
    p.reportLoad({ uploadUtilization: 1 })
    const busy = sends(p.message(10, contact('leaf-a'), 'leaf', { type: 'attach', requestId: 1 }))
    expect(busy.map(s => s.message.type)).to.deep.equal(['attach-busy'])
    p.reportLoad({ uploadUtilization: 0.2, eventLoopLagMs: 5 })
    const ok = sends(p.message(20, contact('leaf-b'), 'leaf', { type: 'attach', requestId: 2 }))
    expect(ok.map(s => s.message.type)).to.deep.equal(['attach-ok'])
    p.reportLoad({ eventLoopLagMs: 600 })
    expect(sends(p.message(30, contact('leaf-c'), 'leaf', { type: 'attach', requestId: 3 })).map(s => s.message.type)).to.deep.equal(['attach-busy'])
  })

  it('a leaf with no supernode waits attachWaitMs for one, then answers its find with nobody', () => {
    const { p } = peer('leaf', { attachWaitMs: 2000 })
    p.start(0)
    const f = p.find(100, key('item'))
    expect(f.effects.filter(e => e.type === 'providers-found')).to.have.length(0)
    expect(p.nextDeadlineMs()).to.be.at.most(2100)
    const done = p.timer(2100).filter(e => e.type === 'providers-found')
    expect(done).to.deep.equal([{ type: 'providers-found', findId: f.findId, key: key('item'), providers: [] }])
  })

  it('a leaf asks two bootstrap servers for supernodes near its id, then attaches to what they name', () => {
    const seeds = [contact('seed-1', true), contact('seed-2', true), contact('seed-3', true)]
    const { p } = peer('leaf', {}, seeds)
    const asks = sends(p.start(0)).filter(s => s.message.type === 'find-node')
    expect(asks).to.have.length(2)
    const sn = contact('supernode-1')
    const out = sends(p.message(50, seeds.find(s => s.peerId === asks[0].to) as Contact, 'seeder', { type: 'find-node-reply', requestId: asks[0].message.requestId, closer: [sn] }))
    // The supernode is tried before the seeder that named it (origins last).
    const attach = out.filter(s => s.message.type === 'attach')
    expect(attach[0].to).to.equal('supernode-1')
  })

  it('a role change withdraws the old role\'s records, answers finds in flight and re-registers held keys', () => {
    const { p, host } = peer('auto')
    host.held = [key('held')]
    p.start(0)
    const f = p.find(10, key('wanted'))
    const out = p.setRole(20, 'supernode', 'test')
    expect(out.find(e => e.type === 'role-changed')).to.deep.include({ role: 'supernode', previous: 'leaf' })
    expect(out.filter(e => e.type === 'providers-found').map(e => (e as { findId: number }).findId)).to.deep.equal([f.findId])
    expect(p.role).to.equal('supernode')
    const back = p.setRole(30, 'leaf', 'test')
    expect(back.filter(e => e.type === 'withdrawn')).to.have.length(1)
  })

  it('promotes itself when the policy says the region lacks supernodes, and not when it is unreachable', () => {
    const policy = { minUptimeMs: 1000, minSpareUploadBytesPerSec: 1, minSupernodesPerRegion: 1, targetLeavesPerSupernode: 1 }
    const reachable = peer('auto', { policyIntervalMs: 10_000, policy })
    reachable.host.measurements = { reachable: true, spareUploadBytesPerSec: 1e6, regionSupernodes: 0, regionLeaves: 5 }
    reachable.p.start(0)
    const unreachable = peer('auto', { policyIntervalMs: 10_000, policy })
    unreachable.host.measurements = { reachable: false, spareUploadBytesPerSec: 1e6, regionSupernodes: 0, regionLeaves: 5 }
    unreachable.p.start(0)
    for (let t = 0; t <= 60_000; t += 1000) { reachable.p.timer(t); unreachable.p.timer(t) }
    expect(reachable.p.role).to.equal('supernode')
    expect(unreachable.p.role).to.equal('leaf')
  })

  it('counts its region\'s leaves from the networks of the leaves attached to it: six of its own AS keep ten supernodes needed, six from afar do not', () => {
    const roles: Record<string, string> = {}
    for (const origin of ['near', 'far']) {
      const policy = { minUptimeMs: 0, minSpareUploadBytesPerSec: 1, minSupernodesPerRegion: 1, targetLeavesPerSupernode: 1, demoteSlack: 2, minTenureMs: 0 }
      const { p, host } = peer('auto', { policyIntervalMs: 10_000, policy })
      // Its own AS 64500; leaves named near-* are there too, far-* in AS 64501.
      host.placeOf = c => ({ address: undefined, asn: c.peerId.startsWith('far') ? 64501 : 64500, tieKey: c.id[0] })
      host.selfPlace = () => ({ address: undefined, asn: 64500, tieKey: 0 })
      host.measurements = { reachable: true, spareUploadBytesPerSec: 1e6, regionSupernodes: 0 }
      p.start(0)
      p.timer(10_000)
      expect(p.role).to.equal('supernode')
      for (let i = 0; i < 6; i++) {
        const ok = sends(p.message(11_000 + i, contact(`${origin}-${i}`), 'leaf', { type: 'attach', requestId: i + 1 }))
        expect(ok.map(s => s.message.type)).to.deep.equal(['attach-ok'])
      }
      // Ten supernodes in the region: six attached leaves of it stand for 6 x 10 / 3 = 20 leaves, which need 20 (no surplus).
      host.measurements = { reachable: true, spareUploadBytesPerSec: 1e6, regionSupernodes: 10 }
      for (let t = 20_000; t <= 40_000; t += 10_000) p.timer(t)
      roles[origin] = p.role
    }
    expect(roles).to.deep.equal({ near: 'supernode', far: 'leaf' })
  })

  it('reuses a lookup\'s announcers for announcerCacheTtlMs: the next find asks them again without a DHT lookup', () => {
    const announcer = contact('sn-x')
    const started = (ttlMs: number): OverlayPeer => {
      const { p } = peer('supernode', { announcerCacheTtlMs: ttlMs })
      p.start(0)
      // A DHT member the supernode learns of (any authenticated message adds it to the table).
      p.message(1, contact('dht-a'), 'supernode', { type: 'ping', requestId: 1 })
      return p
    }
    const findOnce = (p: OverlayPeer, nowMs: number): { lookups: number, asked: string[] } => {
      const f = p.find(nowMs, key('item'))
      let out = sends(f.effects)
      const lookups = out.filter(s => s.message.type === 'get-providers')
      for (const l of lookups) out = out.concat(sends(p.message(nowMs + 5, contact(l.to), 'supernode', { type: 'get-providers-reply', requestId: l.message.requestId, providers: [announcer], closer: [] })))
      const queries = out.filter(s => s.message.type === 'query')
      const done: OverlayEffect[] = []
      for (const q of queries) done.push(...p.message(nowMs + 10, contact(q.to), 'supernode', { type: 'query-reply', requestId: q.message.requestId, providers: [contact('holder-1')] }))
      expect(done.filter(e => e.type === 'providers-found' && e.findId === f.findId), 'the find is answered').to.have.length(1)
      return { lookups: lookups.length, asked: queries.map(q => q.to) }
    }
    const p = started(30_000)
    const first = findOnce(p, 1000)
    expect(first.lookups).to.be.greaterThan(0)
    expect(first.asked).to.deep.equal(['sn-x'])
    const second = findOnce(p, 20_000)
    expect(second.lookups, 'within the ttl: no lookup').to.equal(0)
    expect(second.asked, 'the announcer is still asked for its holders').to.deep.equal(['sn-x'])
    expect(findOnce(p, 40_000).lookups, 'after the ttl: a lookup again').to.be.greaterThan(0)
    const uncached = started(0)
    findOnce(uncached, 1000)
    expect(findOnce(uncached, 2000).lookups, 'ttl 0: every find looks up').to.be.greaterThan(0)
  })

  it('a find whose lookup and forward wait on a peer that disconnects moves on at once, not at the request timeout', () => {
    const { p } = peer('supernode', { requestTimeoutMs: 8000, announcerCacheTtlMs: 0 })
    p.start(0)
    p.message(1, contact('dht-a'), 'supernode', { type: 'ping', requestId: 1 })
    p.message(1, contact('dht-b'), 'supernode', { type: 'ping', requestId: 2 })
    const f = p.find(100, key('item'))
    const lookups = sends(f.effects).filter(s => s.message.type === 'get-providers')
    expect(lookups.map(l => l.to).sort()).to.deep.equal(['dht-a', 'dht-b'])
    // dht-a answers and names an announcer; dht-b's connection closes with its request in flight.
    const a = lookups.find(l => l.to === 'dht-a') as { message: DhtMessage }
    const afterA = p.message(110, contact('dht-a'), 'supernode', { type: 'get-providers-reply', requestId: a.message.requestId, providers: [contact('sn-x')], closer: [] })
    const forward = sends(afterA).filter(s => s.message.type === 'query')
    const afterB = p.peerDisconnected(120, contact('dht-b'))
    const all = [...afterA, ...afterB]
    const forwards = [...forward, ...sends(afterB).filter(s => s.message.type === 'query')]
    expect(forwards.map(q => q.to), 'the lookup ended without dht-b and its announcer is asked').to.deep.equal(['sn-x'])
    expect(all.some(e => e.type === 'providers-found')).to.equal(false)
    // Now the announcer disconnects with the forward in flight: the find is answered with what it has, at once.
    const done = p.peerDisconnected(130, contact('sn-x')).filter(e => e.type === 'providers-found' && e.findId === f.findId)
    expect(done, 'answered at 130 ms, not at 8 s').to.have.length(1)
  })

  it('ranks equally near providers by the host\'s ALTO cost when it has one, else by tie key', () => {
    const key1 = key('alto-item')
    // Two leaves in different /16s of no known AS (equally near to a self with no address); the ISP's map makes 10.2.x cheaper.
    const leaves = [contact('leaf-aa'), contact('leaf-bbbbbb')]
    const addrOf = new Map([['leaf-aa', parseIpAddress('10.1.0.1')], ['leaf-bbbbbb', parseIpAddress('10.2.0.1')]])
    const found = (withCost: boolean): string[] => {
      const host = new Host()
      host.placeOf = c => ({ address: addrOf.get(c.peerId), asn: 0, tieKey: c.peerId === 'leaf-aa' ? 1 : 2 })
      if (withCost) (host as OverlayPeerHost).altoCost = (_from, to) => to !== undefined && formatIpAddress(to).startsWith('10.2.') ? 1 : 10
      const p = new OverlayPeer(contact('self-sn'), host, mulberry32(3), [], { role: 'supernode' })
      p.start(0)
      for (const [i, l] of leaves.entries()) {
        p.message(1, l, 'leaf', { type: 'attach', requestId: 10 + i })
        p.message(2, l, 'leaf', { type: 'register', requestId: 20 + i, keys: [key1] })
      }
      const f = p.find(3, key1)
      const done = f.effects.find(e => e.type === 'providers-found')
      return done?.type === 'providers-found' ? done.providers.map(c => c.peerId) : []
    }
    expect(found(false)).to.deep.equal(['leaf-aa', 'leaf-bbbbbb'])
    expect(found(true)).to.deep.equal(['leaf-bbbbbb', 'leaf-aa'])
  })

  it('rejects bad options with OverlayOptionError', () => {
    expect(() => resolveOverlayOptions({ k: 0 })).to.throw(OverlayOptionError, /k must be an integer >= 1/)
    expect(() => resolveOverlayOptions({ requestTimeoutMs: -1 })).to.throw(OverlayOptionError, /requestTimeoutMs/)
    expect(resolveOverlayOptions({ requestTimeoutMs: 3000 }).queryTimeoutMs).to.equal(6000)
  })
})
